"""Throughput of the WSA pipeline against stock robosuite and stock stable-baselines3, measured side by side.

    python benchmarks/bench_throughput.py                 # full: 5 rounds, results/throughput.json
    python benchmarks/bench_throughput.py --quick --out /tmp/throughput_quick.json   # smoke check, 1 round
    python benchmarks/bench_throughput.py --only env,memory --repeats 3 --torch-threads 1

Time it on an otherwise idle machine: other processes on the cores skew every ratio (torch's default of one
thread per core slows most under contention, so --torch-threads 1 is worth a second run on small machines).

Configurations (all on the task's two cameras, agentview + robot0_eye_in_hand, RGB 84x84, random actions
unless training; the unit is env steps per second, summed over envs):

    env_ours             wsa_robot.envs.make_env: one render pass per camera per control step
    env_stock_robosuite  robosuite.make(use_camera_obs=True, has_offscreen_renderer=True, hard_reset=False),
                         its default render quality; horizon, reward shaping and control rate from the task spec
    pipeline_1env        make_vec_env(n_envs=1): env + frozen encoder bank -> embedding obs, no learning
    pipeline_2env        make_vec_env(n_envs=2): two SubprocVecEnv workers, one batched encoder call per step
                         (torch threads as train() sets them for n_envs=2: the cores the workers leave, >= 1)
    train_wsa_sac        the default, as train() builds it (WSA, batch 256, 1 gradient step per env step;
                         sac.overlap: the update runs while the env subprocess renders, and torch gets the core
                         the subprocess leaves); timed over a window after learning_starts, so every step has an
                         update
    train_wsa_sac_strict sac.overlap=false: SB3's strict step-then-update order, one process, torch's default
                         threads
    train_wsa_sac_sb3_update  the default with SB3's own SAC.train (five passes of the fusion module per update,
                         agents/sac_update.py runs four or three): before and after, side by side
    train_wsa_sac_utd2   the default with two gradient steps per env step (sac.gradient_steps=2)
    train_wsa_sac_h64_reused  the default with wsa_scorer_hidden=64 and sac.actor_features=reused
    train_sb3_pixels     SB3 SAC("MultiInputPolicy", NatureCNN per image) on the stock env through
                         robosuite.wrappers.GymWrapper(flatten_obs=False): uint8 images + proprio, the SAC settings
                         stock SAC takes (the file's "sb3_baseline" names ours it lacks)

Every round runs each selected configuration once, in a fixed order (A B C A B C ...), each on a freshly built
env/agent whose construction and warm-up steps are not timed. Per configuration: every run, the median, min
and max. `memory` compares the bytes SB3's DictReplayBuffer allocates per transition for the raw-pixel
observation and for ours (embeddings + proprio + token_mask), and measures the peak RSS of a fresh process that
fills our buffer. Ratios use medians. The Atari configurations (benchmarks/_bench_atari.py) time PPO on Pong:
atari_wsa_ppo (four frozen skills, run once per env step), atari_e2e_ppo (NatureCNN) and atari_reference_ppo
(the reference's extractor, rerunning the skills in every PPO minibatch); atari_wsa_ppo_onnx, only by name, is
atari_wsa_ppo with the skills run by onnxruntime (encoder_runtime=onnx: pip install -e ".[onnx]"), and
atari_wsa_ppo_fp32, also by name, the skills in fp32 (the task's encoder_precision=auto runs them under bf16
autocast on a CPU with AMX, so there atari_wsa_vs_reference and atari_wsa_onnx_vs_torch set bf16 skills against
fp32 ones); train_e2e_sac, only by name or `--only e2e`, is train_wsa_sac with fusion=e2e (NatureCNN per camera
trained on the pixels).
--only takes configuration names and/or the groups env, vec, train, sb3, e2e, atari, memory.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from wsa_robot.envs.gl import ensure_headless_gl

ensure_headless_gl()  # MUJOCO_GL must be set before anything imports mujoco
import wsa_robot.envs.robosuite.env  # noqa: E402, F401  (imports robosuite with its import-time warnings muted)

from _bench_atari import bench_ppo, bench_reference  # noqa: E402
from _bench_util import (describe, machine_info, measure_filled_buffer_rss,  # noqa: E402
                         replay_bytes_per_transition, space_spec, summarize)
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from wsa_robot.core.atomic import write_json  # noqa: E402
from wsa_robot.core.provenance import provenance  # noqa: E402
from wsa_robot.config import RunConfig, load_config  # noqa: E402
from wsa_robot.agents.threads import learner_threads, torch_threads  # noqa: E402
from wsa_robot.run.pipeline import Pipeline, make_vec_env, plan  # noqa: E402
from wsa_robot.run.training_setup import env_subprocesses  # noqa: E402
from wsa_robot.core.task_spec import TaskSpec  # noqa: E402
from wsa_robot.envs.tasks import check_cameras, load_task  # noqa: E402

console = Console()


@dataclass(frozen=True)
class Settings:
    repeats: int = 5
    env_steps: int = 200          # timed steps per env/pipeline run (per env for pipeline_2env)
    warmup_steps: int = 10        # untimed steps before each env/pipeline run and after learning_starts
    train_steps: int = 200        # timed learning steps per train_wsa_sac run
    sb3_train_steps: int = 30     # timed learning steps per train_sb3_pixels run (~1 s each on 2 cores)
    learning_starts: int = 100
    memory_transitions: int = 100_000
    atari_iterations: int = 3     # timed PPO iterations (8 envs x n_steps + 4 epochs) per Atari run
    atari_n_steps: int = 128      # PPO n_steps of the Atari runs: the task's 128 (quick: 32)
    task: str = "Lift"
    seed: int = 0
    torch_threads: int = 0        # the torch_threads config key: 0 = as train() chooses (agents/threads.py)
    overrides: tuple[str, ...] = ()  # key=value for every configuration (--set): a candidate default


FULL = Settings()
QUICK = Settings(repeats=1, env_steps=30, warmup_steps=2, train_steps=20, sb3_train_steps=4, learning_starts=24,
                 memory_transitions=10_000, atari_iterations=1, atari_n_steps=32)


# ---------------------------------------------------------------- building the things we time

def run_config(s: Settings, seed: int, *overrides: str) -> RunConfig:
    """The default run config, with a buffer just big enough for one timed training run."""
    buffer = s.learning_starts + s.warmup_steps + max(s.train_steps, s.sb3_train_steps) + 100
    return load_config([f"task={s.task}", f"seed={seed}", f"sac.learning_starts={s.learning_starts}",
                        f"sac.buffer_size={buffer}", "eval_every=0", f"torch_threads={s.torch_threads}",
                        *s.overrides, *overrides])


def stock_robosuite_env(task: TaskSpec, cameras: list[str], size: int, seed: int):
    """robosuite as its docs set it up for pixels; horizon and reward shaping as in our task spec."""
    import robosuite
    from robosuite.controllers import load_composite_controller_config

    return robosuite.make(task.env_id, robots=task.robot, use_camera_obs=True, camera_names=list(cameras),
                          camera_heights=size, camera_widths=size, has_renderer=False,
                          has_offscreen_renderer=True, use_object_obs=False,
                          controller_configs=load_composite_controller_config(robot=task.robot),
                          hard_reset=False, horizon=task.horizon, reward_shaping=task.reward_shaping,
                          control_freq=task.control_freq, seed=seed)


def timed_rate(step: Callable[[], int], steps: int, warmup: int) -> float:
    """Steps per second over `steps` env steps; `step()` advances and returns how many env steps it took."""
    for _ in range(warmup):
        step()
    done, start = 0, time.perf_counter()
    while done < steps:
        done += step()
    return done / (time.perf_counter() - start)


class WindowTimer(BaseCallback):
    """Env steps per second from the step where the window opens to the last step of learn()."""

    def __init__(self, opens_at: int) -> None:
        super().__init__()
        self.opens_at = opens_at
        self.t0: float | None = None
        self.n0 = self.n1 = 0
        self.t1 = 0.0

    def _on_step(self) -> bool:
        now = time.perf_counter()
        if self.t0 is None and self.num_timesteps >= self.opens_at:
            self.t0, self.n0 = now, self.num_timesteps
        self.t1, self.n1 = now, self.num_timesteps
        return True

    @property
    def rate(self) -> float:
        if self.t0 is None or self.n1 == self.n0:
            raise RuntimeError("the timing window never opened; learn() ended before learning_starts + warm-up")
        return (self.n1 - self.n0) / (self.t1 - self.t0)


def timed_learning(model, s: Settings, steps: int) -> float:
    """learn() through learning_starts and a warm-up, then time `steps` steps that each include an update."""
    opens_at = s.learning_starts + s.warmup_steps
    timer = WindowTimer(opens_at)
    model.learn(opens_at + steps, callback=timer)
    return timer.rate


# ---------------------------------------------------------------- one run of each configuration

def bench_env_ours(s: Settings, seed: int) -> float:
    from wsa_robot.envs import make_env

    cfg, task, cameras = _task(s, seed)
    env = make_env(task, cameras, cfg.image_size, seed=seed, quality=cfg.render.model_dump())
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    env.reset(seed=seed)

    def step() -> int:
        _, _, terminated, truncated, _ = env.step(rng.uniform(low, high))
        if terminated or truncated:
            env.reset()
        return 1

    try:
        return timed_rate(step, s.env_steps, s.warmup_steps)
    finally:
        env.close()


def bench_env_stock(s: Settings, seed: int) -> float:
    cfg, task, cameras = _task(s, seed)
    env = stock_robosuite_env(task, cameras, cfg.image_size, seed)
    rng = np.random.default_rng(seed)
    low, high = env.action_spec
    env.reset()

    def step() -> int:
        _, _, done, _ = env.step(rng.uniform(low, high))
        if done:
            env.reset()
        return 1

    try:
        return timed_rate(step, s.env_steps, s.warmup_steps)
    finally:
        env.close()


def _bench_pipeline(s: Settings, seed: int, n_envs: int) -> float:
    cfg, pipe = _plan(s, seed)
    with torch_threads(learner_threads(cfg, env_subprocesses(cfg.vec_env, n_envs))):
        return _timed_pipeline(s, seed, make_vec_env(pipe, n_envs, seed), n_envs)


def _timed_pipeline(s: Settings, seed: int, venv, n_envs: int) -> float:
    rng = np.random.default_rng(seed)
    low, high = venv.action_space.low, venv.action_space.high
    venv.reset()

    def step() -> int:  # VecEnvs reset finished episodes themselves
        venv.step(rng.uniform(low, high, size=(n_envs, len(low))).astype(np.float32))
        return n_envs

    try:
        return timed_rate(step, s.env_steps * n_envs, s.warmup_steps)
    finally:
        venv.close()


def bench_pipeline_1env(s: Settings, seed: int) -> float:
    return _bench_pipeline(s, seed, 1)


def bench_pipeline_2env(s: Settings, seed: int) -> float:
    return _bench_pipeline(s, seed, 2)


def _bench_train(s: Settings, seed: int, overlap: bool, *overrides: str, sb3_update: bool = False) -> float:
    """The env, agent and torch threads as train() builds them (make_training_env, attach_learner), for the
    default config with `overrides` (fusion=e2e for the E2E row)."""
    from wsa_robot.agents import build_agent
    from wsa_robot.agents.overlap import attach_learner
    from wsa_robot.run.training_env import make_training_env, training_threads

    cfg, pipe = _plan(s, seed, *overrides, *([] if overlap else ["sac.overlap=false"]))
    with training_threads(pipe.spec):
        venv = make_training_env(pipe)
        try:
            model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, tensorboard_log=None)
            if sb3_update:
                model._one_module = lambda: False  # OnePassSAC.train falls back to SB3's SAC.train
            attach_learner(venv, model)
            return timed_learning(model, s, s.train_steps)
        finally:
            venv.close()


def bench_train_wsa(s: Settings, seed: int) -> float:
    return _bench_train(s, seed, overlap=True)


def bench_train_wsa_sb3_update(s: Settings, seed: int) -> float:
    """The default with SB3's own SAC.train: five passes of the fusion module per update, where ours runs
    three or four (agents/sac_update.py): the same run before and after that change."""
    return _bench_train(s, seed, True, sb3_update=True)


def bench_train_wsa_h64_reused(s: Settings, seed: int) -> float:
    """The default with the cheaper update's two levers: the scorer's hidden width 64 and DrQ-v2's actor
    features (one fusion pass fewer); not the default (results/learn_lift_update.json)."""
    return _bench_train(s, seed, True, "wsa_scorer_hidden=64", "sac.actor_features=reused")


def bench_train_wsa_utd2(s: Settings, seed: int) -> float:
    """The default with two gradient steps per env step (RLPD, DroQ and SERL take several)."""
    return _bench_train(s, seed, True, "sac.gradient_steps=2")


def bench_train_wsa_strict(s: Settings, seed: int) -> float:
    return _bench_train(s, seed, overlap=False)


def bench_train_e2e(s: Settings, seed: int) -> float:
    """The same training loop with fusion=e2e: a NatureCNN per camera trained on the pixels by SAC's losses."""
    return _bench_train(s, seed, True, "fusion=e2e")


