"""The encoder bank's fast path (one prepared input shared by the skills that read the same frames, VOS pooling
its logits before the sigmoid, float16 converted by torch) gives the tokens of the plain per-skill forward."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wsa_robot.encoders.bank import EncoderBank, shared_input, to_numpy
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.encoders.vos import PAIR, VOSEncoder

PONG = ["stdim_atari_pong", "kp_atari_pong_features", "kp_atari_pong_maps", "vos_atari_pong", "ae_atari_pong"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def plain(enc, frames: np.ndarray) -> np.ndarray:
    """Each skill on its own: its own prepare and forward; VOS as its training code computes the masks (the
    motion head included), sigmoid on every pixel, then max-pooled to the token's grid."""
    with torch.inference_mode():
        images = torch.from_numpy(frames)
        if isinstance(enc, VOSEncoder):
            masks = enc.model.masks_and_motion(enc.prepare(images)[:, -PAIR:])[0]
            return F.adaptive_max_pool2d(masks, enc.output_shape[1:]).numpy()
        return enc(images).numpy()


@pytest.mark.parametrize("n", [8, 11])  # 8 envs; 8 envs plus 3 terminal observations in the same batch
def test_pong_skills_fast_path_gives_the_plain_per_skill_tokens(n):
    encoders = [build_encoder(name) for name in PONG]
    assert len({shared_input(e) for e in encoders}) == 1  # all five read one prepared stack
    frames = np.random.default_rng(n).integers(0, 256, (n, 84, 84, 4), dtype=np.uint8)
    frames[: n // 2] //= 8  # dark screens too, where the VOS masks differ most from 0.5
    out = EncoderBank(encoders, ["screen"], dtype=np.float32).embed({"screen": frames})
    for enc in encoders:
        want = plain(enc, frames)
        got = out[f"{enc.name}@screen"]
        assert got.shape == want.shape == (n, *enc.output_shape)
        # to float rounding of the token's own scale (VOS's near-empty masks are ~0.04, ST-DIM's code ~30)
        assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max(), enc.name
    stored = EncoderBank(encoders, ["screen"]).embed({"screen": frames})  # the default: float16
    for enc in encoders:
        assert np.array_equal(stored[f"{enc.name}@screen"], out[f"{enc.name}@screen"].astype(np.float16))


def test_to_numpy_rounds_to_float16_as_numpy_does():
    x = torch.randn(10_000) * torch.logspace(-9, 5, 10_000)  # subnormals, ties and overflow to inf included
    with np.errstate(over="ignore"):
        want = x.numpy().astype(np.float16)
    got = to_numpy(x, np.float16)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(to_numpy(x, np.float32), x.numpy())


def pong_frames(n: int) -> np.ndarray:
    """n real atari/Pong screen stacks [n, 84, 84, 4], from one episode of random play (ball and paddles moving)."""
    from wsa_robot.envs import make_env
    from wsa_robot.envs.tasks import load_task

    env = make_env(load_task("atari/Pong"), ["screen"], 84, seed=0, training=False)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    frames = []
    for t in range(60):
        obs, *_ = env.step(int(rng.integers(env.action_space.n)))
        if t >= 60 - n:
            frames.append(obs["screen"])
    env.close()
    return np.stack(frames)


def test_onnx_runtime_gives_the_torch_tokens_on_pong_frames():
    pytest.importorskip("onnx")  # encoder_runtime=onnx is opt-in: pip install -e ".[onnx]"
    pytest.importorskip("onnxruntime")
    encoders = [build_encoder(name) for name in PONG]
    frames = pong_frames(8)
    want = EncoderBank(encoders, ["screen"], dtype=np.float32).embed({"screen": frames})
    bank = EncoderBank(encoders, ["screen"], dtype=np.float32, runtime="onnx")
    assert all(type(run).__name__ == "OnnxEncode" for run in bank.runners)  # every skill left torch
    for batch in (frames, frames[:3]):  # any batch size: 8 envs, or fewer
        got = bank.embed({"screen": batch})
        for enc in encoders:
            key = f"{enc.name}@screen"
            w = want[key][: len(batch)]
            assert got[key].shape == w.shape
            assert np.abs(got[key] - w).max() <= 1e-5 * np.abs(w).max(), enc.name  # float rounding of its scale


def test_grid_max_pool_is_adaptive_max_pool2d_bit_for_bit():
    from wsa_robot.encoders.vos import grid_max_pool

    x = torch.randn(3, 5, 84, 84)
    for size in [(11, 11), (7, 12), (84, 84), (1, 1)]:
        assert torch.equal(grid_max_pool(x, size), F.adaptive_max_pool2d(x, size))
