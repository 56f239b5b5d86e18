"""Demonstrations in robomimic's HDF5 layout, the format robosuite's users exchange them in.

    data                      attrs: total (transitions), env_args (JSON: env_name, type 1 = robosuite, env_kwargs)
    data/demo_<k>             attrs: num_samples, model_file (the MuJoCo XML the demo ran in)
        actions  [T, A]       rewards [T]    dones [T] (1 at the demo's last step)    states [T, S] (flat MuJoCo)
        obs/<key> [T, ...]    next_obs/<key> [T, ...]: <camera>_image (uint8 HxWx3), robot0_eef_pos, ...
    mask/<filter>             demo names (bytes), e.g. mask/train

robosuite renders upside down (its IMAGE_CONVENTION "opengl"), and so are the images of robomimic's own
datasets; `data.attrs["image_convention"]` says which way a file's images are, "opencv" (upright, what this
project writes and its agents see) or "opengl" (the default for a file that does not say).
"""

from __future__ import annotations

# Imports inside functions: h5py, the atomic writer and the keys, when a file is read or written.

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from wsa_robot.core.errors import UserError

IMAGE_SUFFIX = "_image"  # robomimic's name of a camera's RGB key: agentview -> agentview_image
UPRIGHT, UPSIDE_DOWN = "opencv", "opengl"  # robosuite's macros.IMAGE_CONVENTION values
ROBOSUITE_ENV_TYPE = 1  # robomimic's EnvType.ROBOSUITE_TYPE
OBJECT = "object"  # robomimic's key of the object state (PRIVILEGED: the state oracle's token, encoders=state)


@dataclass
class Episode:
    """One demonstration as recorded: obs[key] has T+1 entries (the last is the final next observation)."""
    actions: np.ndarray                      # [T, A] float
    rewards: np.ndarray                      # [T]
    obs: dict[str, np.ndarray]               # robomimic keys: <camera>_image [T+1, H, W, 3] uint8, proprio keys
    states: np.ndarray | None = None         # [T, S] flat MuJoCo states before each action
    success: bool = True
    model_file: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(self.actions)


def write_demos(path: Path, episodes: Sequence[Episode], env_args: dict[str, Any],
                attrs: dict[str, Any] | None = None) -> None:
    """Write `episodes` as demo_0..demo_{n-1}, images upright (image_convention "opencv"), each image key
    gzip-compressed per frame. Written to a temp file and renamed: a stopped recording leaves no half file."""
    import h5py

    from wsa_robot.core.atomic import atomic_path

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        data = f.create_group("data")
        names = []
        for k, ep in enumerate(episodes):
            name = f"demo_{k}"
            names.append(name)
            g = data.create_group(name)
            g.attrs["num_samples"] = ep.length
            g.attrs["success"] = bool(ep.success)
            if ep.model_file is not None:
                g.attrs["model_file"] = ep.model_file
            for key, value in ep.attrs.items():
                g.attrs[key] = value
            g.create_dataset("actions", data=np.asarray(ep.actions, np.float64))
            g.create_dataset("rewards", data=np.asarray(ep.rewards, np.float64))
            dones = np.zeros(ep.length, np.int64)
            dones[-1] = 1
            g.create_dataset("dones", data=dones)
            if ep.states is not None:
                g.create_dataset("states", data=np.asarray(ep.states, np.float64))
            for group, window in (("obs", slice(0, -1)), ("next_obs", slice(1, None))):
                og = g.create_group(group)
                for key, value in ep.obs.items():
                    value = np.asarray(value)[window]
                    image = value.dtype == np.uint8 and value.ndim == 4
                    og.create_dataset(key, data=value, compression="gzip" if image else None,
                                      chunks=(1, *value.shape[1:]) if image else None)
        data.attrs["total"] = int(sum(ep.length for ep in episodes))
        data.attrs["env_args"] = json.dumps(env_args)
        data.attrs["image_convention"] = UPRIGHT
        for key, value in (attrs or {}).items():
            data.attrs[key] = value
        f.create_dataset("mask/train", data=np.array(names, dtype="S"))


def _open(path: Path):
    import h5py

    path = Path(path)
    if not path.is_file():
        raise UserError(f"no demonstrations file at {path}; record one with `wsa-robot demos record --task TASK "
                        f"-n N --out {path}`")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise UserError(f"{path} is not an HDF5 file ({e}); give a robomimic-format .hdf5 file") from None
    if "data" not in f or not any(k.startswith("demo") for k in f["data"]):
        f.close()
        raise UserError(f"{path} holds no robomimic demonstrations (no data/demo_* group)")
    return f


def demo_names(f) -> list[str]:
    """The file's demos in their numeric order (demo_2 before demo_10), as robomimic sorts them."""
    names = [k for k in f["data"] if k.startswith("demo")]
    return sorted(names, key=lambda n: (int(n.rsplit("_", 1)[1]) if n.rsplit("_", 1)[-1].isdigit() else 1 << 62, n))


