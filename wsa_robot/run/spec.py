"""What a run is, decided once: `resolve(cfg) -> RunSpec`, pure (no model loaded, no env made).

Every entry point asks this one function: `train` (new and `--resume`), `eval` (faults, variations), the
sweep's check of every trial before Ray starts, `bench`, `pretrain --agent`. `pipeline.plan(spec)` then only
loads the spec's encoders, once; so a mistake in a config is the same UserError wherever the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from wsa_robot.agents.algos import check_replay, off_policy
from wsa_robot.config import RunConfig
from wsa_robot.demos.source import check_demos
from wsa_robot.encoders.entry import EncoderEntry
from wsa_robot.encoders.registry import UnknownEncoderError, registry
from wsa_robot.encoders.state import image_encoders
from wsa_robot.envs import checked_visual_mix
from wsa_robot.envs.backends import Backend, RunOptions, backend_for
from wsa_robot.envs.faults import Fault, parse_faults
from wsa_robot.core.errors import UserError
from wsa_robot.fusion import pixel_based
from wsa_robot.core.keys import ACHIEVED_GOAL, DESIRED_GOAL, PROPRIO, STATE, split_token, token_key
from wsa_robot.core.seeds import bench_seed, eval_seed, final_seed, periodic_eval_seed, training_seed
from wsa_robot.core.task_spec import TaskSpec
from wsa_robot.envs.tasks import load_task, run_cameras
from wsa_robot.run.tokens import check_removed, context_key, goal_tokens, run_tokens
from wsa_robot.run.training_setup import TrainingSetup, training_setup

CAMERA, PIXELS, VECTOR = "camera", "pixels", "vector"


@dataclass(frozen=True)
class Token:
    """One token of the fusion: `kind` camera (an encoder's embedding of one camera, `ENCODER@camera`),
    pixels (a camera's raw image, fusion=e2e) or vector (proprio, state, desired_goal)."""
    key: str
    kind: str
    encoder: str | None = None
    camera: str | None = None


@dataclass(frozen=True)
class Seeds:
    """The first env seed of each stream (seeds.py): env i of a stream is seeded stream + i."""
    training: int
    periodic_eval: int
    eval: int
    bench: int  # the bench's target checks
    final: int  # the bench's final scores

    @classmethod
    def of(cls, seed: int) -> Seeds:
        return cls(training_seed(seed), periodic_eval_seed(seed), eval_seed(seed), bench_seed(seed), final_seed(seed))


@dataclass(frozen=True)
class RunSpec:
    """A validated run. `encoders`: the registry entries the bank runs (image encoders with a token left,
    and a context-only encoder); `idle`: encoders whose every token is removed (their shapes, never built).
    `context`: the token WSA/DPA read as context, None for fusion=e2e."""
    cfg: RunConfig
    task: TaskSpec
    backend: Backend
    env: RunOptions  # what every env of the run is made with
    faults: tuple[Fault, ...]  # the run's camera faults (config `faults`), parsed
    cameras: tuple[str, ...]
    tokens: tuple[Token, ...]
    context: str | None
    removed: tuple[str, ...]
    encoders: tuple[EncoderEntry, ...]
    idle: tuple[EncoderEntry, ...]
    seeds: Seeds
    training: TrainingSetup  # where the training envs step, overlap, torch's threads

    @property
    def token_keys(self) -> list[str]:
        return [t.key for t in self.tokens]

    @property
    def pixel_based(self) -> bool:
        return pixel_based(self.cfg.fusion)

    @property
    def state(self) -> bool:
        """Whether the envs give the privileged object state (the `state` token, encoders=state)."""
        return STATE in self.token_keys

    @property
    def depth(self) -> bool:
        """Whether the envs render depth (an encoder reads it; it comes from the same render pass as RGB)."""
        return any(e.modality == "depth" for e in self.encoders)

    @property
    def vector_keys(self) -> list[str]:
        """Raw vectors the embedded observation keeps: proprio, the oracle's state, and for goal tasks the goals
        HER relabels."""
        return [PROPRIO] + ([STATE] if self.state else []) + \
            ([ACHIEVED_GOAL, DESIRED_GOAL] if self.task.goal else [])

    @property
    def idle_shapes(self) -> dict[str, tuple[int, ...]]:
        """Token shapes of the idle encoders, from the registry: no model is built or run."""
        return {token_key(e.name, c): tuple(e.output_shape) for e in self.idle for c in self.cameras}


def needs_cameras(cfg: RunConfig) -> bool:
    """Whether a run's envs render cameras: not when its only encoder is the state oracle (its context is then
    proprio or state, tokens.context_key)."""
    return pixel_based(cfg.fusion) or bool(image_encoders(cfg.encoders)) or \
        bool(context_only_encoder(context_key(cfg), cfg.encoders))


def context_only_encoder(context: str, encoders: list[str]) -> list[str]:
    """`[NAME]` when the context is `NAME@camera` of an encoder that is not a token (the reference's context: a
    conv autoencoder the fusion reads but never weighs); the bank runs it beside the token encoders."""
    split = split_token(context)
    return [split[0]] if split and split[0] and split[0] not in encoders else []


def _token(key: str) -> Token:
    split = split_token(key)
    return Token(key, CAMERA, *split) if split else Token(key, VECTOR)


def resolve(cfg: RunConfig, entries: dict[str, EncoderEntry] | None = None) -> RunSpec:
    """Validate task, cameras, faults, the backend's options, encoders, depth and context; every mistake is a
    UserError (an unregistered encoder: UnknownEncoderError, naming them all). `entries`: the encoder registry
    (default: made here for the run's weights_dir), for a caller that checks many configs."""
    task = load_task(cfg.task)
    backend = backend_for(task)
    cameras = run_cameras(cfg, task)
    if not needs_cameras(cfg):
        cameras = []  # the state oracle alone: the envs render nothing (rendering is most of a step's cost)
    faults = tuple(parse_faults(cfg.faults, cameras))  # a bad fault spec fails before any encoder loads or env starts
    derived = {"state": not pixel_based(cfg.fusion) and STATE in cfg.encoders,
               "expert": off_policy(cfg.algo) and cfg.sac.expert_steps > 0, "quality": cfg.render.model_dump(),
               "visual_mix": checked_visual_mix(task, cfg.train_variations, cfg.train_hold_out,
                                                names=("train_variations", "train_hold_out"))}
    # an env key is a config key and a RunOptions field of one name: it travels here without a line of its own
    env = RunOptions(**{f.name: getattr(cfg, f.name) for f in fields(RunOptions) if f.name not in derived}, **derived)
    backend.check_options(task, env)
    check_replay(cfg, task.goal)
    check_demos(cfg, task, cameras, state=not pixel_based(cfg.fusion) and STATE in cfg.encoders,
                off_policy=off_policy(cfg.algo), has_expert=backend.has_expert(task))
    seeds = Seeds.of(cfg.seed)
    training = training_setup(cfg)
    if cfg.e2e_augment and not pixel_based(cfg.fusion):
        raise UserError(f"e2e_augment augments the pixels an end-to-end agent learns from; fusion={cfg.fusion} "
                        "reads frozen encoders' embeddings: set fusion=e2e or drop e2e_augment")
    if pixel_based(cfg.fusion):
        if cfg.removed_tokens:
            raise UserError("fusion=e2e learns from pixels and has no encoder tokens to remove; "
                            "drop removed_tokens or choose another fusion")
        pixels = [Token(c, PIXELS, camera=c) for c in cameras]
        vectors = [_token(k) for k in ([PROPRIO] if cfg.proprio != "none" else []) + goal_tokens(task.name)]
        return RunSpec(cfg, task, backend, env, faults, tuple(cameras), tuple(pixels + vectors), None, (), (), (), seeds,
                       training)
    keys, context = run_tokens(cfg, cameras), context_key(cfg)
    removed = check_removed(cfg.removed_tokens, keys, context)
    images = image_encoders(cfg.encoders)
    active = [n for n in images if any(token_key(n, c) not in removed for c in cameras)]
    active += context_only_encoder(context, cfg.encoders)
    idle = [n for n in images if n not in active]
    entries = registry(weights_dir=cfg.weights_dir, zoo_preprocess=cfg.zoo_preprocess) if entries is None else entries
    unknown = [n for n in active + idle if n not in entries]
    if unknown:
        raise UnknownEncoderError(unknown, entries)
    depth = [n for n in active if entries[n].modality == "depth"]
    if depth and not backend.depth:
        raise UserError(f"encoder {depth[0]} needs depth images, which task {task.name} does not have; "
                        "choose another (see `wsa-robot encoders`)")
    if depth and cfg.demos is not None:  # demos/record.py keeps the cameras' RGB frames, not depth
        raise UserError(f"encoder {depth[0]} reads depth images, and demos hold only the cameras' RGB frames; set "
                        "demos=null (sac.expert_steps=10000 puts the scripted controller's episodes in the buffer "
                        "instead) or choose encoders of RGB")
    contexts = [token_key(n, c) for n in active for c in cameras] + [PROPRIO] + \
        [k for k in keys if k == STATE] + goal_tokens(task.name)
    if context not in contexts:
        raise UserError(f"context {context!r} is not a token of this run; use one of: {', '.join(contexts)}")
    return RunSpec(cfg, task, backend, env, faults, tuple(cameras), tuple(_token(k) for k in keys), context, tuple(removed),
                   tuple(entries[n] for n in active), tuple(entries[n] for n in idle), seeds, training)
