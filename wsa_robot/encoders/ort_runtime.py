"""Frozen encoders run by ONNX Runtime instead of torch (`encoder_runtime=onnx`, CPU, fp32).

Each encoder's `encode` is exported once, in memory, when the bank is built (torch.onnx's TorchScript exporter,
about 0.1 s per Atari skill; it needs the onnx package) and run by an onnxruntime session on the bank's prepared
input. An opt-in, not the default: on this project's 2-core CPU (1 thread, batch 8, real Pong frames) the five
Pong skills' tokens equal torch's to float rounding, and onnxruntime runs them only a little faster than torch
(ST-DIM ~1.5x, the others about even; benchmarks/bench_skill_runtimes.py, results/skill_runtimes_pong.json).
"""

from __future__ import annotations

# Imports inside functions: onnx and onnxruntime, optional packages (pip install -e ".[onnx]"), read only when a
# bank runs encoder_runtime=onnx.

import io
import warnings
from typing import Any

import numpy as np
import torch

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.core.errors import UserError

RUNTIMES = ("torch", "onnx")


def check_runtime(runtime: str, device: str, precision: str, compile: bool) -> None:
    """Unknown names, and onnx with what only torch does (a GPU, autocast, torch.compile), are user errors."""
    if runtime not in RUNTIMES:
        raise UserError(f"bad value for encoder_runtime: {runtime!r}; use one of {', '.join(RUNTIMES)}")
    if runtime != "onnx":
        return
    if torch.device(device).type != "cpu":
        raise UserError(f"encoder_runtime=onnx runs on the CPU, not {device}; use encoder_runtime=torch or device=cpu")
    if precision != "fp32" or compile:
        raise UserError("encoder_runtime=onnx runs fp32 without torch.compile; set encoder_precision=fp32 and "
                        "encoder_compile=false, or use encoder_runtime=torch")


def _onnxruntime() -> Any:
    """onnxruntime, after checking that onnx (which torch's exporter writes with) imports too."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        raise UserError("encoder_runtime=onnx needs onnx and onnxruntime: pip install onnx onnxruntime "
                        "(or pip install -e '.[onnx]'; or use encoder_runtime=torch)") from None
    return onnxruntime


class _Encode(torch.nn.Module):
    """The graph to export: `encode` alone (the bank prepares the input once for every encoder)."""

    def __init__(self, enc: FrozenEncoder) -> None:
        super().__init__()
        self.enc = enc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc.encode(x)


def export_encode(enc: FrozenEncoder) -> bytes:
    """`enc.encode` as an ONNX model (bytes) taking float [B, C, S, S], any batch size."""
    example = torch.zeros(2, enc.in_channels, enc.input_size, enc.input_size)
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's notes on traced shapes and its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(_Encode(enc), (example,), buf, input_names=["x"], output_names=["token"],
                          dynamic_axes={"x": {0: "batch"}, "token": {0: "batch"}}, dynamo=False)
    return buf.getvalue()


class OnnxEncode:
    """Callable like `enc.encode` (float tensor in, float tensor out), run by onnxruntime on as many threads as
    torch has when called (one session per thread count: `torch_threads` may change while a bank lives)."""

    def __init__(self, enc: FrozenEncoder) -> None:
        self.ort = _onnxruntime()
        self.name = enc.name
        self.model = export_encode(enc)
        self._sessions: dict[int, Any] = {}

    def session(self, threads: int) -> Any:
        if threads not in self._sessions:
            options = self.ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # spinning threads would take cores from the env subprocesses and the learner between calls
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = self.ort.InferenceSession(self.model, options,
                                                                providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        [token] = self.session(torch.get_num_threads()).run(None, {"x": x})
        return torch.from_numpy(token)
