"""Milliseconds per env step of the frozen-encoder bank, for every registered encoder.

    python benchmarks/bench_encoders.py                          # all encoders, 1/2/4/8 envs x 2 cameras
    python benchmarks/bench_encoders.py --quick                  # own encoders + r3m18 + dinov2_s, 1 and 2 envs
    python benchmarks/bench_encoders.py --encoders ae,r3m18 --envs 1,4 --device cuda --precision bf16
    python benchmarks/bench_encoders.py --encoders r3m50,dinov2_b --merge   # add rows to the existing results

One env step is one `EncoderBank.embed` call, as in training: 2 cameras x N envs of 84x84 uint8 images
(random content, as robosuite gives them) go to the device in one batch per encoder, and the embeddings come
back as float16 numpy. An encoder whose weights are not on this machine is built from its released
architecture with random weights (same compute, so the same time); "source" in the results says which.
Timings are only meaningful on an otherwise idle machine: the load average is recorded to check that.

Writes results/encoders.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from wsa_robot.core.assets import read_manifest
from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import cpu_model, provenance
from wsa_robot.core.device import resolve_device
from wsa_robot.encoders.bank import EncoderBank, check_precision, resolve_precision
from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.registry import EncoderEntry, registry
from wsa_robot.encoders.zoo import CATALOGUE, HFSpec, R3MSpec
from wsa_robot.core.errors import UserError
from wsa_robot.encoders.checkpoint import SKILL_NAMES
from wsa_robot.core.resources import data_dir

CAMERAS = ["agentview", "robot0_eye_in_hand"]
IMAGE_SIZE = 84
QUICK_ZOO = ("r3m18", "dinov2_s")


class Skip(Exception):
    """This encoder cannot be built here; the message is recorded as the reason."""


# ---- random-weight builds of the released architectures ------------------------------------------------------

def _released_hf_model(hub_id: str) -> nn.Module:
    """The transformers model with the released checkpoint's sizes (from its config.json), randomly initialised."""
    try:
        import transformers
    except ImportError:
        raise Skip("transformers is not installed") from None
    transformers.logging.set_verbosity_error()
    vit = dict(num_hidden_layers=12, patch_size=16, image_size=224)
    if hub_id == "facebook/dino-vits16":
        return transformers.ViTModel(transformers.ViTConfig(hidden_size=384, num_attention_heads=6,
                                                            intermediate_size=1536, **vit), add_pooling_layer=False)
    if hub_id == "facebook/dino-vitb16":
        return transformers.ViTModel(transformers.ViTConfig(hidden_size=768, num_attention_heads=12,
                                                            intermediate_size=3072, **vit), add_pooling_layer=False)
    dinov2 = dict(num_hidden_layers=12, patch_size=14, image_size=518, mlp_ratio=4, layerscale_value=1.0)
    if hub_id == "facebook/dinov2-small":
        return transformers.Dinov2Model(transformers.Dinov2Config(hidden_size=384, num_attention_heads=6, **dinov2))
    if hub_id == "facebook/dinov2-base":
        return transformers.Dinov2Model(transformers.Dinov2Config(hidden_size=768, num_attention_heads=12, **dinov2))
    if hub_id == "depth-anything/Depth-Anything-V2-Small-hf":
        # the config's defaults are the small model: a DINOv2-S backbone (384 wide, 6 heads) and a 64-wide head
        return transformers.DepthAnythingForDepthEstimation(transformers.DepthAnythingConfig())
    if hub_id == "Intel/dpt-hybrid-midas":
        cfg = transformers.DPTConfig(is_hybrid=True, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                     patch_size=16, image_size=384, reassemble_factors=[1, 1, 1, 0.5],
                                     neck_hidden_sizes=[256, 512, 768, 768], readout_type="project",
                                     use_batch_norm_in_fusion_residual=False)
        return transformers.DPTForDepthEstimation(cfg)
    raise Skip(f"no architecture config known for {hub_id}, and its weights are absent")


@functools.lru_cache(maxsize=1)  # the _mean / _grid variants share one model; keep only the latest in memory
def _cached_hf_model(hub_id: str) -> nn.Module:
    try:
        return _released_hf_model(hub_id).float()
    except Skip:
        raise
    except Exception as e:  # any failure to build offline is a reason to record, not a crash
        raise Skip(f"could not build {hub_id} from its config offline: {type(e).__name__}: {e}") from None


