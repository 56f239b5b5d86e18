"""The robosuite backend's visual variations (visual distribution shift): the robot counterpart of HackAtari.

A variation is a small function that changes only visual fields of the MuJoCo model the env renders from
(geom and material colours, textures, lights, camera poses), drawn from a seed, so `table_color:3` is the
same table on every machine. Physics fields are never written: the same seed and actions give the same
trajectory under every variation, only the pixels differ. The spec syntax (`NAME`, `NAME:SEED`, `intact`) and
the `Variation` entry every backend lists are envs/variations.py; this module is robosuite's list
(`ROBOT_VARIATIONS`, which envs/robosuite/backend.py answers with) and what applies it to a scene.

The field names follow robosuite's domain-randomization modders (robosuite.utils.mjmod): TextureModder
(geom_rgba, mat_rgba, mat_texid, texture bitmaps), LightingModder (light_diffuse/ambient/specular) and
CameraModder (cam_pos, cam_quat). The modders themselves are not used: TextureModder uploads a texture to a
render context of robosuite's own (and its Texture reads `tex_rgb`, which mujoco 3 renamed `tex_data`), while
this project renders with its own contexts; so a painted texture is listed in `Scene.painted` and the env
uploads it to its renderers (mujoco.mjr_uploadTexture). Camera and light changes need no upload.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import mujoco
import numpy as np

from wsa_robot.core.errors import UserError
from wsa_robot.envs.variations import Variation

_RGB_ROLE = int(mujoco.mjtTextureRole.mjTEXROLE_RGB)


@dataclass
class Scene:
    """What a variation may change: the model and the geoms of each part of the scene (ids, every group,
    so collision geoms drawn under a visual one get the same colour); `painted` collects the textures
    whose bitmap a variation rewrote in memory, which the renderers must upload again."""
    model: mujoco.MjModel
    table: list[int]  # the work surface: table top (or bins), not its legs
    objects: list[int]  # the task's objects (cube, can, nuts, door)
    arena: list[int]  # floor and walls
    painted: set[int] = field(default_factory=set)
    saved: dict[int, np.ndarray] = field(default_factory=dict)  # texture id -> its original bitmap


class ModelVariations:
    """Holds a model's visual defaults and switches it between variations; restores before every apply, so
    a variation never stacks on another. Only visual fields are saved and written."""

    _FIELDS = ("geom_rgba", "geom_matid", "mat_rgba", "mat_texid", "mat_specular", "mat_shininess",
               "mat_reflectance", "mat_emission", "light_diffuse", "light_ambient", "light_specular",
               "cam_pos", "cam_quat", "cam_fovy")
    _HEADLIGHT = ("ambient", "diffuse", "specular")

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        model = scene.model
        self._defaults = {f: np.array(getattr(model, f)) for f in self._FIELDS}
        self._headlight = {f: np.array(getattr(model.vis.headlight, f)) for f in self._HEADLIGHT}

    def set(self, found: tuple[Variation, int] | None) -> list[int]:
        """Restore the defaults, apply `found` (from `resolve`); the texture ids to upload to renderers."""
        model, scene = self.scene.model, self.scene
        for f, value in self._defaults.items():
            getattr(model, f)[:] = value
        for f, value in self._headlight.items():
            setattr(model.vis.headlight, f, value)
        upload = set(scene.painted)
        for tex in scene.painted:
            _texture_bytes(model, tex)[:] = scene.saved[tex]
        scene.painted.clear()
        if found is not None:
            variation, seed = found
            # the variation's own generator, never the env's: the rng that places objects is untouched
            variation.apply(scene, np.random.default_rng([seed, *variation.name.encode()]))
            upload |= scene.painted
        return sorted(upload)


# ---- helpers -------------------------------------------------------------------------------------------

def _texture_bytes(model: mujoco.MjModel, tex: int) -> np.ndarray:
    n = int(model.tex_height[tex] * model.tex_width[tex] * model.tex_nchannel[tex])
    adr = int(model.tex_adr[tex])
    return model.tex_data[adr:adr + n]


def vivid(rng: np.random.Generator, avoid_hue: float | None = None) -> np.ndarray:
    """A saturated RGB colour in [0, 1]; `avoid_hue`: at least 0.2 of the hue circle away from that hue."""
    hue = rng.uniform(0.0, 1.0) if avoid_hue is None else (avoid_hue + rng.uniform(0.2, 0.8)) % 1.0
    return np.array(colorsys.hsv_to_rgb(hue, rng.uniform(0.65, 1.0), rng.uniform(0.55, 0.9)))


def contrasting(rng: np.random.Generator, avoid_hue: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two saturated colours that tell apart: a third of the hue circle apart or more, one light, one dark."""
    hue = rng.uniform(0.0, 1.0) if avoid_hue is None else (avoid_hue + rng.uniform(0.2, 0.8)) % 1.0
    other = (hue + rng.uniform(0.33, 0.67)) % 1.0
    if avoid_hue is not None and min(abs(other - avoid_hue), 1 - abs(other - avoid_hue)) < 0.2:
        other = (2 * hue - other) % 1.0  # mirrored about the first hue: away from the avoided one
    light = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 0.9), rng.uniform(0.8, 1.0))
    dark = colorsys.hsv_to_rgb(other, rng.uniform(0.7, 1.0), rng.uniform(0.3, 0.5))
    return np.array(light), np.array(dark)


