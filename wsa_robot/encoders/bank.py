"""All frozen encoders on all cameras of all envs: one batched inference call per encoder per env step."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.ort_runtime import OnnxEncode, check_runtime
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import token_key

# autocast dtype per precision name; fp32 runs without autocast
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
AUTO_PRECISION = "auto"  # resolve_precision's choice for this machine


def native_bf16_cpu() -> bool:
    """Whether this CPU has AMX tiles, which oneDNN uses for bf16 convs and matmuls. The Atari skills ran 2.1x
    faster under bf16 autocast on such a CPU (results/throughput_profile_pong_bf16.json); a CPU without AMX
    was not measured, so it keeps fp32."""
    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


def resolve_precision(precision: str, device: str, runtime: str = "torch") -> str:
    """`auto` -> the fastest measured path: bf16 on a CPU with AMX in torch, fp32 elsewhere (a GPU, onnxruntime,
    an older CPU). Other names are returned as they are. The tokens differ from fp32 by bf16's rounding (0.2-1.2%
    of their norm for the Pong skills), so `auto` suits a task whose agent trains on them from the start. It is
    resolved where the bank is built, so a run resumed or evaluated on another machine computes in that
    machine's choice (train prints it); set bf16 or fp32 to pin it."""
    if precision != AUTO_PRECISION:
        return precision
    cpu = torch.device(device).type == "cpu"
    return "bf16" if cpu and runtime == "torch" and native_bf16_cpu() else "fp32"


def check_precision(precision: str, device: str) -> None:
    """Unknown names, and fp16 off CUDA (CPU half kernels are slow or missing; bf16 is the CPU's type), are
    user errors."""
    if precision not in PRECISIONS:
        names = ", ".join([*PRECISIONS, AUTO_PRECISION])
        raise UserError(f"bad value for encoder_precision: {precision!r}; use one of {names}")
    if precision == "fp16" and torch.device(device).type == "cpu":
        raise UserError("encoder_precision=fp16 needs a CUDA device; use bf16 or fp32 on CPU")


def shared_input(enc: FrozenEncoder) -> Hashable | None:
    """What an encoder's input depends on, when it takes FrozenEncoder's own preparation (uint8 -> float in
    [0, 1], its recipe or resize, channels-last): encoders with equal keys read one prepared tensor. None for an
    encoder with its own forward or prepare (it gets the raw batch)."""
    cls = type(enc)
    if cls.forward is not FrozenEncoder.forward or cls.prepare is not FrozenEncoder.prepare:
        return None
    return enc.modality, enc.recipe, enc.input_size