def _random_zoo(spec: R3MSpec | HFSpec) -> FrozenEncoder:
    """The released architecture with random weights, preprocessing as the run default (the authors' recipe)."""
    enc: FrozenEncoder
    if isinstance(spec, R3MSpec):
        from wsa_robot.encoders.r3m import R3MEncoder
        from wsa_robot.encoders.resnet import ResNet

        enc = R3MEncoder(ResNet(spec.depth), spec.name)
    else:
        from wsa_robot.encoders.hf_models import DepthMapEncoder, ViTFeatureEncoder

        model = _cached_hf_model(spec.hub_id)
        if spec.kind == "depth":
            enc = DepthMapEncoder(model, spec.name, spec.input_size, spec.grid, spec.mean, spec.std)
        else:
            enc = ViTFeatureEncoder(model, spec.name, spec.mode, spec.input_size, spec.mean, spec.std)
    enc.recipe = spec.recipe
    return enc


def _random_own(entry: EncoderEntry, meta: dict[str, Any]) -> FrozenEncoder:
    """A project skill whose checkpoint is absent: the same conv net (default width) with random weights."""
    from wsa_robot.encoders.autoencoder import AutoencoderEncoder, ConvAutoencoder
    from wsa_robot.encoders.transporter import KeypointEncoder, Transporter

    size, out = int(meta.get("image_size", IMAGE_SIZE)), int(entry.output_shape[0])
    if entry.family == "keypoints":
        return KeypointEncoder(Transporter(n_keypoints=out // 2, image_size=size), entry.name)
    return AutoencoderEncoder(ConvAutoencoder(latent_dim=out, image_size=size, out_channels=0), entry.name)


def build(entry: EncoderEntry, own_meta: dict[str, dict[str, Any]]) -> tuple[FrozenEncoder, str, str]:
    """(frozen encoder, "weights" | "random init", note): the real weights when present, else random ones."""
    note = ""
    if entry.weights_present:
        try:
            return entry.build(), "weights", note
        except UserError as e:
            note = f"weights present but not loadable ({e}); timed with random weights"
    specs = {s.name: s for s in CATALOGUE}
    if entry.name in specs:
        return _random_zoo(specs[entry.name]).freeze(), "random init", note
    if entry.family in SKILL_NAMES and entry.name in own_meta:
        return _random_own(entry, own_meta[entry.name]).freeze(), "random init", note
    raise Skip(f"weights absent and no random-init recipe for family {entry.family!r}")


# ---- timing -------------------------------------------------------------------------------------------------

def observation(n_envs: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """What the envs hand the bank in one step: uint8 RGB per camera, plus float depth in metres."""
    obs: dict[str, np.ndarray] = {}
    for cam in CAMERAS:
        obs[cam] = rng.integers(0, 256, (n_envs, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        obs[f"{cam}_depth"] = rng.uniform(0.3, 3.0, (n_envs, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
    return obs


def time_calls(fn: Callable[[], object], warmup: int, repeats: int, min_repeats: int, budget_s: float) -> dict:
    """ms per call: `warmup` untimed calls, then `repeats` timed ones, fewer (not under `min_repeats`) once
    `budget_s` seconds are spent, so the big models on a CPU do not take hours."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < min_repeats or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"median": round(statistics.median(times), 3), "mean": round(statistics.fmean(times), 3),
            "p90": round(p90, 3), "min": round(ordered[0], 3), "repeats": len(times)}


def bench_one(enc: FrozenEncoder, envs: list[int], args: argparse.Namespace) -> dict[str, dict]:
    bank = EncoderBank([enc], CAMERAS, device=args.device, precision=args.precision, compile=args.compile)
    rng = np.random.default_rng(0)
    out = {}
    for n in envs:
        obs = observation(n, rng)
        out[str(n)] = time_calls(lambda: bank.embed(obs), args.warmup, args.repeats, args.min_repeats, args.budget)
    return out


# ---- machine, selection, output -----------------------------------------------------------------------------


def machine(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "device": device, "load_avg_start": [round(x, 2) for x in os.getloadavg()],
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    try:
        import transformers

        info["transformers"] = transformers.__version__
    except ImportError:
        pass
    return info


def select(entries: dict[str, EncoderEntry], names: str | None, quick: bool) -> list[str]:
    if names:
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in entries]
        if unknown:
            raise UserError(f"unknown encoder(s) {', '.join(unknown)}; choose from: {', '.join(entries)}")
        return wanted
    if quick:
        zoo = {s.name for s in CATALOGUE}
        return [n for n in entries if n not in zoo or n in QUICK_ZOO]
    return list(entries)


def print_table(results: dict[str, dict], envs: list[int], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("encoder", "source", "params", "output"):
        table.add_column(col)
    for n in envs:
        table.add_column(f"{n} env{'s' if n > 1 else ''} ms (p90)", justify="right")
    for name, row in results.items():
        if "skipped" in row:
            table.add_row(name, "[yellow]skipped[/]", "", "", row["skipped"][:80], *[""] * (len(envs) - 1))
            continue
        cells = [f"{row['ms_per_step'][str(n)]['median']:.1f} ({row['ms_per_step'][str(n)]['p90']:.1f})"
                 for n in envs]
        params = f"{row['params'] / 1e6:.2f}M" if row["params"] else "-"
        table.add_row(name, row["source"], params, "x".join(map(str, row["output_shape"])), *cells)
    Console().print(table)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="1 and 2 envs, fewer repeats, own encoders + r3m18 + dinov2_s only")
    p.add_argument("--encoders", help="comma-separated names (default: every registered encoder)")
    p.add_argument("--envs", help="comma-separated env counts (default 1,2,4,8; --quick: 1,2)")
    p.add_argument("--precision", default="fp32", help="fp32 | fp16 (CUDA) | bf16 | auto")
    p.add_argument("--compile", action="store_true", help="torch.compile each encoder (compiles during warm-up)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--weights-dir", help="zoo weights folder, as the config key weights_dir")
    p.add_argument("--out", type=Path, default=Path("results/encoders.json"))
    p.add_argument("--merge", action="store_true",
                   help="keep the other encoders' rows of --out (each row records when and under what load)")
    args = p.parse_args(argv)
    quick = args.quick
    args.envs = [int(n) for n in (args.envs or ("1,2" if quick else "1,2,4,8")).split(",") if n]
    args.warmup = 1 if quick else 3
    args.repeats, args.min_repeats, args.budget = (5, 3, 3.0) if quick else (20, 5, 30.0)
    if args.compile:
        args.warmup += 2  # the first calls per batch size compile (and recompile once as dynamic)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.device = resolve_device(args.device)
    args.precision = resolve_precision(args.precision, args.device)  # auto: what a run would use here
    check_precision(args.precision, args.device)
    entries = registry(weights_dir=args.weights_dir)
    names = select(entries, args.encoders, args.quick)
    own_meta = {m["encoder"]: m for m in read_manifest(data_dir("assets")).values() if "encoder" in m}
    prov = provenance()
    info = machine(args.device)
    results: dict[str, dict] = {}
    for name in names:
        t0 = time.perf_counter()
        try:
            enc, source, note = build(entries[name], own_meta)
        except Skip as e:
            results[name] = {"skipped": str(e)}
            print(f"{name}: skipped: {e}", flush=True)
            continue
        row: dict[str, Any] = {"output_shape": list(enc.output_shape), "params": enc.num_parameters(),
                               "source": source}
        if not row["params"]:
            note = note or "no model: the simulator's depth map, pooled"
        if note:
            row["note"] = note
        try:
            row["ms_per_step"] = bench_one(enc, args.envs, args)
        except RuntimeError as e:  # e.g. out of GPU memory, or torch.compile failing on this machine
            results[name] = {"skipped": f"failed while timing: {str(e).splitlines()[0] if str(e) else e!r}"}
            print(f"{name}: {results[name]['skipped']}", flush=True)
            continue
        row["measured"] = {"date": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "load_avg_1min": round(os.getloadavg()[0], 2)}
        results[name] = row
        medians = ", ".join(f"{n}: {row['ms_per_step'][str(n)]['median']:.1f}" for n in args.envs)
        print(f"{name} ({source}): median ms per step by envs {{{medians}}} [{time.perf_counter() - t0:.0f}s]",
              flush=True)
        del enc
    info["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    settings = {"cameras": len(CAMERAS), "image": [IMAGE_SIZE, IMAGE_SIZE, 3], "envs": args.envs,
                "precision": args.precision, "compile": args.compile, "device": args.device, "quick": args.quick,
                "warmup": args.warmup, "repeats": args.repeats, "min_repeats": args.min_repeats,
                "budget_s_per_point": args.budget, "ms_per_step": "one EncoderBank.embed call (host to device, "
                "inference, float16 numpy back) for N envs x 2 cameras",
                "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    if args.merge and args.out.exists():
        import json

        previous = json.loads(args.out.read_text())
        if previous["settings"]["envs"] != args.envs or previous["settings"]["device"] != args.device:
            raise UserError(f"--merge: {args.out} was measured with other envs/device; drop --merge or match them")
        results = {**{k: v for k, v in previous["encoders"].items() if k not in results}, **results}
        info = {**previous["machine"], "merged_runs": previous["machine"].get("merged_runs", []) + [info]}
        prov = {**prov, "merged_into": previous.get("provenance", "unknown")}  # the rows kept from before
    write_json(args.out, {"provenance": prov, "machine": info, "settings": settings, "encoders": results})
    print_table(results, args.envs, f"encoder bank, ms per env step ({args.device}, {args.precision}, "
                                    f"{info['torch_threads']} threads), median (p90)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
