"""Every encoder a run can name: the simulator's depth, the privileged state oracle (`state`), the
foundation-model zoo, and this project's own pretrained skills from assets/manifest.json. Making the registry
builds no model."""

from __future__ import annotations

import difflib
from pathlib import Path

from wsa_robot.core.assets import read_manifest, verified_file
from wsa_robot.encoders.autoencoder import AutoencoderEncoder, feature_grid
from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.checkpoint import SKILL_NAMES, load_model
from wsa_robot.encoders.entry import EncoderEntry
from wsa_robot.encoders.sim_depth import SimDepthEncoder
from wsa_robot.encoders.state import state_entry
from wsa_robot.encoders.stdim import STDIM, STDIMEncoder
from wsa_robot.encoders.transporter import TRANSPORTER_TOKENS, Transporter
from wsa_robot.encoders.vos import VOS, VOSEncoder
from wsa_robot.encoders.zoo import CATALOGUE, zoo_entries
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import STATE
from wsa_robot.core.resources import data_dir

__all__ = ["EncoderEntry", "UnknownEncoderError", "build_encoder", "registry"]


def _skill_entries(meta: dict, assets: Path) -> list[EncoderEntry]:
    """The tokens of one of the project's pretrained skills (`wsa-robot pretrain`), from its manifest entry:
    one per checkpoint, three for a Transporter (keypoint coordinates, `_features`, `_maps`)."""
    path = assets / meta["file"]
    size, channels = meta.get("image_size", 84), meta.get("in_channels", 3)
    kind = "RGB" if channels == 3 else f"{channels}-channel"
    source = f"own {meta['skill']}, assets/{meta['file']} ({meta['task']})"
    if meta["skill"] != "keypoints":
        return [EncoderEntry(meta["encoder"], meta["skill"], source, f"{kind} {size}x{size}",
                             tuple(meta["output_shape"]), path, path.exists(), lambda: _build_skill(meta, assets))]
    grid = feature_grid(size)
    shapes = {"": tuple(meta["output_shape"]), "_features": (meta.get("channels", 64), grid, grid),
              "_maps": (meta["output_shape"][0] // 2, grid, grid)}
    return [EncoderEntry(meta["encoder"] + suffix, meta["skill"], source + (f", {suffix[1:]}" if suffix else ""),
                         f"{kind} {size}x{size}", shape, path, path.exists(),
                         lambda suffix=suffix: _build_skill(meta, assets, suffix))
            for suffix, shape in shapes.items()]


def _build_skill(meta: dict, assets: Path, suffix: str = "") -> FrozenEncoder:
    model = load_model(verified_file(meta, assets))
    wrap = TRANSPORTER_TOKENS[suffix] if isinstance(model, Transporter) else \
        STDIMEncoder if isinstance(model, STDIM) else VOSEncoder if isinstance(model, VOS) else AutoencoderEncoder
    return wrap(model, name=meta["encoder"] + suffix).freeze()


SIM_DEPTH = "sim_depth"  # the simulator's depth camera, pooled: no model


def built_in_names() -> set[str]:
    """The encoders that are not this project's pretrained skills: the simulator's depth, the privileged state
    and the zoo. A skill `wsa-robot pretrain` saves may take any other name."""
    return {SIM_DEPTH, STATE} | {spec.name for spec in CATALOGUE}


def _sim_depth_entry() -> EncoderEntry:
    def build() -> FrozenEncoder:
        return SimDepthEncoder().freeze()

    return EncoderEntry(SIM_DEPTH, "simulator", "simulator depth camera, no model",
                        "depth map (metres)", (1, 8, 8), None, True, build, modality=SimDepthEncoder.modality)


def registry(assets: Path | None = None, weights_dir: str | Path | None = None,
             zoo_preprocess: str = "authors") -> dict[str, EncoderEntry]:
    """Encoders by name; `assets` defaults to the project's assets/ folder, `weights_dir` is where zoo
    weights are looked for first (then $WSA_WEIGHTS_DIR, then the model's own cache); `zoo_preprocess` is how
    zoo encoders resize and crop (encoders/preprocess.py)."""
    assets = assets or data_dir("assets")
    entries = {SIM_DEPTH: _sim_depth_entry(), STATE: state_entry(), **zoo_entries(weights_dir, zoo_preprocess)}
    for meta in read_manifest(assets).values():
        if meta.get("skill") in SKILL_NAMES:
            entries.update((entry.name, entry) for entry in _skill_entries(meta, assets))
    return entries


def build_encoder(name: str, assets: Path | None = None, weights_dir: str | Path | None = None,
                  zoo_preprocess: str = "authors") -> FrozenEncoder:
    """The frozen encoder registered as `name`; unknown names and missing weights raise UserError."""
    entries = registry(assets, weights_dir, zoo_preprocess)
    if name not in entries:
        raise UnknownEncoderError([name], entries)
    return entries[name].build()


class UnknownEncoderError(UserError):
    """Encoders a run names that are not registered; the message names the first and its close matches.
    `names`: all of them (a sweep tells the ones `wsa-robot pretrain` would register from the others)."""

    def __init__(self, names: list[str], entries: dict[str, EncoderEntry]) -> None:
        self.names = list(names)
        close = difflib.get_close_matches(names[0], entries, n=3) or sorted(entries)
        super().__init__(f"unknown encoder {names[0]!r}; choose one of: {', '.join(close)} "
                         "(see `wsa-robot encoders`)")