def file_info(path: Path) -> dict[str, Any]:
    """What `wsa-robot demos show` prints: the file's attributes and one row per demo."""
    with _open(path) as f:
        data = f["data"]
        env_args = json.loads(data.attrs.get("env_args", "{}"))
        rows = []
        for name in demo_names(f):
            g = data[name]
            obs = g["obs"]
            rows.append({"demo": name, "length": int(g.attrs.get("num_samples", len(g["actions"]))),
                         "return": float(np.sum(g["rewards"])) if "rewards" in g else None,
                         "success": bool(g.attrs["success"]) if "success" in g.attrs else None,
                         "cameras": sorted(k[:-len(IMAGE_SUFFIX)] for k in obs if k.endswith(IMAGE_SUFFIX))})
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.attrs.items()
                 if k not in ("env_args",)}
        return {"env_name": env_args.get("env_name"), "env_args": env_args, "attrs": attrs, "demos": rows}


@dataclass
class Transitions:
    """The demos of a file as our env's observations: obs[key] [T+1, ...] per demo, keys `<camera>` (upright
    uint8 images) and `proprio`; actions [T, A]; rewards [T]."""
    obs: list[dict[str, np.ndarray]]
    actions: list[np.ndarray]
    rewards: list[np.ndarray]
    names: list[str]

    @property
    def steps(self) -> int:
        return int(sum(len(a) for a in self.actions))


def read_transitions(path: Path, cameras: Sequence[str], proprio_keys: Sequence[str], n: int = 0,
                     state: bool = False) -> Transitions:
    """The first `n` demos of a robomimic file (0: all), observations as the run's env gives them: each camera
    upright, `proprio` the proprio keys concatenated, and with `state` the file's PRIVILEGED object state
    (robomimic's `object` key) as `state`. A demo without next_obs loses its last step (its next observation
    is not in the file)."""
    from wsa_robot.core.keys import PROPRIO

    with _open(path) as f:
        data = f["data"]
        upside_down = _text(data.attrs.get("image_convention", UPSIDE_DOWN)) == UPSIDE_DOWN
        names = _checked(f, path, cameras, proprio_keys, n, state)
        out = Transitions([], [], [], [])
        for name in names:
            g = data[name]
            has_next = "next_obs" in g

            def frames(key: str) -> np.ndarray:
                seq = np.asarray(g["obs"][key])
                if has_next:
                    seq = np.concatenate([seq, np.asarray(g["next_obs"][key][-1:])])
                return seq

            obs = {}
            for camera in cameras:
                images = frames(camera + IMAGE_SUFFIX)
                obs[camera] = np.ascontiguousarray(images[:, ::-1] if upside_down else images)
            vectors = [frames(k) for k in proprio_keys]
            obs[PROPRIO] = np.concatenate([v.reshape(len(v), -1) for v in vectors], axis=1).astype(np.float32)
            if state:
                obs["state"] = frames(OBJECT).astype(np.float32)
            steps = len(next(iter(obs.values()))) - 1
            actions = np.asarray(g["actions"], np.float32)[:steps]
            rewards = np.asarray(g["rewards"], np.float32)[:steps] if "rewards" in g else np.zeros(steps, np.float32)
            if steps < 1:
                continue
            out.obs.append(obs)
            out.actions.append(actions)
            out.rewards.append(rewards)
            out.names.append(name)
        return out


def read_states(path: Path, n: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(states [T, S], actions [T, A]) of the first `n` demos (0: all): the flat MuJoCo state before each action,
    which a robosuite env can be put back into (demos/starts.py). One line if a demo has no states."""
    with _open(path) as f:
        names = demo_names(f)
        names = names[:n] if n else names
        out = []
        for name in names:
            g = f["data"][name]
            if "states" not in g or len(g["states"]) == 0:
                raise UserError(f"{path}: {name} has no `states` (flat MuJoCo states), which demo_starts needs; "
                                "record the demos with `wsa-robot demos record`, or set demo_starts=0")
            out.append((np.asarray(g["states"], np.float64), np.asarray(g["actions"], np.float32)))
        return out


def check_file(path: Path, cameras: Sequence[str], proprio_keys: Sequence[str], n: int = 0,
               state: bool = False) -> None:
    """One line if the file cannot give a run these observations (or `n` demos)."""
    with _open(path) as f:
        _checked(f, path, cameras, proprio_keys, n, state)


def _checked(f, path: Path, cameras: Sequence[str], proprio_keys: Sequence[str], n: int, state: bool) -> list[str]:
    """The names of the demos to read (the first `n`; 0: all), once the file is known to have what is read."""
    names = demo_names(f)
    if n and n > len(names):
        raise UserError(f"demos_n={n} but {path} holds {len(names)} demos; record more "
                        f"(`wsa-robot demos record ... -n {n}`) or lower demos_n")
    names = names[:n] if n else names
    for name in names:
        group = f["data"][name]
        if "obs" not in group or "actions" not in group:
            raise UserError(f"{path}: {name} has no obs or actions; it is not a robomimic demo")
        seen = group["obs"]
        missing = [k for k in [c + IMAGE_SUFFIX for c in cameras] + list(proprio_keys) if k not in seen]
        if state and OBJECT not in seen:
            raise UserError(f"{path} has no object state ({OBJECT!r} observations), which the PRIVILEGED oracle "
                            "(encoders=state) reads; record the demos with `wsa-robot demos record`")
        if missing:
            raise UserError(f"{path}: {name} has no {missing[0]!r} observations (it has {', '.join(sorted(seen))}); "
                            "record demos with the run's cameras, or set cameras=... to ones the file has")
    return names


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
