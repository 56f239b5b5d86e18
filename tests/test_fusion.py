import numpy as np
import pytest
import torch
from gymnasium import spaces

from wsa_robot.fusion import FUSIONS, capture_weights, extractor_kwargs
from wsa_robot.fusion.attention import WSAExtractor


def space(keys, dim=6, spatial=(), dtype=np.float32, context="ctx"):
    d = {k: spaces.Box(-np.inf, np.inf, (4, 5, 5) if k in spatial else (dim,), dtype) for k in keys}
    d[context] = spaces.Box(-np.inf, np.inf, (3,), np.float32)
    d["token_mask"] = spaces.Box(0, 1, (len(keys),), np.float32)
    return spaces.Dict(d)


def batch(sp, b=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = {k: torch.randn((b, *s.shape), generator=g) for k, s in sp.spaces.items()}
    obs["token_mask"] = torch.ones(b, sp["token_mask"].shape[0])
    return obs


def wsa(keys, **kw):
    torch.manual_seed(0)
    sp = space(keys, **kw)
    return WSAExtractor(sp, keys, "ctx", dim=16), sp


@pytest.mark.parametrize("k", [1, 2, 7])
def test_weights_are_a_distribution_for_any_number_of_tokens(k):
    keys = [f"t{i}" for i in range(k)]
    ext, sp = wsa(keys)
    out, w = ext.attend(batch(sp))
    assert out.shape == (5, 16) and w.shape == (5, k)
    assert (w >= 0).all() and torch.allclose(w.sum(1), torch.ones(5))


def test_permuting_tokens_permutes_weights_and_keeps_output():
    keys = ["a@cam1", "b@cam1", "a@cam2", "proprio"]
    ext, sp = wsa(keys)
    obs = batch(sp)
    out, w = ext.attend(obs)
    perm = [2, 0, 3, 1]
    other = WSAExtractor(sp, [keys[i] for i in perm], "ctx", dim=16)
    other.load_state_dict(ext.state_dict())  # adapters are keyed by token name, not position
    out2, w2 = other.attend(obs)
    torch.testing.assert_close(out2, out)
    torch.testing.assert_close(w2, w[:, perm])


def test_masked_token_has_zero_weight_and_no_influence():
    keys = ["t0", "t1", "t2"]
    ext, sp = wsa(keys)
    obs = batch(sp)
    obs["token_mask"][:, 1] = 0
    out, w = ext.attend(obs)
    assert (w[:, 1] == 0).all()
    assert torch.allclose(w.sum(1), torch.ones(5))
    obs["t1"] = obs["t1"] * 100 + 7
    torch.testing.assert_close(ext(obs), out)


@pytest.mark.parametrize("fusion", ["wsa", "dpa"])
def test_weights_are_captured_from_one_forward_and_no_later_forward_changes_them(fusion):
    """The weights reach a caller as the value of the forward it scoped, never through state that the next
    forward (a critic's pass over a replay batch) overwrites."""
    ext, sp = attention(fusion, ["t0", "t1", "t2"])
    acted, other = batch(sp, seed=1), batch(sp, b=7, seed=2)
    with torch.no_grad(), capture_weights(ext) as w:
        ext(acted)
    _, expected = ext.attend(acted)
    ext(other)  # a forward outside the block is seen by no one
    np.testing.assert_array_equal(w.value, expected.detach().numpy())
    assert not [k for k, v in vars(ext).items() if isinstance(v, torch.Tensor)]  # nothing kept on the module
    with pytest.raises(RuntimeError, match="two fusion forwards"), capture_weights(ext):
        ext(acted)
        ext(other)


def test_fusions_without_weights_capture_none():
    keys = ["t0", "t1"]
    sp = space(keys)
    cls, kw = extractor_kwargs("fix", keys, "ctx", dim=16)
    ext = cls(sp, **kw)
    with capture_weights(ext) as w:
        ext(batch(sp))
    assert w.value is None


def test_reference_relu_scorer_is_available():
    torch.manual_seed(0)
    sp = space(["t0", "t1"])
    ext = WSAExtractor(sp, ["t0", "t1"], "ctx", dim=16, scorer="relu")
    assert isinstance(ext.scorer[-1], torch.nn.ReLU)
    _, w = ext.attend(batch(sp))
    assert torch.allclose(w.sum(1), torch.ones(5))


@pytest.mark.parametrize("scorer", ["additive", "scaled", "linear", "relu"])
def test_scores_are_the_shared_scorer_on_each_context_token_pair(scorer):
    """WSA's s_k = w([c; z_k]), computed without concatenating the pairs, is the scorer network on them."""
    torch.manual_seed(1)
    ext = WSAExtractor(space(["t0", "t1", "t2"]), ["t0", "t1", "t2"], "ctx", dim=16, scorer=scorer, scorer_hidden=8)
    c, z = torch.randn(5, 16), torch.randn(5, 3, 16)
    pairs = torch.cat([c.unsqueeze(1).expand_as(z), z], dim=-1)
    scale = 4.0 if scorer == "scaled" else 1.0  # sqrt(d)
    torch.testing.assert_close(ext.scores(c, z), ext.scorer(pairs).squeeze(-1) / scale)


def test_all_tokens_masked_gives_zeros_not_nan():
    ext, sp = wsa(["t0", "t1"])
    obs = batch(sp)
    obs["token_mask"][:] = 0
    out, w = ext.attend(obs)
    assert torch.isfinite(out).all() and (out == 0).all() and (w == 0).all()


def test_one_shared_scorer_and_gradients_reach_every_trainable_part():
    small, _ = wsa(["t0"])
    ext, sp = wsa([f"t{i}" for i in range(7)])
    scorer_params = lambda e: sum(p.numel() for p in e.scorer.parameters())  # noqa: E731
    assert scorer_params(small) == scorer_params(ext) == (2 * 16 + 1) * 16 + 16  # one network, any token count
    ext(batch(sp)).pow(2).sum().backward()
    for name, p in ext.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def attention(fusion, keys, scorer="additive", scorer_hidden=None):
    torch.manual_seed(0)
    sp = space(keys)
    cls, kw = extractor_kwargs(fusion, keys, "ctx", dim=16, wsa_scorer=scorer, scorer_hidden=scorer_hidden)
    return cls(sp, **kw), sp


@pytest.mark.parametrize("fusion", ["wsa", "dpa"])
def test_a_different_context_gives_different_weights_for_the_same_tokens(fusion):
    """The paper's WSA weighs tokens against a context: with the tokens fixed, the context moves the weights.
    (The old linear scorer failed this: a softmax cancels a context term that is the same for every token.)"""
    ext, sp = attention(fusion, ["t0", "t1", "t2"])
    obs = batch(sp, b=1)
    obs = {k: v.expand(64, *v.shape[1:]).clone() for k, v in obs.items()}  # 64 copies of one set of tokens
    obs["ctx"] = torch.randn(64, 3, generator=torch.Generator().manual_seed(3)) * 2  # 64 different contexts
    _, w = ext.attend(obs)
    assert w.std(0).max() > 1e-3, f"weights do not move with the context: spread {w.std(0)}"  # linear: ~1e-8


@pytest.mark.parametrize("fusion, scorer", [("wsa", "additive"), ("wsa", "scaled"), ("dpa", "additive")])
def test_the_context_can_be_trained_to_choose_the_token(fusion, scorer):
    """Fixed tokens, a context whose sign says which token matters: attention that uses its context learns to
    put the weight on that token; a context-blind scorer stays at chance (checked below for `linear`)."""
    assert context_choice_accuracy(fusion, scorer) > 0.95


def weights_after_one_ppo_update(scorer: str) -> np.ndarray:
    """The mean weights after one reference PPO update (4 epochs x 4 minibatches = 16 Adam steps at lr 2.5e-4)
    at the real width d=256, on a loss that asks for token 0, from four random tokens."""
    keys = ["t0", "t1", "t2", "t3"]
    torch.manual_seed(0)
    sp = spaces.Dict({**{k: spaces.Box(-1, 1, (64,), np.float32) for k in keys},
                      "ctx": spaces.Box(-1, 1, (32,), np.float32)})
    ext = WSAExtractor(sp, keys, "ctx", dim=256, scorer=scorer)
    opt = torch.optim.Adam(ext.parameters(), lr=2.5e-4)
    g = torch.Generator().manual_seed(1)
    obs = {k: torch.randn(256, sp[k].shape[0], generator=g) for k in [*keys, "ctx"]}
    for _ in range(16):
        _, w = ext.attend(obs)
        opt.zero_grad()
        (-w[:, 0].log()).mean().backward()
        opt.step()
    return ext.attend(obs)[1].mean(0).detach().numpy()


def test_the_scaled_scorer_moves_the_weights_little_in_one_ppo_update():
    """Adam moves every scorer parameter by ~lr a step whatever the gradient's size; the unscaled additive
    score sums 256 such moves and jumps (on Pong the first update put 0.94 on one skill). Measured here:
    additive 0.25 -> 0.46 on token 0, scaled 0.25 -> 0.26."""
    assert weights_after_one_ppo_update("scaled").max() < 0.3
    assert weights_after_one_ppo_update("additive").max() > 0.4


def test_the_old_linear_scorer_cannot_learn_to_use_the_context():
    assert context_choice_accuracy("wsa", "linear") < 0.75


def test_a_narrow_scorer_learns_to_use_the_context():
    """`wsa_scorer_hidden`: the scorer's hidden width below d (4 against d=16) still weighs by the context."""
    ext, _ = attention("wsa", ["t0", "t1"], scorer_hidden=4)
    assert ext.scorer[0].out_features == 4 and ext.scorer[0].in_features == 32
    assert context_choice_accuracy("wsa", "additive", scorer_hidden=4) > 0.95


def context_choice_accuracy(fusion: str, scorer: str, steps: int = 150, scorer_hidden=None) -> float:
    ext, sp = attention(fusion, ["t0", "t1"], scorer=scorer, scorer_hidden=scorer_hidden)
    opt = torch.optim.Adam(ext.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(4)
    tokens = {k: torch.randn(1, *sp[k].shape, generator=g) for k in ("t0", "t1")}
    for i in range(steps + 1):
        ctx = torch.randn(128, 3, generator=g)
        obs = {k: v.expand(128, -1) for k, v in tokens.items()}
        obs.update(ctx=ctx, token_mask=torch.ones(128, 2))
        _, w = ext.attend(obs)
        target = (ctx[:, 0] < 0).long()  # token 0 when the context's first feature is positive, else token 1
        if i == steps:
            return float((w.argmax(1) == target).float().mean())
        opt.zero_grad()
        torch.nn.functional.nll_loss(w.clamp_min(1e-6).log(), target).backward()
        opt.step()
    raise AssertionError("unreachable")


def test_the_old_linear_scorer_is_context_blind():
    """Kept for runs trained with it; the test documents why it is no longer the default."""
    ext, sp = attention("wsa", ["t0", "t1", "t2"], scorer="linear")
    obs = batch(sp, b=1)
    obs = {k: v.expand(64, *v.shape[1:]).clone() for k, v in obs.items()}
    obs["ctx"] = torch.randn(64, 3, generator=torch.Generator().manual_seed(3)) * 2
    _, w = ext.attend(obs)
    assert w.std(0).max() < 1e-5


def grad_norm(module: torch.nn.Module) -> float:
    return float(sum(p.grad.norm() ** 2 for p in module.parameters() if p.grad is not None) ** 0.5)


@pytest.mark.parametrize("fusion", ["wsa", "dpa"])
def test_the_context_adapter_learns_as_much_as_the_token_adapters(fusion):
    """The gradient reaching the context adapter is a real share of the token adapters', not round-off.

    The loss asks the weights themselves to change (the first token's weight up), so only the attention path
    carries gradient to the context. Measured at init: WSA 0.04-0.05 of the token adapters' (the softmax's
    gradients sum to zero over tokens, so a context shared by all of them acts through tanh's curvature), DPA
    0.3-0.5; the old linear scorer 1e-8 (round-off)."""
    ext, sp = attention(fusion, ["t0", "t1", "t2"])
    _, w = ext.attend(batch(sp, b=32))
    (-w[:, 0].log()).mean().backward()
    context, tokens = grad_norm(ext.context), grad_norm(ext.tokens)
    assert tokens > 0 and context > 0.01 * tokens, (context, tokens)


def test_no_gradient_reaches_a_frozen_encoder_in_front():
    frozen = torch.nn.Linear(10, 6)
    for p in frozen.parameters():
        p.requires_grad_(False)
    ext, sp = wsa(["t0", "t1"])
    with torch.inference_mode():
        pixels = torch.randn(5, 10)
        tokens = {"t0": frozen(pixels), "t1": frozen(pixels * 2)}
    obs = batch(sp)
    obs.update({k: v.clone() for k, v in tokens.items()})
    ext(obs).sum().backward()
    assert all(p.grad is None for p in frozen.parameters())
    assert ext.tokens.adapters["t0"][1][0].weight.grad is not None


def test_mixed_spatial_and_vector_tokens_and_float16():
    keys = ["map@cam", "vec@cam", "proprio"]
    ext, sp = wsa(keys, spatial={"map@cam"}, dtype=np.float16)
    obs = {k: v.half() if k in keys else v for k, v in batch(sp).items()}
    out = ext(obs)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


@pytest.mark.parametrize("fusion", [f for f in FUSIONS if f != "e2e"])
def test_every_token_fusion_builds_and_runs(fusion):
    keys = ["m1@cam", "m2@cam", "v@cam"]
    sp = space(keys, spatial={"m1@cam", "m2@cam"})
    cls, kw = extractor_kwargs(fusion, keys, "ctx", dim=16)
    ext = cls(sp, **kw)
    out = ext(batch(sp))
    assert out.shape == (5, ext.features_dim) and torch.isfinite(out).all()
    params = list(ext.parameters())
    assert (fusion == "lin") == (not params)  # LIN is the only fusion with nothing to train
    if params:
        out.sum().backward()
        assert all(p.grad is not None for p in params)


def test_lin_concatenates_the_tokens_alone_unless_lin_context():
    """The reference's LIN sees the skills only; `lin_context: true` adds the context (runs saved before the key)."""
    keys = ["t0", "t1"]
    sp = space(keys)
    obs = batch(sp)
    for lin_context, context_dims in ((False, 0), (True, 3)):
        cls, kw = extractor_kwargs("lin", keys, "ctx", dim=16, lin_context=lin_context)
        ext = cls(sp, **kw)
        out = ext(obs)
        assert ext.features_dim == out.shape[1] == 2 * 6 + context_dims
        torch.testing.assert_close(out[:, :12], torch.cat([obs["t0"], obs["t1"]], 1))
        obs2 = {**obs, "ctx": obs["ctx"] + 1}
        assert torch.equal(ext(obs2), out) != lin_context  # the context reaches LIN only when asked


def test_e2e_runs_on_pixels():
    sp = spaces.Dict({"cam": spaces.Box(0, 255, (3, 84, 84), np.uint8),
                      "proprio": spaces.Box(-1, 1, (4,), np.float32)})
    cls, kw = extractor_kwargs("e2e", ["cam", "proprio"], None)
    ext = cls(sp, **kw)
    out = ext({"cam": torch.rand(2, 3, 84, 84), "proprio": torch.zeros(2, 4)})
    assert out.shape == (2, ext.features_dim) == (2, 512 + 64)


def test_unknown_fusion_names_the_valid_ones():
    with pytest.raises(ValueError, match="wsa, lin"):
        extractor_kwargs("attention", ["a"], None)


def test_every_fusion_has_its_facts_and_the_facts_match_the_extractors():
    """One table says what each fusion is; it must name exactly the fusions the config accepts, and a fusion
    said to grow must really take a token count it was not built for (WSA/DPA), unlike LIN/FIX/CNN."""
    import typing

    from wsa_robot.config import RunConfig
    from wsa_robot.fusion import EXTRACTORS, FUSION_FACTS, can_grow, has_weights, pixel_based

    accepted = set(typing.get_args(RunConfig.model_fields["fusion"].annotation))
    assert set(FUSION_FACTS) == set(EXTRACTORS) == accepted
    assert [f for f in FUSIONS if pixel_based(f)] == ["e2e"]
    assert {f for f in FUSIONS if has_weights(f)} == {f for f in FUSIONS if can_grow(f)} == {"wsa", "dpa"}
    keys = ["a", "b"]
    for fusion in ("wsa", "dpa", "lin", "fix", "cnn"):  # the heads after the fusion must fit too: features_dim
        cls, kw = extractor_kwargs(fusion, keys, "ctx", dim=8)
        two = cls(space(keys), **kw)
        cls, kw = extractor_kwargs(fusion, keys + ["c"], "ctx", dim=8)
        three = cls(space(keys + ["c"]), **kw)
        fits = two.features_dim == three.features_dim and \
            all(three.state_dict()[k].shape == v.shape for k, v in two.state_dict().items())
        assert fits == can_grow(fusion), fusion


def test_e2e_augments_its_pixels_only_while_it_trains():
    """e2e_augment: a training forward sees shifted, colour-jittered pixels (it differs call to call); an
    acting or evaluating forward (eval mode) is the unaugmented extractor's, exactly."""
    from wsa_robot.fusion.baselines import E2EExtractor

    space = spaces.Dict({"cam": spaces.Box(0, 255, (3, 84, 84), np.uint8), "proprio": spaces.Box(-1, 1, (3,))})
    torch.manual_seed(0)
    plain = E2EExtractor(space, ["cam", "proprio"])
    augmented = E2EExtractor(space, ["cam", "proprio"], augment=["shift", "color"])
    augmented.load_state_dict(plain.state_dict())
    obs = {"cam": torch.rand(4, 3, 84, 84), "proprio": torch.rand(4, 3)}
    with torch.no_grad():
        augmented.train()
        first, second = augmented(obs), augmented(obs)
        assert not torch.allclose(first, second)
        augmented.eval(), plain.eval()
        assert torch.equal(augmented(obs), plain(obs))


def test_a_shift_moves_each_image_by_at_most_its_pad():
    from wsa_robot.fusion.augment import SHIFT, random_shift

    x = torch.zeros(64, 1, 20, 20)
    x[:, :, 10, 10] = 1.0  # one bright pixel in the middle
    torch.manual_seed(0)
    moved = random_shift(x)
    rows, cols = moved[:, 0].flatten(1).argmax(1) // 20, moved[:, 0].flatten(1).argmax(1) % 20
    assert moved.shape == x.shape and (moved.sum(dim=(1, 2, 3)) == 1).all()
    assert ((rows - 10).abs() <= SHIFT).all() and ((cols - 10).abs() <= SHIFT).all()
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # moved in many directions


def test_augmenting_a_fusion_that_reads_embeddings_is_one_line():
    from wsa_robot.config import load_config
    from wsa_robot.core.errors import UserError
    from wsa_robot.run.spec import resolve

    with pytest.raises(UserError, match="set fusion=e2e or drop e2e_augment"):
        resolve(load_config(["task=Lift", "e2e_augment=[shift]"]))
    assert resolve(load_config(["task=Lift", "fusion=e2e", "e2e_augment=[shift,color]"])).cfg.e2e_augment == \
        ["shift", "color"]
