"""stable-baselines3 SAC / PPO with a fusion module as the features extractor; no RL algorithm written here.

SAC uses CriticFusionSACPolicy (one fusion module trained by the critic, read by the actor: see sac_policy.py);
PPO uses SB3's MultiInputPolicy (WeightsPPOPolicy), whose shared extractor learns from the policy and value
losses together. Both record the token weights of the actions they take (acting.py).
On goal tasks (achieved_goal and desired_goal in the observation) SAC replays with SB3's HerReplayBuffer.
"""

from __future__ import annotations

from pathlib import Path

from stable_baselines3 import PPO, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents.acting import WeightsPPOPolicy, act, policy_extractor, rollout_weights  # noqa: F401
from wsa_robot.agents.nstep import DictNStepReplayBuffer
from wsa_robot.agents.overlap import OverlapSAC
from wsa_robot.agents.sac_policy import CriticFusionSACPolicy
from wsa_robot.agents.algos import algo_settings, off_policy
from wsa_robot.config import RunConfig
from wsa_robot.core.device import resolve_device
from wsa_robot.envs.goal import is_goal_space
from wsa_robot.fusion import extractor_kwargs

ALGOS: dict[str, type[BaseAlgorithm]] = {"sac": OverlapSAC, "ppo": PPO}
POLICIES: dict[str, type] = {"sac": CriticFusionSACPolicy, "ppo": WeightsPPOPolicy}
HER = {"n_sampled_goal": 4, "goal_selection_strategy": "future"}  # 4 relabelled goals per real one, from later steps


def policy_kwargs(cfg: RunConfig, token_keys: list[str], context_key: str | None) -> dict:
    cls, kwargs = extractor_kwargs(cfg.fusion, token_keys, context_key, dim=cfg.fusion_dim,
                                   wsa_scorer=cfg.wsa_scorer, scorer_hidden=cfg.wsa_scorer_hidden,
                                   lin_context=cfg.lin_context, augment=cfg.e2e_augment)
    policy = {"features_extractor_class": cls, "features_extractor_kwargs": kwargs,
              "net_arch": list(algo_settings(cfg).net_arch)}
    if off_policy(cfg.algo):  # one kernel for all of Adam's parameter updates: 2 ms of a 28 ms update on 1 CPU core
        policy["optimizer_kwargs"] = {"fused": True}
        policy["critic_layer_norm"] = cfg.sac.critic_layer_norm
    return policy


def linear_to_zero(value: float) -> LinearSchedule:
    """A schedule of SB3's progress_remaining (1 at the start, 0 at the end): `value` falling linearly to 0."""
    return LinearSchedule(start=value, end=0.0, end_fraction=1.0)


def algo_hyperparameters(cfg: RunConfig) -> dict:
    """The algorithm's keyword arguments; `ppo.linear_decay` turns learning_rate and clip_range into
    schedules that reach 0 at the end of training (the reference Atari PPO)."""
    hp = algo_settings(cfg).model_dump()
    hp.pop("net_arch")
    hp.pop("overlap", None)  # how train() schedules updates, not an SB3 argument
    hp.pop("critic_layer_norm", None)  # the policy's (policy_kwargs)
    hp.pop("demo_fraction", None)  # given with the demos at every start and resume (train.give_demos)
    hp.pop("demo_bc", None)  # likewise
    if off_policy(cfg.algo):  # SAC's n-step returns come from the replay buffer (replay_kwargs); PPO's n_steps is its rollout
        hp.pop("n_steps")
    if hp.pop("linear_decay", False):
        hp["learning_rate"] = linear_to_zero(hp["learning_rate"])
        hp["clip_range"] = linear_to_zero(hp["clip_range"])
    return hp


def replay_kwargs(cfg: RunConfig, venv: VecEnv) -> dict:
    """SAC on a goal task replays with HER. The buffer holds the embedded observations; HER relabels their
    raw `desired_goal` with a later `achieved_goal` and asks the env stack for the reward (envs/goal.py).
    `sac.n_steps` > 1: n-step returns from DictNStepReplayBuffer (agents/nstep.py), not combined with HER (which
    spec.resolve refuses in one line, agents/algos.py check_replay)."""
    if not off_policy(cfg.algo):
        return {}
    if is_goal_space(venv.observation_space):
        return {"replay_buffer_class": HerReplayBuffer, "replay_buffer_kwargs": dict(HER)}
    if cfg.sac.n_steps > 1:
        return {"replay_buffer_class": DictNStepReplayBuffer,
                "replay_buffer_kwargs": {"n_steps": cfg.sac.n_steps, "gamma": cfg.sac.gamma}}
    return {}


def build_agent(cfg: RunConfig, venv: VecEnv, token_keys: list[str], context_key: str | None,
                tensorboard_log: Path | None) -> BaseAlgorithm:
    hp = {**algo_hyperparameters(cfg), **replay_kwargs(cfg, venv)}
    return ALGOS[cfg.algo](POLICIES[cfg.algo], venv, policy_kwargs=policy_kwargs(cfg, token_keys, context_key),
                           tensorboard_log=str(tensorboard_log) if tensorboard_log else None, seed=cfg.seed,
                           device=resolve_device(cfg.device), verbose=0, **hp)


def load_agent(cfg: RunConfig, path: Path, venv: VecEnv | None) -> BaseAlgorithm:
    """Without `venv` (acting only) a HER agent gets a plain buffer: HER cannot be rebuilt without an env.
    A PPO run saved with SB3's own MultiInputPolicy loads into WeightsPPOPolicy (the same parameters)."""
    custom = {"replay_buffer_class": DictReplayBuffer, "replay_buffer_kwargs": {}} \
        if venv is None and off_policy(cfg.algo) else {}
    if not off_policy(cfg.algo):  # PPO runs saved with SB3's MultiInputPolicy
        custom["policy_class"] = POLICIES[cfg.algo]
    return ALGOS[cfg.algo].load(path, env=venv, device=resolve_device(cfg.device), custom_objects=custom or None)