def bench_train_sb3_pixels(s: Settings, seed: int) -> float:
    from robosuite.wrappers import GymWrapper
    from stable_baselines3 import SAC

    from wsa_robot.core.device import resolve_device

    cfg, task, cameras = _task(s, seed)
    warnings.filterwarnings("ignore", message=".*precision lowered by casting")  # GymWrapper's float64 bounds
    env = GymWrapper(stock_robosuite_env(task, cameras, cfg.image_size, seed), flatten_obs=False)
    stock, _ = sb3_settings(cfg)
    net_arch = stock.pop("net_arch")
    try:
        model = SAC("MultiInputPolicy", env, policy_kwargs={"net_arch": net_arch}, seed=seed,
                    device=resolve_device(cfg.device), verbose=0, **stock)
        return timed_learning(model, s, s.sb3_train_steps)
    finally:
        env.close()


def sb3_settings(cfg: RunConfig) -> tuple[dict, list[str]]:
    """The run's `sac.*` settings that stock SB3 SAC takes (its constructor's own parameters, and net_arch for
    its policy), and the names of ours it has no such parameter for (they stay at stock SB3's behaviour)."""
    import inspect

    from stable_baselines3 import SAC

    # SB3 2.9 takes n_steps but refuses n-step returns on Dict observations (a camera dict is one)
    accepted = (set(inspect.signature(SAC.__init__).parameters) | {"net_arch"}) - {"n_steps"}
    ours = cfg.sac.model_dump()
    return {k: v for k, v in ours.items() if k in accepted}, sorted(k for k in ours if k not in accepted)


