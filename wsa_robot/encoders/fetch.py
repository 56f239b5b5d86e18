"""`wsa-robot weights fetch`: download zoo weights from their official sources (sources.py) into a weights folder.

R3M: plain HTTP, resumed with a Range request from the `.part` file an interrupted download leaves, renamed
into place only when complete. Hugging Face models: huggingface_hub's `hf_hub_download` into
`<folder>/<repo name>/` (it resumes its own `.incomplete` files), only the files a `save_pretrained` folder
needs. Either way the sha256 of every file lands in `<folder>/manifest.json`, checked again when the encoder
loads (weights.check_recorded); a hub file whose LFS sha256 the hub states is checked against it too.
Offline (`--offline`, HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE) nothing is downloaded and the error says what
to download from where, and where to put it.
"""

from __future__ import annotations

# Imports inside functions: huggingface_hub, loaded only when weights are fetched.

import os
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from wsa_robot.core.atomic import write_json
from wsa_robot.encoders.sources import HUB_CONFIG_FILES, HUB_WEIGHT_FILES, SOURCES, HubSource, Source, UrlSource
from wsa_robot.encoders.weights import (MANIFEST, hf_complete, offline as env_offline, read_manifest, sha256_file,
                                        target_dir)
from wsa_robot.core.errors import UserError

CHUNK = 1 << 20
TIMEOUT_S = 60


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


def record(folder: Path, key: str, path: Path, source: str, sha256: str | None = None, **extra) -> str:
    """Put `path`'s sha256 (computed unless given), size and source in `folder`/manifest.json; returns the sha."""
    sha = sha256 or sha256_file(path)
    manifest = read_manifest(folder)
    manifest[key] = {"sha256": sha, "size": path.stat().st_size, "source": source,
                     "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds"), **extra}
    write_json(folder / MANIFEST, dict(sorted(manifest.items())))
    return sha


# ---- plain HTTP (R3M) -----------------------------------------------------------------------------------------

def http_download(url: str, dest: Path, progress: Progress, label: str, by_hand: str) -> None:
    """`url` -> `dest`, resumable: bytes already in `dest`.part are asked for no more (Range); the file appears
    at `dest` only when complete. `by_hand` is the address a user would download from, for error messages."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left after what the .part holds: it is complete
            os.replace(part, dest)
            return
        raise UserError(f"downloading {by_hand} failed: HTTP {e.code} {e.reason}; download it by hand and put it "
                        f"at {dest}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise UserError(f"could not reach {by_hand} ({reason}); download it by hand and put it at {dest}") from None
    with response:
        if "text/html" in response.headers.get("Content-Type", ""):
            raise UserError(f"{by_hand} answered with a web page, not the file (Google Drive's quota or "
                            f"confirmation page); open it in a browser and put the file at {dest}")
        resumed = response.status == 206
        length = int(response.headers.get("Content-Length") or 0)
        total = (have if resumed else 0) + length or None
        task = progress.add_task(label, total=total, completed=have if resumed else 0)
        with open(part, "ab" if resumed else "wb") as f:
            while block := response.read(CHUNK):
                f.write(block)
                progress.update(task, advance=len(block))
    if total is not None and part.stat().st_size != total:
        raise UserError(f"download of {by_hand} stopped at {part.stat().st_size} of {total} bytes; run the same "
                        f"command again to resume it ({part})")
    os.replace(part, dest)


def fetch_url_source(src: UrlSource, folder: Path, progress: Progress, offline: bool) -> list[Path]:
    out = []
    for file, _ in src.files:
        dest = folder / src.folder / file
        key = dest.relative_to(folder).as_posix()
        if dest.is_file():
            if key not in read_manifest(folder):  # put there by hand: record it from now on
                record(folder, key, dest, f"{src.published(file)} (found in place, not downloaded)")
            out.append(dest)
            continue
        if offline:
            raise UserError(f"{src.name}: offline, nothing downloaded: download {src.published(file)} "
                            f"({src.page}) and put it at {dest}")
        http_download(src.download_url(file), dest, progress, f"{src.name} {file}", src.published(file))
        record(folder, key, dest, src.published(file))
        out.append(dest)
    return out


# ---- Hugging Face hub -----------------------------------------------------------------------------------------

def hub_endpoint() -> str:
    """HF_ENDPOINT read now (huggingface_hub reads it once, at import), else the library's default."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT") or constants.ENDPOINT


