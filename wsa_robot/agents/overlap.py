"""SAC whose gradient steps run while the env subprocess renders the next frame.

stable-baselines3 alternates strictly: step the env (two renders and robosuite's physics, ~27 ms on a
software GL), then update (~25 ms at batch 256 on one CPU core). Neither needs the other's result right away:
the update after step t only reads the replay buffer, which already holds transition t. So the update is
started when the next action has been sent to the env subprocess, and the new observation is awaited after
it. Every update still sees exactly the data SB3 would give it; the only change is that action t+1 is chosen
by the policy from before update t (one update, out of tens of thousands, stale).

On by default (`sac.overlap=false` restores SB3's order). It pays only when the learner leaves the renderer
its core: train() gives torch the cores the env subprocesses do not use (agents/threads.py). On 2 cores, Lift
with 2 cameras: 27.4 steps/s overlapped against 20.4 in SB3's order (results/throughput.json); before the
render got cheaper, overlapping with torch's default 2 threads was slower than not overlapping (13.6 vs 15.4).
"""

from __future__ import annotations

from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from wsa_robot.agents.acting import WeightsSAC
from wsa_robot.algos import off_policy
from wsa_robot.pipeline import env_subprocesses, make_vec_env
from wsa_robot.seeds import training_seed


class OverlapSAC(WeightsSAC):
    """SAC that defers each `train()` call to the next env step once an `UpdateDuringStep` env drives it;
    without one it trains at once, exactly as SAC."""

    _deferred: tuple[int, int] | None = None
    overlapped: bool = False  # True once an UpdateDuringStep env runs the deferred updates

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        if self.overlapped:
            self._deferred = (gradient_steps, batch_size)
        else:
            super().train(gradient_steps, batch_size)

    def run_deferred(self) -> None:
        """The update SB3 asked for after the last env step; called while the env computes the next one."""
        if self._deferred is None:
            return
        gradient_steps, batch_size = self._deferred
        self._deferred = None
        super().train(gradient_steps, batch_size)
        self.policy.set_training_mode(False)  # the next action is sampled in eval mode, as SB3 does

    def learn(self, *args, **kwargs):
        out = super().learn(*args, **kwargs)
        self.run_deferred()  # the last update, which no further env step carries
        return out

    def _excluded_save_params(self) -> list[str]:
        # a loaded model trains at once until an UpdateDuringStep env is attached again
        return super()._excluded_save_params() + ["_deferred", "overlapped"]


class UpdateDuringStep(VecEnvWrapper):
    """Runs the model's deferred update between sending the actions (step_async) and waiting for the
    observations (step_wait). Worth it only when the envs step in subprocesses."""

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.model: OverlapSAC | None = None

    def attach(self, model: OverlapSAC) -> None:
        self.model = model
        model.overlapped = True

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        if self.model is not None:
            self.model.run_deferred()
        return self.venv.step_wait()


def overlaps(cfg) -> bool:
    """Whether a run's SAC updates overlap its env steps (`sac.overlap`, SAC only)."""
    return off_policy(cfg.algo) and cfg.sac.overlap


def make_training_env(cfg, pipe, **kwargs) -> VecEnv:
    """The envs an agent learns from: as `make_vec_env(training=True)`, plus, when updates overlap env steps,
    a subprocess even for one env (`vec_env: auto`) and the UpdateDuringStep wrapper; `attach_learner` then
    hands it the model."""
    cfg = training_env_config(cfg)
    venv = make_vec_env(cfg, pipe, cfg.n_envs, training_seed(cfg.seed), training=True, **kwargs)
    return UpdateDuringStep(venv) if overlaps(cfg) else venv


def training_env_config(cfg):
    """The config the training envs are built from: with overlapping updates `vec_env: auto` means a
    subprocess even for one env, since the update can only run while a subprocess steps."""
    if overlaps(cfg) and cfg.vec_env == "auto":
        return cfg.model_copy(update={"vec_env": "subproc"})
    return cfg


def training_env_subprocesses(cfg) -> int:
    """How many env subprocesses `make_training_env` starts (0: the envs step in this process)."""
    cfg = training_env_config(cfg)
    return env_subprocesses(cfg.vec_env, cfg.n_envs)


def attach_learner(venv: VecEnv, model) -> None:
    if isinstance(venv, UpdateDuringStep) and isinstance(model, OverlapSAC):
        venv.attach(model)