def _plan(s: Settings, seed: int, *overrides: str) -> tuple[RunConfig, Pipeline]:
    """The default config (with `overrides`) and its pipeline (frozen encoders loaded)."""
    cfg = run_config(s, seed, *overrides)
    return cfg, plan(cfg)


def _task(s: Settings, seed: int) -> tuple[RunConfig, TaskSpec, list[str]]:
    """The default config, its task and cameras, without loading any encoder."""
    cfg = run_config(s, seed)
    task = load_task(cfg.task)
    return cfg, task, check_cameras(task, cfg.cameras or task.cameras)


CONFIGS: dict[str, Callable[[Settings, int], float]] = {
    "env_ours": bench_env_ours,
    "env_stock_robosuite": bench_env_stock,
    "pipeline_1env": bench_pipeline_1env,
    "pipeline_2env": bench_pipeline_2env,
    "train_wsa_sac": bench_train_wsa,
    "train_wsa_sac_strict": bench_train_wsa_strict,
    "train_wsa_sac_sb3_update": bench_train_wsa_sb3_update,
    "train_wsa_sac_utd2": bench_train_wsa_utd2,
    "train_wsa_sac_h64_reused": bench_train_wsa_h64_reused,
    "train_sb3_pixels": bench_train_sb3_pixels,
    "train_e2e_sac": bench_train_e2e,
    "atari_wsa_ppo": lambda s, seed: bench_ppo("wsa", seed, s.atari_iterations, s.atari_n_steps),
    "atari_e2e_ppo": lambda s, seed: bench_ppo("e2e", seed, s.atari_iterations, s.atari_n_steps),
    "atari_wsa_ppo_onnx": lambda s, seed: bench_ppo("wsa", seed, s.atari_iterations, s.atari_n_steps, "onnx"),
    "atari_wsa_ppo_fp32": lambda s, seed: bench_ppo("wsa", seed, s.atari_iterations, s.atari_n_steps, "fp32"),
    "atari_reference_ppo": lambda s, seed: bench_reference(seed, s.atari_iterations, s.atari_n_steps),
}
# timed only when named (or their group): an extra, or minutes
OPT_IN = {"atari_wsa_ppo_onnx", "atari_wsa_ppo_fp32", "train_e2e_sac"}
GROUPS: dict[str, list[str]] = {
    "env": ["env_ours", "env_stock_robosuite"],
    "vec": ["pipeline_1env", "pipeline_2env"],
    "train": ["train_wsa_sac", "train_wsa_sac_strict", "train_wsa_sac_sb3_update", "train_wsa_sac_utd2",
              "train_wsa_sac_h64_reused", "pipeline_1env"],
    "sb3": ["train_wsa_sac", "train_sb3_pixels"],
    "e2e": ["train_wsa_sac", "train_e2e_sac"],  # the paper's E2E baseline in our loop (not in the default set)
    "atari": ["atari_wsa_ppo", "atari_e2e_ppo", "atari_reference_ppo"],  # _onnx, _fp32: by name (opt-in)
    "memory": [],
}
RATIOS: dict[str, tuple[str, str]] = {  # name -> (numerator config, denominator config)
    "env_vs_stock_robosuite": ("env_ours", "env_stock_robosuite"),
    "two_envs_vs_one": ("pipeline_2env", "pipeline_1env"),
    "train_vs_env": ("train_wsa_sac", "pipeline_1env"),  # the default (sac.overlap=true)
    "train_strict_vs_env": ("train_wsa_sac_strict", "pipeline_1env"),  # SB3's order (sac.overlap=false)
    "train_sb3_update_vs_env": ("train_wsa_sac_sb3_update", "pipeline_1env"),  # SB3's SAC.train (5 passes)
    "train_utd2_vs_env": ("train_wsa_sac_utd2", "pipeline_1env"),  # 2 gradient steps per env step
    "train_h64_reused_vs_env": ("train_wsa_sac_h64_reused", "pipeline_1env"),  # the cheaper update's levers
    "train_vs_sb3_pixels": ("train_wsa_sac", "train_sb3_pixels"),
    "train_wsa_vs_e2e": ("train_wsa_sac", "train_e2e_sac"),
    "atari_wsa_vs_e2e": ("atari_wsa_ppo", "atari_e2e_ppo"),
    "atari_wsa_onnx_vs_e2e": ("atari_wsa_ppo_onnx", "atari_e2e_ppo"),
    "atari_wsa_onnx_vs_torch": ("atari_wsa_ppo_onnx", "atari_wsa_ppo"),
    "atari_wsa_fp32_vs_e2e": ("atari_wsa_ppo_fp32", "atari_e2e_ppo"),
    "atari_wsa_vs_fp32": ("atari_wsa_ppo", "atari_wsa_ppo_fp32"),
    "atari_wsa_vs_reference": ("atari_wsa_ppo", "atari_reference_ppo"),
}
GOALS = {"env_vs_stock_robosuite": 3.0, "two_envs_vs_one": 1.7, "train_vs_env": 0.9, "train_utd2_vs_env": 0.6, "train_vs_sb3_pixels": 10.0,
         "memory_sb3_vs_wsa": 8.0, "atari_wsa_vs_e2e": 1.2, "atari_wsa_vs_reference": 2.0}  # 1.2: issue 17


