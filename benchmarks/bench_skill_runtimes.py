"""The frozen Pong skills run by torch, onnxruntime and OpenVINO: CPU ms per batch, and how far the tokens move.

    python benchmarks/bench_skill_runtimes.py --torch-threads 1     # results/skill_runtimes_pong.json

On real atari/Pong screen stacks (random play, batch 8 as the 8 PPO envs give), each skill's `encode` on the
shared prepared input, as EncoderBank calls it: torch eager (channels-last, as the bank prepares it), the same
`encode` exported by wsa_robot/encoders/ort_runtime.py and run by onnxruntime, and the same ONNX model compiled
by OpenVINO when it is installed (`pip install openvino`; optional). All on one thread, interleaved per round,
median CPU seconds of this process (steady when other processes share the cores). Then the whole EncoderBank
(prepare, the five skills, float16 tokens) with encoder_runtime=torch against onnx, interleaved the same way.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from _bench_util import machine_info
from wsa_robot.core.atomic import write_json
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.ort_runtime import OnnxEncode
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.envs import make_env
from wsa_robot.core.provenance import provenance
from wsa_robot.envs.tasks import load_task

SKILLS = ["stdim_atari_pong", "kp_atari_pong_features", "kp_atari_pong_maps", "vos_atari_pong", "ae_atari_pong"]


def pong_frames(n: int, seed: int = 0) -> np.ndarray:
    """n consecutive screen stacks [n, 84, 84, 4] of random play, after 30 steps (the ball in play)."""
    env = make_env(load_task("atari/Pong"), ["screen"], 84, seed=seed, training=False)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    frames = []
    for t in range(30 + n):
        obs, *_ = env.step(int(rng.integers(env.action_space.n)))
        if t >= 30:
            frames.append(obs["screen"])
    env.close()
    return np.stack(frames)


def openvino_encode(model: bytes, threads: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """The ONNX model compiled by OpenVINO for the CPU, fp32, `threads` threads; None without openvino."""
    try:
        import openvino as ov
    except ImportError:
        return None
    compiled = ov.Core().compile_model(ov.convert_model(io.BytesIO(model)), "CPU", {
        "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    return lambda x: request.infer({0: x})[0]


def cpu_ms(fn: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return 1000 * (time.process_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20, help="calls per timing")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("results/skill_runtimes_pong.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)
    prov, machine = provenance(), machine_info()
    frames = pong_frames(args.batch)
    encoders = [build_encoder(name).freeze() for name in SKILLS]
    prepared = encoders[0].prepare(torch.from_numpy(frames))  # all five read this one stack (bank.shared_input)
    x_torch, x_numpy = prepared.contiguous(memory_format=torch.channels_last), prepared.contiguous().numpy()

    runners: dict[str, dict[str, Callable[[], np.ndarray]]] = {}
    for enc in encoders:
        ort = OnnxEncode(enc)
        ov = openvino_encode(ort.model, args.torch_threads)
        runners[enc.name] = {"torch": lambda e=enc: e.encode(x_torch).numpy(),
                             "onnxruntime": lambda o=ort: o(torch.from_numpy(x_numpy)).numpy()}
        if ov is not None:
            runners[enc.name]["openvino"] = lambda f=ov: f(x_numpy)
    banks = {rt: EncoderBank(encoders, ["screen"], runtime=rt) for rt in ("torch", "onnx")}
    obs = {"screen": frames}
    for b in banks.values():
        b.embed(obs)  # onnxruntime makes its session on the first call

    tokens, times = {}, {}
    with torch.inference_mode():
        for name, by_runtime in runners.items():
            want = by_runtime["torch"]()
            tokens[name] = {"scale": float(np.abs(want).max()),
                            **{f"max_abs_diff_{rt}": float(np.abs(run() - want).max())
                               for rt, run in by_runtime.items() if rt != "torch"}}
        for r in range(args.rounds):
            for name, by_runtime in runners.items():
                order = list(by_runtime) if r % 2 == 0 else list(reversed(by_runtime))
                for rt in order:
                    times.setdefault(name, {}).setdefault(rt, []).append(cpu_ms(by_runtime[rt], args.calls))
            for rt in (("torch", "onnx") if r % 2 == 0 else ("onnx", "torch")):
                times.setdefault("bank", {}).setdefault(rt, []).append(
                    cpu_ms(lambda b=banks[rt]: b.embed(obs), args.calls))

    per_skill = {name: {rt: round(statistics.median(v), 3) for rt, v in by_rt.items()}
                 for name, by_rt in times.items() if name != "bank"}
    runtimes = list(runners[SKILLS[0]])
    total = {rt: round(sum(per_skill[n][rt] for n in SKILLS), 3) for rt in runtimes}
    bank = {rt: round(statistics.median(v), 3) for rt, v in times["bank"].items()}
    res = {
        "provenance": prov, "machine": machine,
        "settings": {"task": "atari/Pong", "skills": SKILLS, "batch": args.batch, "rounds": args.rounds,
                     "calls": args.calls, "torch_threads": torch.get_num_threads(),
                     "versions": {p: _version(p) for p in ("onnx", "onnxruntime", "openvino")}},
        "unit": "CPU ms per call on a batch of `batch` screen stacks (median over rounds; / batch = per env step)",
        "per_skill": per_skill, "total": total,
        "speedup_vs_torch": {rt: round(total["torch"] / total[rt], 3) for rt in runtimes if rt != "torch"},
        "bank": bank, "bank_speedup_onnx_vs_torch": round(bank["torch"] / bank["onnx"], 3),
        "tokens": tokens,
    }
    write_json(args.out, res)
    for name, by_rt in per_skill.items():
        print(f"{name:<26} " + "  ".join(f"{rt} {ms:7.3f}" for rt, ms in by_rt.items()))
    print(f"{'total':<26} " + "  ".join(f"{rt} {ms:7.3f}" for rt, ms in total.items()))
    print(f"bank: {bank}, onnx vs torch {res['bank_speedup_onnx_vs_torch']}")
    print(f"wrote {args.out}")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
