"""Where zoo weights are found on this machine, and the manifest of checksums `wsa-robot weights fetch` records;
nothing here downloads or imports a model library (fetch.py downloads).

Search order: the run config's `weights_dir`, then $WSA_WEIGHTS_DIR, then the default folder
(~/.cache/wsa-robot/weights, where `wsa-robot weights fetch` puts them when neither is set), then the model's
own cache (the Hugging Face hub cache by hub id; ~/.r3m for R3M, where the official loader puts it).
"""

from __future__ import annotations

# Imports inside functions: torch and huggingface_hub, loaded only when weights are looked up in a hub cache or loaded.

import hashlib
import json
import os
import struct
from pathlib import Path

from wsa_robot.core.errors import UserError

ENV_VAR = "WSA_WEIGHTS_DIR"
MANIFEST = "manifest.json"  # in a weights folder: {"r3m_18/model.pt": {"sha256": ..., "size": ..., "url": ...}}
HF_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                   "pytorch_model.bin.index.json")


def default_dir() -> Path:
    """The weights folder used when neither the config key weights_dir nor $WSA_WEIGHTS_DIR is set."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "wsa-robot" / "weights"


def search_dirs(weights_dir: str | Path | None) -> list[tuple[str, Path]]:
    """(label, folder) pairs to search, in order; folders that do not exist are kept so messages can name them."""
    out = []
    if weights_dir:
        out.append(("weights_dir", Path(weights_dir).expanduser()))
    env = os.environ.get(ENV_VAR)
    if env:
        out.append((ENV_VAR, Path(env).expanduser()))
    if all(path != default_dir() for _, path in out):
        out.append(("default", default_dir()))
    return out


def target_dir(weights_dir: str | Path | None) -> Path:
    """Where `wsa-robot weights fetch` writes: the first folder searched (weights_dir, $WSA_WEIGHTS_DIR, default)."""
    return search_dirs(weights_dir)[0][1]


def fetch_command(name: str, weights_dir: str | Path | None) -> str:
    """The one command that downloads `name`'s weights to where this run looks first."""
    return f"wsa-robot weights fetch {name}" + (f" --dir {weights_dir}" if weights_dir else "")


def searched_text(weights_dir: str | Path | None) -> str:
    """A short phrase for messages: which folders were searched, flagging the ones that do not exist."""
    dirs = search_dirs(weights_dir)
    parts = [f"{label}={path}" + ("" if path.is_dir() else " (does not exist)") for label, path in dirs]
    return "searched " + ", ".join(parts)


def offline() -> bool:
    """Hugging Face's own offline switches, read now (not at import time, as huggingface_hub does)."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


# ---- checksums ------------------------------------------------------------------------------------------------

def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, dict]:
    data = read_json(folder / MANIFEST)
    return data if isinstance(data, dict) else {}


def _recorded(path: Path) -> tuple[Path, str, dict] | None:
    """(weights folder, key, entry) when a manifest in one of `path`'s two parents records `path`."""
    for folder in list(path.parents)[:2]:
        key = path.relative_to(folder).as_posix()
        entry = read_manifest(folder).get(key)
        if isinstance(entry, dict) and entry.get("sha256"):
            return folder, key, entry
    return None


def check_recorded(path: Path) -> bool:
    """Check a weights file against the sha256 that `weights fetch` recorded for it; False when none is recorded
    (a file put there by hand). A mismatch (a changed or damaged file) is a UserError naming the fix."""
    hit = _recorded(Path(path))
    if hit is None:
        return False
    folder, key, entry = hit
    actual = sha256_file(Path(path))
    if actual != entry["sha256"]:
        raise UserError(f"{path} does not match the sha256 recorded when it was fetched ({folder / MANIFEST}: "
                        f"{entry['sha256'][:12]}..., file: {actual[:12]}...); delete it and fetch it again")
    return True


def check_recorded_folder(folder: Path) -> None:
    """`check_recorded` for every file of a fetched model folder that the manifest records."""
    for entry in sorted(p for p in folder.iterdir() if p.is_file()):
        check_recorded(entry)


# ---- R3M ------------------------------------------------------------------------------------------------------

def r3m_candidates(depth: int, weights_dir: str | Path | None) -> list[Path]:
    """`r3m_<depth>.pt` or the official download folder `r3m_<depth>/model.pt`, in each search folder."""
    out = []
    for _, folder in search_dirs(weights_dir):
        out += [folder / f"r3m_{depth}.pt", folder / f"r3m_{depth}" / "model.pt"]
    out.append(Path.home() / ".r3m" / f"r3m_{depth}" / "model.pt")
    return out


def find_r3m(depth: int, weights_dir: str | Path | None) -> Path | None:
    return next((p for p in r3m_candidates(depth, weights_dir) if p.is_file()), None)


# ---- Hugging Face ---------------------------------------------------------------------------------------------

def hf_folder_name(hub_id: str) -> str:
    """The folder name a `save_pretrained` copy goes under: the hub id's last part (dinov2-small)."""
    return hub_id.rsplit("/", 1)[-1]


def hf_cache_dir() -> Path:
    """huggingface_hub's cache folder (HF_HUB_CACHE / HF_HOME, as that library resolves them)."""
    try:
        from huggingface_hub import constants
    except ImportError:  # transformers (which brings huggingface_hub) not installed: no cache to look in
        return Path("~/.cache/huggingface/hub").expanduser()
    return Path(constants.HF_HUB_CACHE)


def hf_cache_snapshot(hub_id: str) -> Path | None:
    """The cached snapshot folder of `hub_id` holding a config.json, if the hub cache has one."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    hit = try_to_load_from_cache(hub_id, "config.json", cache_dir=hf_cache_dir())
    return Path(hit).parent if isinstance(hit, str) else None


def find_hf(hub_id: str, weights_dir: str | Path | None) -> Path | None:
    """A local folder for `hub_id`: `<search folder>/<last part of id>/`, else the hub cache's snapshot."""
    for _, folder in search_dirs(weights_dir):
        candidate = folder / hf_folder_name(hub_id)
        if candidate.is_dir():
            return candidate
    return hf_cache_snapshot(hub_id)


def hf_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any((folder / f).is_file() for f in HF_WEIGHT_FILES)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _safetensors_counts(path: Path) -> dict[str, int]:
    """Elements per tensor from a safetensors header (8-byte length, then JSON), without reading the data."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    counts = {}
    for key, meta in header.items():
        if key != "__metadata__":
            size = 1
            for d in meta["shape"]:
                size *= d
            counts[key] = size
    return counts


def hf_num_parameters(folder: Path, skip_prefixes: tuple[str, ...] = ()) -> int | None:
    """Stored parameter count of a `save_pretrained` folder (tensors under `skip_prefixes` left out)."""
    counts: dict[str, int] = {}
    try:
        if (folder / "model.safetensors").is_file():
            counts = _safetensors_counts(folder / "model.safetensors")
        elif (folder / "model.safetensors.index.json").is_file():
            shards = set(read_json(folder / "model.safetensors.index.json").get("weight_map", {}).values())
            for shard in shards:
                counts.update(_safetensors_counts(folder / shard))
        elif (folder / "pytorch_model.bin").is_file():
            import torch

            state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True, mmap=True)
            counts = {k: v.numel() for k, v in state.items()}
        else:
            return None
    except (OSError, ValueError, KeyError, RuntimeError, struct.error):
        return None
    return sum(n for k, n in counts.items() if not k.startswith(skip_prefixes)) or None
