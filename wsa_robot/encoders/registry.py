"""Every encoder a run can name: the simulator's depth, the foundation-model zoo, and this project's own
pretrained skills from assets/manifest.json. Making the registry builds no model."""

from __future__ import annotations

import difflib
from pathlib import Path

from wsa_robot.assets import read_manifest, verified_file
from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.entry import EncoderEntry
from wsa_robot.encoders.zoo import zoo_entries
from wsa_robot.errors import UserError
from wsa_robot.pretrain import SKILL_NAMES
from wsa_robot.resources import data_dir

__all__ = ["EncoderEntry", "build_encoder", "registry"]


def _skill_entry(meta: dict, assets: Path) -> EncoderEntry:
    """One of the project's own pretrained skills (`wsa-robot pretrain`), from its manifest entry."""
    path = assets / meta["file"]

    def build() -> FrozenEncoder:
        from wsa_robot.encoders.autoencoder import AutoencoderEncoder
        from wsa_robot.encoders.stdim import STDIM, STDIMEncoder
        from wsa_robot.encoders.transporter import KeypointEncoder, Transporter
        from wsa_robot.pretrain.checkpoint import load_model

        model = load_model(verified_file(meta, assets))
        wrap = KeypointEncoder if isinstance(model, Transporter) else \
            STDIMEncoder if isinstance(model, STDIM) else AutoencoderEncoder
        return wrap(model, name=meta["encoder"]).freeze()

    size, channels = meta.get("image_size", 84), meta.get("in_channels", 3)
    kind = "RGB" if channels == 3 else f"{channels}-channel"
    return EncoderEntry(meta["encoder"], meta["skill"], f"own {meta['skill']}, assets/{meta['file']} ({meta['task']})",
                        f"{kind} {size}x{size}", tuple(meta["output_shape"]), path, path.exists(), build)


def _sim_depth_entry() -> EncoderEntry:
    def build() -> FrozenEncoder:
        from wsa_robot.encoders.sim_depth import SimDepthEncoder

        return SimDepthEncoder().freeze()

    return EncoderEntry("sim_depth", "simulator", "simulator depth camera, no model",
                        "depth map (metres)", (1, 8, 8), None, True, build)


def registry(assets: Path | None = None, weights_dir: str | Path | None = None) -> dict[str, EncoderEntry]:
    """Encoders by name; `assets` defaults to the project's assets/ folder, `weights_dir` is where zoo
    weights are looked for first (then $WSA_WEIGHTS_DIR, then the model's own cache)."""
    assets = assets or data_dir("assets")
    entries = {"sim_depth": _sim_depth_entry(), **zoo_entries(weights_dir)}
    for meta in read_manifest(assets).values():
        if meta.get("skill") in SKILL_NAMES:
            entry = _skill_entry(meta, assets)
            entries[entry.name] = entry
    return entries


def build_encoder(name: str, assets: Path | None = None, weights_dir: str | Path | None = None) -> FrozenEncoder:
    """The frozen encoder registered as `name`; unknown names and missing weights raise UserError."""
    entries = registry(assets, weights_dir)
    if name not in entries:
        close = difflib.get_close_matches(name, entries, n=3) or sorted(entries)
        raise UserError(f"unknown encoder {name!r}; choose one of: {', '.join(close)} (see `wsa-robot encoders`)")
    return entries[name].build()