# ---------------------------------------------------------------- memory

def bench_memory(s: Settings) -> dict:
    """Replay bytes per transition, raw pixels vs embeddings, and the measured RSS of our filled buffer."""
    cfg, pipe = _plan(s, s.seed)
    venv = make_vec_env(pipe, 1, s.seed)
    try:
        ours, pixels = space_spec(venv.observation_space), space_spec(venv.venv.observation_space)
        action_dim = venv.action_space.shape[0]
    finally:
        venv.close()
    per = {"sb3_pixels": replay_bytes_per_transition(pixels, action_dim),
           "wsa": replay_bytes_per_transition(ours, action_dim)}
    default_size = load_config([]).sac.buffer_size
    return {
        "unit": "bytes per transition (obs + next_obs; total adds action, reward, done, timeout)",
        "ratio_basis": "total of sb3_pixels / total of wsa",
        "sb3_pixels": {**per["sb3_pixels"], "observation": describe(pixels)},
        "wsa": {**per["wsa"], "observation": describe(ours)},
        f"gib_at_buffer_size_{default_size}": {k: round(v["total"] * default_size / 2**30, 3) for k, v in per.items()},
        "wsa_measured": measure_filled_buffer_rss(ours, action_dim, s.memory_transitions),
    }


# ---------------------------------------------------------------- rounds, results, report