def recolour(scene: Scene, geoms: list[int], rgb: np.ndarray) -> None:
    """Flat colour: the geoms drop their material (and its texture) and take `rgb`; alpha is kept."""
    model = scene.model
    for g in geoms:
        model.geom_matid[g] = -1
        model.geom_rgba[g, :3] = rgb


def textured(scene: Scene, geoms: list[int]) -> list[int]:
    """The RGB textures of these geoms' materials."""
    model = scene.model
    out = []
    for g in geoms:
        mat = model.geom_matid[g]
        if mat >= 0 and model.mat_texid[mat, _RGB_ROLE] >= 0 and model.mat_texid[mat, _RGB_ROLE] not in out:
            out.append(int(model.mat_texid[mat, _RGB_ROLE]))
    return out


def paint_texture(scene: Scene, tex: int, rgb1: np.ndarray, rgb2: np.ndarray, squares: int) -> None:
    """A checkerboard of two colours, `squares` x `squares` per face, written over a texture's bitmap in
    memory (the env uploads it); every material that uses this texture shows it."""
    model = scene.model
    data = _texture_bytes(model, tex)
    scene.saved.setdefault(tex, data.copy())
    h, w, nc = int(model.tex_height[tex]), int(model.tex_width[tex]), int(model.tex_nchannel[tex])
    block = max(1, w // squares)
    rows = (np.arange(h) % w)[:, None] // block  # a cube texture stores its 6 faces one above the other
    cols = np.arange(w)[None, :] // block
    mask = ((rows + cols) % 2).astype(bool)
    image = data.reshape(h, w, nc)
    colours = (np.stack([rgb1, rgb2]) * 255).round().astype(np.uint8)
    if nc < 3:  # a grey texture: the colours' brightness
        colours = colours.mean(-1, keepdims=True).astype(np.uint8)
    image[..., :min(nc, 3)] = colours[mask.astype(int)]
    scene.painted.add(tex)


def _rotate(quat: np.ndarray, axis: np.ndarray, degrees: float) -> np.ndarray:
    """CameraModder's rotation: the camera frame turned by a small axis-angle rotation."""
    delta = np.zeros(4)
    mujoco.mju_axisAngle2Quat(delta, axis, np.deg2rad(degrees))
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, delta, quat)
    mujoco.mju_normalize4(out)
    return out


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _need(geoms: list[int], part: str, name: str) -> list[int]:
    if not geoms:
        raise UserError(f"variation {name} needs a {part}, which this task's scene does not have")
    return geoms


# ---- the robosuite variations --------------------------------------------------------------------------

def _table_color(scene: Scene, rng: np.random.Generator) -> None:
    recolour(scene, _need(scene.table, "table", "table_color"), vivid(rng))


def _table_texture(scene: Scene, rng: np.random.Generator) -> None:
    geoms = _need(scene.table, "table", "table_texture")
    c1, c2 = contrasting(rng)
    for tex in textured(scene, geoms):
        paint_texture(scene, tex, c1, c2, squares=int(rng.integers(6, 11)))
    recolour(scene, [g for g in geoms if scene.model.geom_matid[g] < 0], c1)  # untextured parts: flat


def _object_color(scene: Scene, rng: np.random.Generator) -> None:
    # robosuite's objects are mostly red (Lift's cube): keep the new colour away from red
    recolour(scene, _need(scene.objects, "object", "object_color"), vivid(rng, avoid_hue=0.0))


def _object_texture(scene: Scene, rng: np.random.Generator) -> None:
    geoms = _need(scene.objects, "object", "object_texture")
    c1, c2 = contrasting(rng, avoid_hue=0.0)
    for tex in textured(scene, geoms):
        paint_texture(scene, tex, c1, c2, squares=int(rng.integers(2, 4)))
    # collision geoms drawn under the textured visual ones, and untextured objects: the first colour
    recolour(scene, [g for g in geoms if scene.model.geom_matid[g] < 0], c1)


