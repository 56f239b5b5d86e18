"""SB3's SubprocVecEnv with a torch-free env subprocess (envs/worker.py): the same pipes and commands, so every
VecEnv method of SB3's class works unchanged."""

from __future__ import annotations

import multiprocessing as mp
from typing import Callable

import gymnasium as gym
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv

from wsa_robot.envs.worker import work


class EnvSubprocesses(SubprocVecEnv):
    """One subprocess per env. `env_fns` are pickled as they are (plain pickle, not cloudpickle): callables of
    torch-free modules, such as run/env_recipe.py's EnvRecipe, so that unpickling them imports no torch."""

    def __init__(self, env_fns: list[Callable[[], gym.Env]], start_method: str | None = None) -> None:
        self.waiting, self.closed = False, False
        if start_method is None:  # SB3's choice: fork is not thread-safe
            start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(start_method)
        self.remotes, self.work_remotes = zip(*[ctx.Pipe() for _ in env_fns], strict=True)
        self.processes = []
        for work_remote, remote, env_fn in zip(self.work_remotes, self.remotes, env_fns, strict=True):
            # daemon: a crashed main process leaves no env behind
            process = ctx.Process(target=work, args=(work_remote, remote, env_fn), daemon=True)
            process.start()
            self.processes.append(process)
            work_remote.close()
        self.remotes[0].send(("get_spaces", None))
        observation_space, action_space = self.remotes[0].recv()
        VecEnv.__init__(self, len(env_fns), observation_space, action_space)