class _RichBar:
    """What `hf_hub_download` asks of its `tqdm_class`, drawn as a rich progress task."""

    progress: Progress
    label = ""

    def __init__(self, *args, total=None, initial=0, **kwargs) -> None:
        self.task = self.progress.add_task(self.label, total=total, completed=initial or 0)

    def __enter__(self) -> "_RichBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int | float | None = 1) -> None:
        self.progress.update(self.task, advance=n or 0)

    def update_transfer(self, n: int | float | None = 1) -> None:
        pass

    def set_postfix_str(self, *args, **kwargs) -> None:
        pass

    set_transfer_postfix_str = set_description = set_description_str = set_postfix_str

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def _hub_files(siblings: dict[str, object]) -> list[str]:
    files = [f for f in HUB_CONFIG_FILES if f in siblings]
    weights = next((f for f in HUB_WEIGHT_FILES if f in siblings), None)
    if "config.json" not in files or weights is None:
        raise UserError(f"the hub repository lacks config.json or a weights file ({', '.join(HUB_WEIGHT_FILES)}); "
                        f"it holds {', '.join(sorted(siblings)[:8])}")
    return files + [weights]


def fetch_hub_source(src: HubSource, folder: Path, progress: Progress, offline: bool) -> list[Path]:
    dest = folder / src.folder
    page = f"https://huggingface.co/{src.hub_id}/tree/{src.revision}"
    if hf_complete(dest):  # fetched before (or put there by hand): record what is not recorded yet, no network
        manifest = read_manifest(folder)
        files = sorted(p for p in dest.iterdir() if p.is_file())
        for path in files:
            if path.relative_to(folder).as_posix() not in manifest:
                record(folder, path.relative_to(folder).as_posix(), path, f"hub {src.hub_id} (found in place)")
        return files
    if offline:
        raise UserError(f"{src.name}: offline, nothing downloaded: download config.json, preprocessor_config.json "
                        f"and model.safetensors of hub id {src.hub_id} ({page}) and put them in {dest}/")
    import huggingface_hub
    from huggingface_hub import HfApi, hf_hub_download

    huggingface_hub.utils.logging.set_verbosity_error()
    endpoint = hub_endpoint()
    try:
        info = HfApi(endpoint=endpoint).model_info(src.hub_id, revision=src.revision, files_metadata=True)
        siblings = {s.rfilename: s for s in info.siblings or []}
        out = []
        for file in _hub_files(siblings):
            _RichBar.progress, _RichBar.label = progress, f"{src.name} {file}"
            path = Path(hf_hub_download(src.hub_id, file, revision=info.sha, local_dir=dest, endpoint=endpoint,
                                        tqdm_class=_RichBar))
            lfs = getattr(siblings[file], "lfs", None)
            stated = getattr(lfs, "sha256", None) if lfs is not None else None
            sha = sha256_file(path)
            if stated and sha != stated:
                path.unlink()
                raise UserError(f"{src.hub_id}/{file} downloaded with sha256 {sha[:12]}..., the hub states "
                                f"{stated[:12]}...; removed it, run the command again")
            record(folder, path.relative_to(folder).as_posix(), path, f"hub {src.hub_id}@{info.sha}", sha)
            out.append(path)
    except UserError:
        raise
    except Exception as e:  # huggingface_hub / httpx: unreachable, unknown repo, gated, offline mode
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__).strip()
        raise UserError(f"could not download hub id {src.hub_id} from {endpoint} ({type(e).__name__}: {first}); "
                        f"download its files from {page} into {dest}/") from None
    return out


# ---- the command ----------------------------------------------------------------------------------------------

def resolve_names(name: str) -> list[Source]:
    if name == "all":
        return list(SOURCES.values())
    if name not in SOURCES:
        import difflib

        close = difflib.get_close_matches(name, SOURCES, n=3) or list(SOURCES)
        raise UserError(f"no zoo weights named {name!r}; choose all or one of: {', '.join(close)}")
    return [SOURCES[name]]


def fetch(name: str, weights_dir: str | Path | None = None, offline: bool = False,
          console: Console | None = None) -> list[Path]:
    """Download `name`'s weights (or `all`) into `weights_dir` (default: $WSA_WEIGHTS_DIR, then the default
    folder); returns the files. Files already there are kept and their sha256 recorded."""
    console = console or Console(stderr=True)
    folder = target_dir(weights_dir)
    offline = offline or env_offline()
    out: list[Path] = []
    with _progress(console) as progress:
        for src in resolve_names(name):
            if isinstance(src, UrlSource):
                out += fetch_url_source(src, folder, progress, offline)
            else:
                out += fetch_hub_source(src, folder, progress, offline)
    return out
