"""Episode videos: cameras side by side, the WSA weight of every token drawn as a bar under them."""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw

BAR_ROW = 14        # pixels per token bar
LABEL_W = 150       # room for a token name left of its bar
TITLE_H = 14        # camera names above the images


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 RGB from RGB, grey [H, W] / [H, W, 1] or float depth (scaled to its own range)."""
    if image.ndim == 3 and image.shape[2] == 3:
        return image.astype(np.uint8)
    img = image.reshape(image.shape[0], image.shape[1]).astype(np.float32)
    if image.dtype != np.uint8:
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) / (hi - lo + 1e-8) * 255.0
    return np.repeat(img.astype(np.uint8)[..., None], 3, axis=2)


def compose_frame(images: dict[str, np.ndarray], weights: dict[str, float] | None, step: int | None = None,
                  reward: float | None = None, min_height: int = 240) -> np.ndarray:
    """One video frame; its size depends only on the cameras and token names, so it is fixed per episode.
    Small images are blown up by an integer factor (nearest pixel) to at least `min_height`."""
    tiles = []
    for img in images.values():
        scale = max(1, -(-min_height // img.shape[0]))
        tiles.append(np.kron(_rgb(img), np.ones((scale, scale, 1), np.uint8)))
    width = max(sum(t.shape[1] for t in tiles), LABEL_W + 200)
    tile_h = max(t.shape[0] for t in tiles)
    n_bars = len(weights or {})
    height = TITLE_H + tile_h + (n_bars + 1) * BAR_ROW + 6
    width, height = width + width % 2, height + height % 2  # H.264 wants even sizes
    canvas = Image.new("RGB", (width, height), (20, 20, 24))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for name, tile in zip(images, tiles):
        canvas.paste(Image.fromarray(tile), (x, TITLE_H))
        draw.text((x + 3, 1), name, fill=(230, 230, 230))
        x += tile.shape[1]
    y = TITLE_H + tile_h + 3
    bar_w = width - LABEL_W - 50
    for key, w in (weights or {}).items():
        w = float(np.clip(w, 0.0, 1.0))
        draw.text((3, y), key[:24], fill=(230, 230, 230))
        draw.rectangle((LABEL_W, y + 2, LABEL_W + bar_w, y + BAR_ROW - 3), outline=(90, 90, 90))
        if w > 0:
            draw.rectangle((LABEL_W, y + 2, LABEL_W + int(round(w * bar_w)), y + BAR_ROW - 3), fill=(240, 160, 40))
        draw.text((LABEL_W + bar_w + 6, y), f"{w:.2f}", fill=(230, 230, 230))
        y += BAR_ROW
    status = "  ".join(s for s in (f"step {step}" if step is not None else "",
                                   f"return {reward:.2f}" if reward is not None else "") if s)
    draw.text((3, y), status, fill=(180, 200, 255))
    return np.asarray(canvas)


class VideoWriter:
    """MP4 (H.264, yuv420p) through imageio-ffmpeg; written to a temp name and renamed on close."""

    def __init__(self, path: Path, fps: int = 20) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp.mp4")
        self._writer = imageio.get_writer(self._tmp, fps=fps, codec="libx264", pixelformat="yuv420p",
                                          macro_block_size=1, quality=7)
        self.frames = 0

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)
        self.frames += 1

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        if self.frames:
            os.replace(self._tmp, self.path)
        elif self._tmp.exists():
            self._tmp.unlink()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
