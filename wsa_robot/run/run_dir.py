"""A run directory: resolved config, TensorBoard logs, atomic checkpoints, eval history, videos."""

from __future__ import annotations

# Imports inside functions: run_lock and algos, needed only when a run is written or its checkpoint checked.

import json
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsa_robot.core.atomic import atomic_paths, write_json, write_text
from wsa_robot.config import RunConfig, dump_config, read_run_config
from wsa_robot.core.errors import SaveError, UserError
from wsa_robot.run.replay_file import save_replay
from wsa_robot.core.run_files import broken, read_rows, read_state

RUNS_ROOT = Path("runs")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def eval_owed(evals: list[dict], step: int | None, every: int) -> bool:
    """A periodic eval (every `every` steps) fell due by `step` and has no row in `evals`: a stop cut it off.
    At the step budget too: SIGTERM during the last eval leaves a finished run whose curve lacks its end."""
    due = step // every * every if every and step else 0
    return due > 0 and (not evals or evals[-1]["step"] < due)


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "config.yaml"

    @property
    def model_file(self) -> Path:
        return self.path / "checkpoints" / "model.zip"

    @property
    def replay_file(self) -> Path:
        return self.path / "checkpoints" / "replay_buffer.pkl"

    @property
    def state_file(self) -> Path:
        return self.path / "checkpoints" / "state.json"

    @property
    def evals_file(self) -> Path:
        return self.path / "evals.json"

    @property
    def events_file(self) -> Path:
        return self.path / "events.json"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tb"

    @property
    def videos(self) -> Path:
        return self.path / "videos"

    def write_config(self, cfg: RunConfig) -> None:
        write_text(self.config_file, dump_config(cfg))

    def read_config(self) -> RunConfig:
        if not self.config_file.exists():
            raise UserError(f"{self.path}: not a run directory (no config.yaml); pass a folder under runs/ "
                            "(`wsa-robot runs` lists them)")
        return read_run_config(self.config_file)

    def check(self) -> None:
        """Read every file the run dir has (config, state, evals, events, checkpoint), so a broken one stops a
        command at once with one line naming it (a UserError), before anything loads or trains."""
        cfg = self.read_config()
        if self.state_file.exists():
            self.read_state()
        self.read_evals()
        self.read_events()
        if self.model_file.exists():
            self._check_algo(cfg.algo, self._checkpoint_data())

    def _check_algo(self, algo: str, data: dict) -> None:
        """config.yaml and the checkpoint name the same kind of learner (a hand edit can part them)."""
        from wsa_robot.agents.algos import off_policy

        saved_off_policy = "replay_buffer_class" in data  # SB3 saves it for off-policy learners only
        if saved_off_policy != off_policy(algo):
            kind = "an off-policy (SAC)" if saved_off_policy else "an on-policy (PPO)"
            raise broken(self.config_file, f"says algo: {algo}, but the checkpoint holds {kind} agent",
                         "set algo back to the one the run was trained with, or restore the file from a copy")

    def save_checkpoint(self, model: Any, with_replay: bool = True, wall_s: float | None = None,
                        steps: int | None = None) -> None:
        """Replay buffer, model and state.json, all written to temp files first and renamed into place only
        once every one is whole, so a save that fails (a full disk, a lost permission) keeps the previous
        checkpoint as it was and raises SaveError, one line saying what, where and how much. `wall_s`: training
        wall time so far, over every resume (state.json keeps it for `wsa-robot runs` and the next resume).
        `steps`: the step count to save, when it is not the model's (PPO mid-rollout: CheckpointCallback)."""
        replay = with_replay and getattr(model, "replay_buffer", None) is not None
        files = [self.replay_file] * replay + [self.model_file, self.state_file]
        live_steps = model.num_timesteps
        saved_steps = live_steps if steps is None else steps
        state = {"num_timesteps": int(saved_steps), "saved_at": time.time()}
        state = state if wall_s is None else {**state, "wall_s": round(wall_s, 1)}
        try:
            with atomic_paths(files) as temps:
                if replay:
                    with open(temps[0], "wb") as f:
                        save_replay(model.replay_buffer, f)
                model.num_timesteps = saved_steps
                try:
                    with open(temps[-2], "wb") as f:
                        model.save(f)
                finally:
                    model.num_timesteps = live_steps  # periodic checkpoints: training goes on
                temps[-1].write_text(json.dumps(state, indent=2) + "\n")
        except OSError as e:
            raise self._save_error(e) from None

    def _save_error(self, error: OSError) -> SaveError:
        folder = self.model_file.parent
        try:
            kept = self.checkpoint_step()
        except UserError:
            kept = None
        previous = sum(p.stat().st_size for p in (self.replay_file, self.model_file) if p.exists())
        try:
            free = f"{_size(shutil.disk_usage(folder).free)} free there"
        except OSError:
            free = "free space unknown"
        need = f"needs about {_size(previous)}, the size of the last one" if previous else "needs a few MB"
        what = error.strerror or type(error).__name__
        keep = (f"the checkpoint of step {kept} is kept" if kept is not None else "no checkpoint was saved before")
        return SaveError(f"could not save the checkpoint in {folder} ({what}: a checkpoint {need}; {free}); {keep}; "
                         f"fix it, then resume with: wsa-robot train --resume {self.path}")

    def checked_model_file(self) -> Path:
        """The checkpoint, after checking it exists and is a readable SB3 zip."""
        self._checkpoint_data()
        return self.model_file

    def _checkpoint_data(self) -> dict:
        if not self.model_file.exists():
            raise UserError(f"{self.path}/checkpoints: no checkpoint (model.zip) yet; train first or pass "
                            "another run dir")
        fix = "delete it to restart the run from step 0, or restore it from a copy"
        try:
            with zipfile.ZipFile(self.model_file) as z:
                data = json.loads(z.read("data"))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            what = "not a zip" if isinstance(e, zipfile.BadZipFile) else \
                "no 'data' entry" if isinstance(e, KeyError) else type(e).__name__
            raise broken(self.model_file, f"checkpoint is corrupt ({what})", fix) from None
        steps = data.get("num_timesteps") if isinstance(data, dict) else None
        if not isinstance(steps, int) or steps < 0:
            raise broken(self.model_file, "checkpoint is corrupt (no step count)", fix)
        return data

    def read_state(self) -> dict:
        """checkpoints/state.json, checked; FileNotFoundError when there is none (callers check exists)."""
        return read_state(self.state_file)

    def read_evals(self) -> list[dict]:
        return read_rows(self.evals_file, ("step", "mean_return")) if self.evals_file.exists() else []

    def wall_s(self) -> float | None:
        """Training wall time so far: state.json's (written with every checkpoint), else the last eval's."""
        state = self.read_state() if self.state_file.exists() else {}
        if isinstance(state.get("wall_s"), (int, float)):
            return float(state["wall_s"])
        evals = self.read_evals()
        return float(evals[-1]["wall_s"]) if evals and isinstance(evals[-1].get("wall_s"), (int, float)) else None

    def append_eval(self, row: dict) -> None:
        write_json(self.evals_file, self.read_evals() + [row])

    def eval_owed(self, every: int, step: int) -> bool:
        """eval_owed for this run's evals, at `step`."""
        return eval_owed(self.read_evals(), step, every)

    def drop_evals_after(self, step: int) -> None:
        """Forget evals of steps past the checkpoint a run resumes from: a kill lost those steps."""
        evals = self.read_evals()
        if any(r["step"] > step for r in evals):
            write_json(self.evals_file, [r for r in evals if r["step"] <= step])

    def read_events(self) -> list[dict]:
        return read_rows(self.events_file, ("action", "tokens")) if self.events_file.exists() else []

    def append_event(self, row: dict) -> None:
        """Token-set changes ({step, time, action, tokens}), in order."""
        write_json(self.events_file, self.read_events() + [row])

    def checkpoint_step(self) -> int | None:
        """num_timesteps stored in the checkpoint itself (state.json may lag it by a kill); None: no checkpoint."""
        if not self.model_file.exists():
            return None
        return int(self._checkpoint_data()["num_timesteps"])

    def discard_if_unstarted(self) -> bool:
        """Remove a new run's folder that holds nothing of a run yet (a start that failed or was stopped before
        config.yaml): the same command then starts cleanly, and no empty folder is left in runs/."""
        from wsa_robot.demos.source import RUN_FILE
        from wsa_robot.run.run_lock import LOCK_NAME, release_writer_lock

        if not self.path.is_dir() or self.config_file.exists():
            return False
        if any(p.name not in (LOCK_NAME, "tb", RUN_FILE) for p in self.path.iterdir()):
            return False
        release_writer_lock(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        return not self.path.exists()

    def remove_temp_files(self) -> list[Path]:
        """Delete `.NAME.*.tmp` files that a killed atomic write left behind (never read: a rename is the commit)."""
        # this run's own folders only: a run dir must never touch the files of a run inside it
        leftovers = [p for folder in (self.path, self.path / "checkpoints") for p in folder.glob(".*.tmp")
                     if p.is_file()]
        for p in leftovers:
            p.unlink(missing_ok=True)
        return leftovers


def train_child_command(path: Path, total_steps: int, new_run: list[str],
                        torch_threads: int | None = None) -> list[str]:
    """`wsa-robot train` for a child process (bench, learn_lift): `--resume` when `path` already holds a run
    (its own config, the budget `total_steps`; one killed before its first checkpoint restarts from step 0),
    else a new run in `path` with the `new_run` arguments (its budget among them). `torch_threads`, when
    given, applies to both (a resume may run on more or fewer cores than the run began with)."""
    base = [sys.executable, "-m", "wsa_robot.cli.commands", "train", "--no-progress"]
    threads = [] if torch_threads is None else [f"torch_threads={torch_threads}"]
    if RunDir(path).config_file.exists():
        return base + ["--resume", str(path), f"total_steps={total_steps}", *threads]
    return base + [f"run_dir={path}", *new_run, *threads]


def new_run_dir(cfg: RunConfig) -> RunDir:
    """The folder a new run writes, checked and made before any work starts, with its writer lock held
    (run_lock.py): not a file, not a folder that holds a run or other runs, creatable and writable (tried).
    Nothing a run needs is written yet, so a start that fails later leaves a folder the same command accepts."""
    from wsa_robot.run.run_lock import hold_writer_lock

    if cfg.run_dir:
        path = Path(cfg.run_dir)
        _refuse_a_run(path)
    else:
        path = RUNS_ROOT / cfg.task / time.strftime("%Y%m%d-%H%M%S")
        while path.exists():
            path = path.with_name(path.name + "-1")
    _check_new_run_path(path)
    hold_writer_lock(path)
    _refuse_a_run(path)  # another process may have made a run here between the check and the lock
    return RunDir(path)


def _refuse_a_run(path: Path) -> None:
    if (path / "config.yaml").exists():
        raise UserError(f"{path} already holds a run; resume it with `wsa-robot train --resume {path}`")


def _check_new_run_path(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UserError(f"run_dir {path} is a file, not a folder; choose another run_dir")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UserError(f"run_dir {path}: {parent} is a file, not a folder; choose another run_dir")
    others = _runs_inside(path)
    if others:
        raise UserError(f"run_dir {path} holds other runs ({', '.join(others)}); give each run a folder of its "
                        "own, e.g. run_dir=" + str(path / "new-run"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check."):
            pass
    except OSError as e:
        raise UserError(f"run_dir {path} cannot be written ({e.strerror or e}); choose a folder you can write, "
                        "e.g. run_dir=runs/my-run") from None


def _runs_inside(path: Path, depth: int = 3) -> list[str]:
    """Run dirs (a config.yaml and a checkpoints/ or evals.json beside it) up to `depth` levels below `path`."""
    found: list[str] = []
    if not path.is_dir():
        return found
    for level in range(1, depth + 1):
        for cfg in sorted(path.glob("/".join(["*"] * level) + "/config.yaml")):
            if (cfg.parent / "checkpoints").is_dir() or (cfg.parent / "evals.json").exists():
                found.append(str(cfg.parent.relative_to(path)))
    return found[:3] + (["..."] if len(found) > 3 else [])


def existing_run_dir(path: Path | str | None) -> RunDir:
    """The given run dir with every file checked (RunDir.check); None = the most recently started run under
    runs/."""
    if path is None:
        configs = sorted(RUNS_ROOT.glob("**/config.yaml"), key=lambda p: p.stat().st_mtime)
        if not configs:
            raise UserError("no runs under ./runs; train one with `wsa-robot train --task Lift` or pass RUN_DIR")
        run = RunDir(configs[-1].parent)
    else:
        path = Path(path)
        if not path.is_dir():
            raise UserError(f"run directory {path} does not exist; pass a folder under runs/ "
                            "(`wsa-robot runs` lists them)")
        run = RunDir(path)
    run.check()
    return run
