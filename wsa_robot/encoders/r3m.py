"""R3M (Nair et al. 2022) from its official checkpoint: a ResNet whose weights sit under `module.convnet.*`.

The official file is `torch.save({"r3m": state_dict, ...})` of a DataParallel-wrapped model, so every key
starts with `module.`; the language encoder and reward head (`module.lang_enc*`, `module.lang_rew*`) are not
part of the visual representation and are dropped, as the official loader does.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.normalize import Normalize
from wsa_robot.encoders.resnet import ResNet
from wsa_robot.core.errors import UserError

PREFIX = "module.convnet."
INPUT_SIZE = 224  # the only size R3M's authors trained and tested


def checkpoint_file(path: Path) -> Path:
    """Accept the .pt file itself or the official download folder holding model.pt."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise UserError(f"R3M checkpoint {path} is missing")
    return path


def read_convnet_state(path: Path) -> dict[str, torch.Tensor]:
    """The ResNet's state dict from an official R3M checkpoint, `module.convnet.` stripped, the rest dropped."""
    path = checkpoint_file(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"could not read R3M checkpoint {path} as a torch weights file: {first}") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("r3m"), dict):
        keys = list(ckpt)[:5] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise UserError(f"{path} is not an official R3M checkpoint: expected a dict with an 'r3m' state dict, "
                        f"found {keys}")
    state = {k[len(PREFIX):]: v for k, v in ckpt["r3m"].items() if k.startswith(PREFIX)}
    if not state:
        first = ", ".join(list(ckpt["r3m"])[:3])
        raise UserError(f"{path} has no '{PREFIX}*' weights (first keys: {first}); expected the official R3M "
                        "layout of a DataParallel-wrapped model")
    return state


def load_convnet(depth: int, path: Path) -> ResNet:
    """A ResNet-`depth` with the checkpoint's weights, loaded strictly (a wrong depth is a UserError)."""
    net = ResNet(depth)
    state = read_convnet_state(path)
    result = None
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError:  # same names, other shapes: e.g. a ResNet-34 file read as ResNet-18's layer sizes
        pass
    if result is None or result.missing_keys or result.unexpected_keys:
        detail = "" if result is None else (f" ({len(result.missing_keys)} missing, "
                                            f"{len(result.unexpected_keys)} unexpected keys)")
        raise UserError(f"R3M checkpoint {path} does not fit a ResNet-{depth}{detail}; "
                        f"is it r3m_{_guess_depth(state)}?")
    return net


def _guess_depth(state: dict[str, torch.Tensor]) -> str:
    if "layer1.0.conv3.weight" in state:
        return "50"
    return "34" if "layer3.5.conv1.weight" in state else "18"


class R3MEncoder(FrozenEncoder):
    """uint8 [B, H, W, 3] -> [B, 512] (ResNet-18/34) or [B, 2048] (ResNet-50).

    R3M itself takes floats in [0, 255], divides by 255 and applies ImageNet mean/std; the base class already
    gives [0, 1] at 224x224, so only the mean/std step is left to do here.
    """

    input_size = INPUT_SIZE

    def __init__(self, convnet: ResNet, name: str) -> None:
        super().__init__()
        self.name = name
        self.normalize = Normalize()
        self.convnet = convnet
        self.output_shape = (convnet.out_dim,)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.convnet(self.normalize(x))


def load_r3m(depth: int, path: Path, name: str | None = None) -> R3MEncoder:
    """The public loader: an official R3M checkpoint (file or folder with model.pt) -> a frozen encoder."""
    return R3MEncoder(load_convnet(depth, path), name or f"r3m{depth}").freeze()
