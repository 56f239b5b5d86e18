"""The loop of an env subprocess: SB3's SubprocVecEnv protocol (stable_baselines3 2.9), in a module that
imports no torch.

SB3's own worker and its CloudpickleWrapper live in stable_baselines3, whose package import loads torch, so every
env subprocess paid 2-3 s of imports and a few hundred MB for a library it never calls. Here the subprocess
imports this module and what its env factory needs (a picklable callable whose module is torch-free too:
run/env_recipe.py); run/env_workers.py starts it."""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any, Callable

import gymnasium as gym

from wsa_robot.envs.monitor import is_wrapped


def work(remote: Connection, parent_remote: Connection, make_env: Callable[[], gym.Env]) -> None:
    """Serve one env over `remote` until "close" or the pipe ends; the commands and replies of SB3's _worker."""
    parent_remote.close()
    env = make_env()
    reset_info: dict[str, Any] | None = {}
    while True:
        try:
            cmd, data = remote.recv()
            if cmd == "step":
                observation, reward, terminated, truncated, info = env.step(data)
                done = terminated or truncated
                info["TimeLimit.truncated"] = truncated and not terminated
                if done:  # SB3's VecEnv API: the final observation in the info, the next episode's first returned
                    info["terminal_observation"] = observation
                    observation, reset_info = env.reset()
                remote.send((observation, reward, done, info, reset_info))
            elif cmd == "reset":
                options = {"options": data[1]} if data[1] else {}
                observation, reset_info = env.reset(seed=data[0], **options)
                remote.send((observation, reset_info))
            elif cmd == "render":
                remote.send(env.render())
            elif cmd == "close":
                env.close()
                remote.close()
                break
            elif cmd == "get_spaces":
                remote.send((env.observation_space, env.action_space))
            elif cmd == "env_method":
                remote.send(env.get_wrapper_attr(data[0])(*data[1], **data[2]))
            elif cmd == "get_attr":
                remote.send(env.get_wrapper_attr(data))
            elif cmd == "has_attr":
                try:
                    env.get_wrapper_attr(data)
                    remote.send(True)
                except AttributeError:
                    remote.send(False)
            elif cmd == "set_attr":
                remote.send(setattr(env, data[0], data[1]))  # type: ignore[func-returns-value]
            elif cmd == "is_wrapped":
                remote.send(is_wrapped(env, data))
            else:
                raise NotImplementedError(f"`{cmd}` is not implemented in the worker")
        except (EOFError, KeyboardInterrupt):
            break
