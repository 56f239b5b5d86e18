"""Every skill trains end to end on real Lift frames (tiny budgets), saves, registers and loads as an encoder."""

import numpy as np
import pytest
import torch

from wsa_robot.core.assets import read_manifest
from wsa_robot.pretrain import SKILL_NAMES, pretrain
from wsa_robot.pretrain.collect import collect_frames
from wsa_robot.pretrain.frames import split_by_episode
from wsa_robot.pretrain.skills import SKILLS, positives
from wsa_robot.envs.tasks import load_task


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    cache = tmp_path_factory.mktemp("frames")
    return collect_frames(load_task("Lift"), ["agentview", "robot0_eye_in_hand"], 40, episode_length=10,
                          cache=cache), cache


def test_frames_carry_aligned_depth_and_segmentation(frames):
    f, cache = frames
    assert f.images.shape == (80, 84, 84, 3) and f.depth.shape == (80, 84, 84, 1) and f.seg.shape == (80, 84, 84, 1)
    assert f.n_cameras == 2 and f.episode.max() == 3  # 40 steps in episodes of 10
    again = collect_frames(load_task("Lift"), ["agentview", "robot0_eye_in_hand"], 40, episode_length=10,
                           cache=cache)
    assert np.array_equal(again.images, f.images)  # read back from the cache
    train, val = split_by_episode(f.episode, 0.25)
    assert set(f.episode[val]) == {3} and not set(f.episode[train]) & {3}


def test_frames_carry_the_privileged_state_of_their_step(frames):
    """The scene-state skill's target: the object state and proprio, the same for every camera of a step."""
    f, _ = frames
    assert f.state is not None and f.state.shape[0] == 80 and f.state.dtype == np.float32
    assert np.array_equal(f.state[0::2], f.state[1::2])  # agentview and eye-in-hand of one step
    assert not np.array_equal(f.state[0], f.state[2])  # the robot moved


def test_a_visual_mix_changes_the_pixels_and_never_the_states(frames, tmp_path):
    """Variations are drawn from their own stream: the same seed plays the same actions to the same states."""
    from wsa_robot.pretrain.collect import VisualMix

    f, _ = frames
    varied = collect_frames(load_task("Lift"), ["agentview", "robot0_eye_in_hand"], 40, episode_length=10,
                            cache=tmp_path, visuals=VisualMix(("table_color", "lighting_dim"), unseeded=("lighting_dim",)))
    assert np.array_equal(varied.state, f.state)
    changed = {int(e) for e in np.unique(f.episode) if not np.array_equal(varied.images[f.episode == e],
                                                                            f.images[f.episode == e])}
    assert changed, "no episode was shown under a variation"


def test_the_scripted_controller_plays_its_share_and_lifts(tmp_path):
    """--expert-fraction 1: every episode is the PRIVILEGED controller's, which lifts the cube (its z rises)."""
    f = collect_frames(load_task("Lift"), ["agentview"], 60, episode_length=60, cache=tmp_path, expert_fraction=1.0)
    cube_z = f.state[:, 2]
    assert cube_z[-1] > cube_z[0] + 0.03


def test_a_visual_mix_is_checked_by_name():
    from wsa_robot.core.errors import UserError
    from wsa_robot.pretrain import visual_mix

    task = load_task("Lift")
    mix = visual_mix(task, ["all"], "table_texture")
    assert "table_texture" not in mix.kinds and "table_color" in mix.kinds and mix.held_out == "table_texture"
    with pytest.raises(UserError, match="unknown variation 'tabel_color'"):
        visual_mix(task, ["tabel_color"], None)
    with pytest.raises(UserError, match="add --vary all"):
        visual_mix(task, None, "table_texture")
    draws = [mix.draw(np.random.default_rng(i)) for i in range(50)]
    seeds = [int(d.split(":")[1]) for d in draws if d and ":" in d]
    assert "lighting_dim" in draws  # an unseeded kind is named without a seed
    assert None in draws and all(1000 <= s < 2000 for s in seeds)  # intact sometimes; never an eval's seed 0


def test_positives_are_the_same_camera_a_few_steps_away_in_the_same_episode(frames):
    f, _ = frames
    idx = np.arange(len(f))
    pos = positives(f, idx, np.random.default_rng(0))
    gap = np.abs(pos - idx)
    assert (f.episode[pos] == f.episode[idx]).all()
    assert (gap % f.n_cameras == 0).all() and (gap >= 2).all() and (gap <= 6).all()