def to_numpy(emb: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """float embeddings -> numpy `dtype`, converted by torch (vectorized; numpy's float32 -> float16 is not)
    with the same round-to-nearest-even."""
    return emb.to("cpu", torch.from_numpy(np.empty(0, dtype)).dtype).numpy()


def autocast(precision: str, device: str) -> AbstractContextManager:
    """The context the encoders run under: nothing for fp32, torch.autocast for fp16/bf16."""
    dtype = PRECISIONS[precision]
    return nullcontext() if dtype is None else torch.autocast(torch.device(device).type, dtype=dtype)


class EncoderBank:
    """Maps camera images to embeddings keyed `encoder@camera`, stored as float16 (half the replay memory).

    precision: fp32 | fp16 | bf16 | auto, the compute precision (autocast; auto: resolve_precision); the stored
    dtype is `dtype` regardless.
    compile: wrap each encoder in torch.compile (compiled on first use and again per new batch size; worth it
    on a GPU, mostly compile time on a CPU).
    runtime: torch | onnx, what runs the encoders that read the shared prepared input (wsa_robot/encoders/
    ort_runtime.py; CPU, fp32); encoders with their own forward always run in torch.
    """

    def __init__(self, encoders: list[FrozenEncoder], cameras: list[str], device: str = "cpu",
                 dtype: np.dtype = np.float16, precision: str = "fp32", compile: bool = False,
                 runtime: str = "torch") -> None:
        precision = resolve_precision(precision, device, runtime)
        check_precision(precision, device)
        check_runtime(runtime, device, precision, compile)
        self.encoders = [e.freeze().to(device) for e in encoders]
        self.cameras, self.device, self.dtype = list(cameras), device, dtype
        self.precision, self.compile, self.runtime = precision, compile, runtime
        # the Atari skills all read the same 4-frame stack: prepare it once per step for all of them
        self._inputs = [shared_input(e) for e in self.encoders]
        # onnxruntime reads plain NCHW arrays; torch's convs prefer channels-last
        self._memory_format = torch.contiguous_format if runtime == "onnx" else torch.channels_last
        # encoder i's call, decided once (a profiler may wrap these in place)
        self.runners: list[Callable[[torch.Tensor], torch.Tensor]] = [self._runner(i) for i in range(len(encoders))]

    def _runner(self, i: int) -> Callable[[torch.Tensor], torch.Tensor]:
        """Encoder i's call: `encode` on the shared prepared input (torch, compiled or onnxruntime), or the whole
        forward on the raw batch."""
        enc = self.encoders[i]
        if self._inputs[i] is None:
            run = enc
        elif self.runtime == "onnx":
            return OnnxEncode(enc)
        else:
            run = enc.encode
        return torch.compile(run) if self.compile else run

    @property
    def token_shapes(self) -> dict[str, tuple[int, ...]]:
        return {token_key(e.name, c): e.output_shape for e in self.encoders for c in self.cameras}

    def check_channels(self, camera_channels: dict[str, int]) -> None:
        """Every image encoder takes the channel count its cameras give (3-channel RGB encoders do not read a
        4-frame Atari stack); a mismatch is a UserError naming both."""
        for enc in self.encoders:
            if enc.modality != "rgb":
                continue
            for cam in self.cameras:
                if camera_channels.get(cam, enc.in_channels) != enc.in_channels:
                    raise UserError(f"encoder {enc.name} takes {enc.in_channels}-channel images but camera {cam} "
                                    f"gives {camera_channels[cam]}; use an encoder pretrained on this task "
                                    "(`wsa-robot pretrain`, then see `wsa-robot encoders`)")

    @property
    def needs_depth(self) -> bool:
        return any(e.modality == "depth" for e in self.encoders)

    def embed(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """obs: camera -> uint8 [N, H, W, 3] (and `<camera>_depth` -> float [N, H, W, 1] for depth encoders);
        returns token -> [N, *shape] embeddings, every camera of one modality in one batch per encoder.
        A bank without encoders (the state oracle alone, no camera) returns nothing."""
        if not self.encoders:
            return {}
        n = len(obs[self.cameras[0]])
        batches: dict[str, torch.Tensor] = {}

        def batch(modality: str) -> torch.Tensor:
            if modality not in batches:
                suffix = "" if modality == "rgb" else f"_{modality}"
                stacked = np.concatenate([obs[c + suffix] for c in self.cameras])
                batches[modality] = torch.from_numpy(stacked).to(self.device)
            return batches[modality]

        prepared: dict[Hashable, torch.Tensor] = {}

        def prepare(enc: FrozenEncoder, key: Hashable) -> torch.Tensor:
            if key not in prepared:
                prepared[key] = enc.prepare(batch(enc.modality)).contiguous(memory_format=self._memory_format)
            return prepared[key]

        out: dict[str, np.ndarray] = {}
        with torch.inference_mode(), autocast(self.precision, self.device):
            for i, (enc, key) in enumerate(zip(self.encoders, self._inputs)):
                x = batch(enc.modality) if key is None else prepare(enc, key)
                emb = to_numpy(self.runners[i](x), self.dtype)
                for i, cam in enumerate(self.cameras):
                    out[token_key(enc.name, cam)] = emb[i * n:(i + 1) * n]
        return out
