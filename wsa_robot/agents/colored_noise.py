"""Temporally correlated exploration for SAC (config `sac.noise_beta`; Eberhard et al., "Pink Noise Is All You
Need: Colored Noise Exploration in Deep Reinforcement Learning", ICLR 2023).

SAC explores by drawing a fresh Gaussian every step, so an exploring policy seldom holds one direction for
long. robosuite's gripper moves its fingers' target 0.2 per action by the action's sign: closing needs ten
same-sign actions in a row, which white noise around an undecided mean almost never gives (issue 16). Noise
whose power falls as 1/f^beta (beta 0: white, SB3's own; 1: pink; 2: red) keeps each action dimension's
perturbation correlated over many steps while each step's marginal stays a unit Gaussian, so the policy's
mean and std keep their meaning. The sequences are drawn per env and action dimension, one per episode.
"""

from __future__ import annotations

import numpy as np


def powerlaw_noise(beta: float, steps: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Gaussian sequences [*shape, steps] with power spectral density ~ 1/f^beta, each of unit variance
    (Timmer and Koenig's method: random Fourier amplitudes scaled by f^(-beta/2), then the inverse FFT)."""
    freqs = np.fft.rfftfreq(steps)
    freqs[0] = 1.0 / steps  # the lowest frequency a sequence of this length holds, in place of 0
    scale = freqs ** (-beta / 2.0)
    real = rng.standard_normal((*shape, len(freqs))) * scale
    imag = rng.standard_normal((*shape, len(freqs))) * scale
    imag[..., 0] = 0.0  # the mean term is real
    real[..., 0] *= np.sqrt(2.0)
    if steps % 2 == 0:  # so is the Nyquist term of an even length
        imag[..., -1] = 0.0
        real[..., -1] *= np.sqrt(2.0)
    weights = scale.copy()
    weights[1:-1 if steps % 2 == 0 else None] *= np.sqrt(2.0)  # the terms counted twice in the full spectrum
    sigma = np.sqrt(np.sum(weights ** 2)) / steps
    return np.fft.irfft(real + 1j * imag, n=steps, axis=-1) / sigma / np.sqrt(2.0)


class ColoredNoise:
    """One noise sequence per env and action dimension; `draw()` gives the next step's [n_envs, dims],
    `restart(env)` a fresh sequence when that env's episode ends."""

    def __init__(self, beta: float, n_envs: int, dims: int, steps: int = 1000, seed: int | None = None) -> None:
        self.beta, self.dims, self.steps = beta, dims, steps
        self.rng = np.random.default_rng(seed)
        self.sequences = powerlaw_noise(beta, steps, (n_envs, dims), self.rng)
        self.t = np.zeros(n_envs, dtype=np.int64)

    def draw(self) -> np.ndarray:
        for env in np.flatnonzero(self.t >= self.steps):  # an episode longer than the sequence: a new one
            self.restart(env)
        out = self.sequences[np.arange(len(self.t)), :, self.t]
        self.t += 1
        return out

    def restart(self, env: int) -> None:
        self.sequences[env] = powerlaw_noise(self.beta, self.steps, (self.dims,), self.rng)
        self.t[env] = 0
