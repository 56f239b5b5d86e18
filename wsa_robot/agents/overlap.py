"""SAC whose gradient steps run while the env subprocess renders the next frame (`sac.overlap`, on by default).

stable-baselines3 alternates strictly: step the env (two renders and robosuite's physics, ~27 ms on a
software GL), then update (~25 ms at batch 256 on one CPU core). Neither needs the other's result right away:
the update asked for after step t only reads the replay buffer, which already holds transition t. So it runs
during step t+1, after the action has been sent to the env subprocess and before its observation is awaited.

One training step t+1 under overlap, in the order of events (SB3's collect_rollouts and learn drive it; the
code that does each is named on the right):

    1. act      SB3 samples a_{t+1} from the policy as it is: without update t      (WeightsSAC._sample_action)
    2. send     a_{t+1} goes to the env subprocess, which steps physics and renders  (UpdateDuringStep.step_async)
    3. update   meanwhile this process runs update t: SB3's gradient steps after
                transition t, on batches from the buffer that holds it              (UpdateDuringStep.step_wait ->
                                                                                     OverlapSAC.run_deferred)
    4. receive  o_{t+2}, r_{t+1} from the subprocess; the frozen encoders embed o_{t+2} (EmbeddingVecEnv.step_wait)
    5. store    callbacks (checkpoints and evals see update t), then transition t+1 goes into the buffer
    6. hold     SB3's learn() asks for update t+1: OverlapSAC.train keeps it for step t+2's event 3
    After the last step, OverlapSAC.learn runs the held update, so none is lost.

Every update sees exactly the data SB3 would give it; the only change is that action t+1 is chosen by the
policy from before update t (one update, out of tens of thousands, stale). Without an UpdateDuringStep env
(`sac.overlap=false`, a loaded model, `vec_env: dummy`) OverlapSAC trains at once, exactly as SAC.

The update can only run beside the step when the env steps in another process: with overlap, `vec_env: auto`
means a subprocess even for one env (run/training_setup.py, decided by spec.resolve). It pays only when the
learner leaves the renderer its core: torch gets the cores the env subprocesses do not use while training
(agents/threads.py `learner_threads`). On 2 cores, Lift with 2 cameras: 27.4 steps/s overlapped
against 20.4 in SB3's order (results/throughput.json); before the render got cheaper, overlapping with torch's
default 2 threads was slower than not overlapping (13.6 vs 15.4).
"""

from __future__ import annotations

from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from wsa_robot.agents.acting import WeightsSAC
from wsa_robot.agents.algos import off_policy


class UpdateDuringStep(VecEnvWrapper):
    """Events 2-4: sends the actions (step_async, as any VecEnv), runs the attached model's held update, then
    waits for the observations. Worth it only when the envs step in subprocesses."""

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.model: OverlapSAC | None = None

    def attach(self, model: OverlapSAC) -> None:
        """From now on `model` holds its updates for this env's steps (OverlapSAC.train)."""
        self.model = model
        model.overlapped = True

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        if self.model is not None:
            self.model.run_deferred()  # 3. update t, while the subprocess steps with a_{t+1}
        return self.venv.step_wait()  # 4. receive


class OverlapSAC(WeightsSAC):
    """SAC that holds each `train()` call for the next env step once an `UpdateDuringStep` env drives it
    (events 3 and 6); without one it trains at once, exactly as SAC."""

    _deferred: tuple[int, int] | None = None
    overlapped: bool = False  # True once an UpdateDuringStep env runs the held updates

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        if self.overlapped:
            self._deferred = (gradient_steps, batch_size)  # 6. hold
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


# ---- the learner joined to the env run/training_env.py built -------------------------------

def overlaps(cfg) -> bool:
    """Whether a run's SAC updates overlap its env steps (`sac.overlap`, SAC only)."""
    return off_policy(cfg.algo) and cfg.sac.overlap


def attach_learner(venv: VecEnv, model) -> None:
    """Join a built or loaded model to the env `make_training_env` made: with overlap its updates are held for
    the env's steps (a saved model forgets this, so a resumed one is joined again)."""
    if isinstance(venv, UpdateDuringStep) and isinstance(model, OverlapSAC):
        venv.attach(model)