def selected(only: str | None) -> tuple[list[str], bool]:
    """Configurations to time (in CONFIGS order) and whether to measure memory."""
    if not only:
        return [n for n in CONFIGS if n not in OPT_IN], True
    names: set[str] = set()
    for item in (x.strip() for x in only.split(",") if x.strip()):
        if item in GROUPS:
            names.update(GROUPS[item])
        elif item in CONFIGS:
            names.add(item)
        else:
            raise SystemExit(f"--only: unknown name {item!r}; choose from {', '.join([*CONFIGS, *GROUPS])}")
    return [n for n in CONFIGS if n in names], "memory" in {x.strip() for x in only.split(",")}


def ratios(configs: dict[str, dict], memory: dict | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, (num, den) in RATIOS.items():
        out[name] = round(configs[num]["median"] / configs[den]["median"], 3) \
            if num in configs and den in configs else None
    out["memory_sb3_vs_wsa"] = round(memory["sb3_pixels"]["total"] / memory["wsa"]["total"], 2) if memory else None
    return out


def results(machine: dict, s: Settings, runs: dict[str, list[float]], memory: dict | None, complete: bool,
            wall_s: float, prov: dict | None = None) -> dict:
    configs = {name: summarize(r) for name, r in runs.items() if r}
    cfg = run_config(s, s.seed)
    stock, lacks = sb3_settings(cfg)
    return {
        "provenance": prov or provenance(),
        "machine": machine,
        "sb3_baseline": {"takes": sorted(stock), "lacks": lacks,
                         "controller": "robosuite's default for the robot (ours: the task's, "
                                       f"{load_task(cfg.task).config.get('controller', cfg.controller)})"},
        "settings": {**asdict(s), "cameras": "task default", "image_size": cfg.image_size,
                     "encoders": cfg.encoders, "fusion": cfg.fusion, "batch_size": cfg.sac.batch_size,
                     "train_freq": cfg.sac.train_freq, "gradient_steps": cfg.sac.gradient_steps,
                     "render_quality_ours": cfg.render.model_dump(), "device": cfg.device,
                     "order": "each round runs every configuration once, in the same order"},
        "configs": configs,
        "memory": memory,
        "ratios": ratios(configs, memory),
        "goals": GOALS,
        "complete": complete,
        "wall_s": round(wall_s, 1),
    }


def print_report(res: dict) -> None:
    table = Table(title="throughput (env steps/s; median of runs)")
    for col in ("configuration", "runs", "median", "min", "max", "spread %"):
        table.add_column(col, justify="left" if col == "configuration" else "right")
    for name, c in res["configs"].items():
        table.add_row(name, str(len(c["runs"])), f"{c['median']:.2f}", f"{c['min']:.2f}", f"{c['max']:.2f}",
                      f"{c['spread_pct']}")
    console.print(table)
    ratio_table = Table(title="ratios")
    for col in ("ratio", "value", "goal", "met"):
        ratio_table.add_column(col, justify="left" if col == "ratio" else "right")
    for name, value in res["ratios"].items():
        goal = res["goals"].get(name)
        met = "-" if value is None or goal is None else ("yes" if value >= goal else "NO")
        shown = "n/a" if value is None else f"{value:.2f}"
        ratio_table.add_row(name, shown, "-" if goal is None else f">= {goal}", met)
    console.print(ratio_table)
    if res["memory"]:
        m = res["memory"]
        console.print(f"replay bytes/transition: SB3 pixels {m['sb3_pixels']['total']}, WSA {m['wsa']['total']}; "
                      f"our buffer filled with {m['wsa_measured']['transitions']} transitions: peak RSS "
                      f"{m['wsa_measured']['rss_peak_mib']} MiB ({m['wsa_measured']['bytes_per_transition']} B each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round, few steps: a smoke check")
    parser.add_argument("--repeats", type=int, help="rounds (default 5, quick 1)")
    parser.add_argument("--steps", type=int, help="timed steps per env/pipeline run (default 200, quick 30)")
    parser.add_argument("--train-steps", type=int, help="timed learning steps per WSA-SAC run (default 200)")
    parser.add_argument("--sb3-steps", type=int, help="timed learning steps per SB3 pixel run (default 30)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads for everything timed, as the torch_threads config key "
                             "(0: as train() chooses, agents/threads.py)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every configuration (repeatable), to time a candidate default")
    parser.add_argument("--out", type=Path, default=Path("results/throughput.json"))
    parser.add_argument("--only", help="comma-separated configurations and/or groups (env, vec, train, sb3, atari, memory)")
    args = parser.parse_args()
    s = QUICK if args.quick else FULL
    overrides = {"repeats": args.repeats, "env_steps": args.steps, "train_steps": args.train_steps,
                 "sb3_train_steps": args.sb3_steps}
    s = replace(s, torch_threads=args.torch_threads, overrides=tuple(args.set), **{k: v for k, v in overrides.items() if v is not None})
    names, with_memory = selected(args.only)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)  # as train() does for the torch_threads config key

    start = time.time()
    prov = provenance()
    machine = machine_info()
    runs: dict[str, list[float]] = {name: [] for name in names}
    memory = None
    if with_memory:
        console.print("memory: replay bytes per transition, peak RSS of a filled buffer")
        memory = bench_memory(s)
    for r in range(s.repeats):
        for name in names:
            began = time.time()
            rate = CONFIGS[name](s, s.seed + r)
            runs[name].append(rate)
            console.print(f"round {r + 1}/{s.repeats}  {name:<20} {rate:8.2f} steps/s  "
                          f"({time.time() - began:.0f} s with set-up)")
            gc.collect()
        write_json(args.out, results(machine, s, runs, memory, complete=False, wall_s=time.time() - start,
                                     prov=prov))
    machine["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
    res = results(machine, s, runs, memory, complete=True, wall_s=time.time() - start, prov=prov)
    write_json(args.out, res)
    print_report(res)
    console.print(f"wrote {args.out} in {res['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
