"""The Ray executor's work: unfinished jobs on Ray Tune, a local Ray by default, a cluster with an address.

The only module that imports ray. Each Tune trial trains its job as the in-process executor would
(train_job.py) into its own run dir, so Tune keeps no state that matters: starting the same jobs again skips
finished run dirs and resumes the others. A class Trainable (one `step` = the whole run) because Tune runs
function trainables in a thread, and `train()` needs the main thread to turn SIGTERM into a checkpoint."""

from __future__ import annotations

# Imports inside functions: ray and the trainer (torch), loaded in the trial, not when a plan or sweep is read.

import os
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console

from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job
from wsa_robot.engine.plan import Resources

# Reach every worker (a cluster's workers do not inherit this shell): weights, data. The GL backend is the
# user's own MUJOCO_GL if set (envs/gl.py user_gl_env), else each worker chooses for its machine (train_job).
_PASSED_ENV = ("WSA_WEIGHTS_DIR", "WSA_ROBOT_HOME", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def _trainable():
    from ray import tune

    class JobTrial(tune.Trainable):
        def setup(self, config: dict, jobs: dict[str, dict] | None = None) -> None:
            self.job = (jobs or {})[config["trial"]]

        def step(self) -> dict:
            from wsa_robot.engine.train_job import train_job

            return {**train_job(**self.job), "done": True}

        def save_checkpoint(self, checkpoint_dir: str) -> dict:
            return {}  # the run dir holds the real checkpoint

        def load_checkpoint(self, checkpoint: Any) -> None:
            pass

    return JobTrial


def _check_reachable(address: str) -> None:
    """Ray retries an unreachable head for minutes; a host:port that refuses a TCP connection fails now."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms: Ray resolves them
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as e:
        raise UserError(f"cannot reach the Ray cluster at {address} ({e.strerror or e}); check --address or "
                        "RAY_ADDRESS, or leave both unset to run on a local Ray") from None


def _init_ray(address: str | None, cpus: int | None, gpus: int | None) -> bool:
    """Connect to `address` (or $RAY_ADDRESS), else start a local Ray with `cpus` and `gpus`; True if local."""
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    from wsa_robot.envs.gl import user_gl_env

    env = {**{k: os.environ[k] for k in _PASSED_ENV if k in os.environ}, **user_gl_env()}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO.*")
        if address:
            _check_reachable(address)
            try:
                ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=True)
            except (ConnectionError, ValueError) as e:
                raise UserError(f"cannot connect to the Ray cluster at {address}: {str(e).splitlines()[0]}") from None
            return False
        # address="local": a fresh Ray, never someone's `ray start` found on this machine
        ray.init(address="local", num_cpus=cpus, num_gpus=gpus, include_dashboard=False,
                 runtime_env={"env_vars": env}, log_to_driver=True)
    return True


def _check_fits(res: Resources) -> None:
    import ray

    have = ray.cluster_resources()
    for key, want in (("CPU", res.cpu), ("GPU", res.gpu)):
        if want > have.get(key, 0):
            raise UserError(f"each trial asks for {want:g} {key} (resources: in the sweep or plan file) but Ray has "
                            f"{have.get(key, 0):g}; lower it or give Ray more (--cpus/--gpus, or a bigger cluster)")


def _last_line(error: BaseException) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return lines[-1] if lines else type(error).__name__


def run_jobs(jobs: list[Job], out_dir: Path, resources: Resources, address: str | None = None,
             cpus: int | None = None, gpus: int | None = None, console: Console | None = None) -> list[str]:
    """Run `jobs` (the unfinished ones) on Ray, Tune's own files under out_dir/_tune; return one line per failed
    job. Ray is shut down after. Paths go to the workers absolute, since they run in another directory."""
    import ray
    from ray import tune

    console = console or Console()
    local = _init_ray(address, cpus, gpus)
    try:
        if local:  # a cluster may scale up to fit; a local Ray never will
            _check_fits(resources)
        console.print(f"running {len(jobs)} trials on Ray ({ray.cluster_resources().get('CPU', 0):g} CPUs, "
                      f"{ray.cluster_resources().get('GPU', 0):g} GPUs), {resources.cpu:g} CPU "
                      f"{resources.gpu:g} GPU each")
        # the grid is over job names (what Tune's tables show); the jobs travel beside it
        jobs_by_name = {j.name: {**j.as_dict(), "path": str(j.path.resolve())} for j in jobs}
        trainable = tune.with_resources(tune.with_parameters(_trainable(), jobs=jobs_by_name),
                                        {"cpu": resources.cpu, "gpu": resources.gpu})
        index = {j.name: i for i, j in enumerate(jobs)}
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search([j.name for j in jobs])},
            tune_config=tune.TuneConfig(trial_name_creator=lambda tr: tr.config["trial"],
                                        trial_dirname_creator=lambda tr: f"trial_{index[tr.config['trial']]}"),
            run_config=tune.RunConfig(name=time.strftime("%Y%m%d-%H%M%S"),
                                      storage_path=str((out_dir / "_tune").resolve()),  # pyarrow wants it absolute
                                      failure_config=tune.FailureConfig(max_failures=0),
                                      checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False), verbose=1),
        )
        results = tuner.fit()
        return [f"trial {r.config['trial']} failed: {_last_line(r.error)}" for r in results if r.error]
    finally:
        ray.shutdown()