def _arena_colors(scene: Scene, rng: np.random.Generator) -> None:
    model = scene.model
    arena = _need(scene.arena, "floor or walls", "distractor_colors")
    floor = [g for g in arena if model.geom(g).name.startswith("floor")]
    recolour(scene, floor, vivid(rng))
    recolour(scene, [g for g in arena if g not in floor], vivid(rng))


def _scale_lights(scene: Scene, diffuse: float, ambient_add: float) -> None:
    model = scene.model
    model.light_diffuse[:] = np.clip(model.light_diffuse * diffuse, 0, 1)
    model.light_specular[:] = np.clip(model.light_specular * diffuse, 0, 1)
    model.light_ambient[:] = np.clip(model.light_ambient * diffuse + ambient_add, 0, 1)
    head = model.vis.headlight
    head.diffuse = np.clip(np.array(head.diffuse) * diffuse, 0, 1)
    head.ambient = np.clip(np.array(head.ambient) * diffuse + ambient_add, 0, 1)
    head.specular = np.clip(np.array(head.specular) * diffuse, 0, 1)


def _lighting_dim(scene: Scene, rng: np.random.Generator) -> None:
    _scale_lights(scene, 0.3, 0.0)


def _lighting_bright(scene: Scene, rng: np.random.Generator) -> None:
    _scale_lights(scene, 1.5, 0.3)


def _lighting_color(scene: Scene, rng: np.random.Generator) -> None:
    model = scene.model
    hue = rng.uniform(0.0, 1.0)
    tint = np.array(colorsys.hsv_to_rgb(hue, 0.8, 1.0))
    model.light_diffuse[:] = model.light_diffuse * tint
    model.light_specular[:] = model.light_specular * tint
    head = model.vis.headlight
    head.diffuse = np.array(head.diffuse) * tint
    head.ambient = np.array(head.ambient) * tint


CAMERA_SHIFT_M, CAMERA_TURN_DEG = 0.03, 4.0


def _camera_shift(scene: Scene, rng: np.random.Generator) -> None:
    """Every camera moved 3 cm along a random direction and turned 4 degrees about a random axis (the
    perturbation of robosuite's CameraModder, at a fixed size so every seed is a shift of the same size)."""
    model = scene.model
    for cam in range(model.ncam):
        model.cam_pos[cam] = model.cam_pos[cam] + CAMERA_SHIFT_M * _unit(rng)
        model.cam_quat[cam] = _rotate(model.cam_quat[cam], _unit(rng), CAMERA_TURN_DEG)


# the robosuite backend's variations (envs/robosuite/backend.py), in the order `--variations all` runs them
ROBOT_VARIATIONS: dict[str, Variation] = {v.name: v for v in [
    Variation("table_color", "the table top in a flat random colour instead of white ceramic", _table_color),
    Variation("table_texture", "the table top painted with a checkerboard of two random colours", _table_texture),
    Variation("object_color", "the task's objects in a flat random colour (never red)", _object_color),
    Variation("object_texture", "the task's objects painted with a small checkerboard of two random colours",
              _object_texture),
    Variation("distractor_colors", "floor and walls each in a flat random colour", _arena_colors),
    Variation("lighting_dim", "every light and the headlight at 30% strength", _lighting_dim, seeded=False),
    Variation("lighting_bright", "lights 1.5x stronger plus ambient light: a washed-out scene", _lighting_bright,
              seeded=False),
    Variation("lighting_color", "lights tinted a random colour", _lighting_color),
    Variation("camera_shift", f"every camera moved {CAMERA_SHIFT_M * 100:.0f} cm and turned {CAMERA_TURN_DEG:.0f} "
              "degrees in random directions", _camera_shift),
]}


def robosuite_scene(model: mujoco.MjModel, geom_class: np.ndarray) -> Scene:
    """The parts of a robosuite scene, from the env's segmentation classes (1 arena, 4 object)."""
    table, arena, objects = [], [], []
    for g in range(model.ngeom):
        body = model.body(model.geom_bodyid[g]).name
        name = model.geom(g).name
        if geom_class[g] == 4:
            objects.append(g)
        elif body in ("table", "bin1", "bin2") and "leg" not in name:
            table.append(g)
        elif model.geom_bodyid[g] == 0 and name.startswith(("floor", "wall")):
            arena.append(g)
    return Scene(model, table, objects, arena)