@pytest.mark.parametrize("skill", [s for s in SKILL_NAMES if not {"stack", "twin"} & set(SKILLS[s].needs)])
def test_each_skill_trains_saves_and_loads_as_a_frozen_encoder(skill, frames, tmp_path):
    f, cache = frames
    entry = pretrain("Lift", skill, frames_per_camera=40, steps=3, out_dir=tmp_path, batch_size=8,
                     episode_length=10, cache=cache)  # the frames collected above, from the cache
    metric = entry[SKILLS[skill].metric]
    assert entry["skill"] == skill and np.isfinite(metric) and entry["frames"] == 80
    assert read_manifest(tmp_path)[f"{SKILLS[skill].encoder}_lift"]["sha256"] == entry["sha256"]
    from wsa_robot.encoders.registry import build_encoder

    enc = build_encoder(SKILLS[skill].encoder, tmp_path)
    with torch.inference_mode():
        out = enc(torch.from_numpy(f.images[:4]))
    assert out.shape == (4, *entry["output_shape"]) and not any(p.requires_grad for p in enc.parameters())
    if skill == "keypoints":  # 8 keypoints, (x, y) each, inside the image; its features and maps as tokens too
        assert out.shape == (4, 16) and out.abs().max() <= 1.0
        with torch.inference_mode():
            features = build_encoder("kp_features", tmp_path)(torch.from_numpy(f.images[:4]))
            maps = build_encoder("kp_maps", tmp_path)(torch.from_numpy(f.images[:4]))
        assert features.shape == (4, 64, 11, 11) and maps.shape == (4, 8, 11, 11)
        assert 0.0 <= maps.min() and maps.max() <= 1.0 and (maps.flatten(2).max(-1).values > 0.5).all()
    elif skill == "stdim":  # ST-DIM's NatureCNN global code
        assert out.shape == (4, 512)
    else:
        assert out.shape == (4, 128)


def test_video_object_segmentation_needs_a_frame_stack(frames, tmp_path):
    from wsa_robot.core.errors import UserError

    _, cache = frames
    with pytest.raises(UserError, match="skill vos learns from a frame stack .* task Lift"):
        pretrain("Lift", "vos", frames_per_camera=40, steps=3, out_dir=tmp_path, episode_length=10, cache=cache)



@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Every step under the mix's two draws: object_color recolours the cube alone (or intact)."""
    from wsa_robot.envs.visual_mix import VisualMix

    cache = tmp_path_factory.mktemp("twins")
    return collect_frames(load_task("Lift"), ["agentview", "robot0_eye_in_hand"], 30, episode_length=10,
                          cache=cache, visuals=VisualMix(("object_color",)), twins=True), cache


def test_twins_show_the_same_step_under_another_variation(twins):
    """A twin differs from its frame only where the variation paints (the cube: under 3% of the pixels here);
    a frame of the next step differs in 4-7% (agentview) and 74-99% (the camera on the moving hand)."""
    f, _ = twins
    assert f.twin.shape == f.images.shape and f.depth is None and f.seg is None  # twins: state only
    differ = (f.images != f.twin).any(-1).mean((1, 2))
    assert (differ[0::2] > 0).all(), "agentview sees the cube: its colour must differ between the two views"
    assert differ.max() < 0.03


def test_the_invariance_term_is_blind_to_the_embedding_scale():
    from wsa_robot.pretrain.skills import relative_shift

    g = torch.Generator().manual_seed(0)
    z, noise = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    camera = np.arange(16) % 2
    assert relative_shift(z, z, camera) == 0
    shifted = relative_shift(z, z + 0.1 * noise, camera)
    assert 0 < shifted < relative_shift(z, z + noise, camera)
    assert torch.isclose(relative_shift(10 * z, 10 * (z + 0.1 * noise), camera), shifted)


def test_the_scene_invariance_skill_trains_on_twins_and_reports_their_shift(twins, tmp_path):
    from wsa_robot.core.errors import UserError
    from wsa_robot.encoders.registry import build_encoder

    f, cache = twins
    with pytest.raises(UserError, match="add --vary all"):
        pretrain("Lift", "scene_invariant", frames_per_camera=30, steps=2, out_dir=tmp_path, episode_length=10,
                 cache=cache)
    entry = pretrain("Lift", "scene_invariant", frames_per_camera=30, steps=3, out_dir=tmp_path, batch_size=8,
                     episode_length=10, cache=cache, vary=["object_color"])  # the twins above, from the cache
    assert entry["encoder"] == "scene_inv" and entry["frames"] == 60
    assert np.isfinite(entry["val_r2"]) and entry["val_twin_shift"] > 0
    with torch.inference_mode():
        assert build_encoder("scene_inv", tmp_path)(torch.from_numpy(f.images[:4])).shape == (4, 128)
