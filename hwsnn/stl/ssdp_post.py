"""SSDP post-optimisation of the STL network's last layer, and the input perturbations that test it.

Spike-synchrony-dependent plasticity (:mod:`hwsnn.engine.rules.ssdp`) can run *on top of* the
surrogate-gradient trainer: from epoch ``warmup`` on, right after every optimiser step, the last
layer's weights get the batch-mean SSDP change of the batch just seen (no learning rate)::

    p_bi = 1[input i of the last layer spiked in sample b]    q_bj = 1[output neuron j spiked]
    t_bi, t_bj = spike steps ("first" or "last" spike, rule.spike_time; T if silent)
    dW_ij = clamp(mean_b dw(p_bi, q_bj, t_bi, t_bj), -dw_max, dw_max)

with the engine rule's per-synapse change ``dw`` (:func:`hwsnn.engine.rules.ssdp.ssdp_change`:
``a_plus G`` for a pair that both spiked, ``-a_base G`` otherwise, ``G = exp(-(|t_j - t_i| dt)**2 /
(2 sigma**2))``).  The inputs of the last layer are the hidden layer's spikes (the input raster
for a one-layer network); the spikes are those of the training forward pass of the batch.  The
weights are not clipped (the trainer's weights are signed and unbounded).

Units: the rule's ``sigma`` is in seconds, as everywhere in the engine, and :attr:`SSDPPostParams.dt`
is the duration of one trainer step, so the window is ``sigma / dt`` steps.  The default
``dt = 0.01`` s makes the rule's default ``sigma = 0.01`` s exactly one step (the published
default).  With ``anneal``, ``a_plus``, ``a_base`` and ``sigma`` are multiplied in epoch ``e >=
warmup`` by the cosine factor :func:`anneal_factor` ``(1 + cos(pi (e - warmup) / (E - warmup))) / 2``
(``E`` epochs), from 1 in the first SSDP epoch towards 0.

Perturbations (robustness of the trained network; each seeded by hwsnn's counter RNG keyed by
seed, stream, sample id, so a sample's perturbation does not depend on its batch):
:func:`jitter` moves every input spike by ``round(j z)`` steps (``z`` standard normal, half-up
rounding; spikes moved outside ``0 .. T-1`` are lost, spikes landing on one step merge);
:func:`event_noise` adds a spike to every (input, step) with probability ``p`` (OR with the
raster).
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from hwsnn import rng
from hwsnn.config.types import Bool, Float, Int
from hwsnn.engine.contract import CompileContext, Params
from hwsnn.engine.rules.ssdp import SSDP, SSDPConst, ssdp_change
from hwsnn.errors import ConfigError

__all__ = ["SSDPPostParams", "RobustnessParams", "anneal_factor", "rule_at", "post_consts", "batch_change",
           "spike_times", "jitter_shifts", "jitter", "event_noise", "STREAM_JITTER", "STREAM_NOISE"]

STREAM_JITTER = 0x57_3000_0000
"""Base stream of the jitter draws (plus the sample's index in the split)."""
STREAM_NOISE = 0x57_4000_0000
"""Base stream of the event-noise draws (plus the sample's index in the split)."""


class SSDPPostParams(Params):
    """SSDP post-optimisation of the last layer (config section ``[train.ssdp]``)."""

    enabled: Bool = False
    """Apply SSDP to the last layer's weights after every optimiser step from epoch ``warmup`` on
    (in every mode: in ``tl`` it is the only change of the weights)."""
    warmup: Annotated[Int, Field(ge=0, le=1000)] = 10
    """Epochs of plain training before SSDP starts (the authors' ``start_epoch``); must be below
    ``train.epochs`` when enabled."""
    anneal: Bool = False
    """Cosine-anneal ``a_plus``, ``a_base`` and ``sigma`` per epoch after the warm-up (factor
    ``(1 + cos(pi (e - warmup) / (epochs - warmup))) / 2`` in epoch ``e``)."""
    dt: Annotated[Float, Field(gt=0.0, le=1.0)] = 0.01
    """Duration of one trainer time step (s); only converts ``rule.sigma`` to steps (window
    ``rule.sigma / dt`` steps; the default makes the rule's default ``sigma`` one step)."""
    rule: SSDP = SSDP()
    """The engine's SSDP rule parameters (``a_plus``, ``a_base``, ``sigma`` in seconds,
    ``dw_max``, ``spike_time`` = ``"first"`` or ``"last"``); defaults are the published ones."""


class RobustnessParams(Params):
    """Test accuracy under input perturbations after training (config section ``[robustness]``)."""

    jitter: list[Annotated[Float, Field(gt=0.0, le=100.0)]] = []
    """Spike-time jitter levels: standard deviation (steps) of the Gaussian from which each input
    spike's shift is drawn (rounded half up to whole steps)."""
    noise: list[Annotated[Float, Field(gt=0.0, le=1.0)]] = []
    """Event-noise levels: probability per input and step of an extra input spike."""

    @field_validator("jitter", "noise")
    @classmethod
    def _distinct(cls, v):
        if len(set(v)) != len(v):
            raise ValueError(f"must not repeat a level, got {v}")
        return v


# ---------------------------------------------------------------------------------------------- schedule
def anneal_factor(p: SSDPPostParams, epoch: int, epochs: int) -> float:
    """Factor on ``a_plus``, ``a_base`` and ``sigma`` in ``epoch`` (0-based): 0 before the warm-up
    (no SSDP), 1 without annealing, else ``(1 + cos(pi (epoch - warmup) / (epochs - warmup))) / 2``."""
    if not p.enabled or epoch < p.warmup:
        return 0.0
    if not p.anneal:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (epoch - p.warmup) / (epochs - p.warmup)))


def rule_at(p: SSDPPostParams, epoch: int, epochs: int) -> SSDP | None:
    """The SSDP rule in force in ``epoch`` (annealed), None when SSDP does not act in it."""
    f = anneal_factor(p, epoch, epochs)
    if f <= 0.0:
        return None
    if f == 1.0:
        return p.rule
    r = p.rule
    return r.replace(a_plus=r.a_plus * f, a_base=r.a_base * f, sigma=r.sigma * f)


def post_consts(rule: SSDP, dt: float, n_in: int, n_out: int) -> SSDPConst:
    """The engine rule's constants for a layer of ``n_in -> n_out`` with time step ``dt`` (s)."""
    return rule.consts(CompileContext(dt=float(dt), w_max=math.inf, n_in=int(n_in), n_out=int(n_out),
                                      backend="ideal"))


# ---------------------------------------------------------------------------------------------- the change
@njit(cache=True)
def _times(sp, last):
    n_t, batch, n = sp.shape
    flag = np.zeros((batch, n), np.int64)
    t = np.full((batch, n), n_t, np.int64)
    for s in range(n_t):
        for b in range(batch):
            for i in range(n):
                if sp[s, b, i] != 0.0:
                    flag[b, i] = 1
                    if last or t[b, i] == n_t:
                        t[b, i] = s
    return flag, t


@njit(cache=True)
def _batch_change(c, pre, post, last):
    p, tp = _times(pre, last)
    q, tq = _times(post, last)
    batch, n_in = p.shape
    n_out = q.shape[1]
    dw = np.zeros((n_in, n_out))
    for b in range(batch):
        for i in range(n_in):
            for j in range(n_out):
                dw[i, j] += ssdp_change(c, 1.0, p[b, i], q[b, j], tp[b, i], tq[b, j])
    for i in range(n_in):
        for j in range(n_out):
            v = dw[i, j] / batch
            dw[i, j] = c.dw_max if v > c.dw_max else (-c.dw_max if v < -c.dw_max else v)
    return dw


def _raster(a: np.ndarray, name: str) -> np.ndarray:
    a = np.ascontiguousarray(a, np.float64)
    if a.ndim != 3:
        raise ConfigError(name, f"must be a (T, batch, n) spike raster, got shape {a.shape}")
    return a


def spike_times(spikes: np.ndarray, which: str = "first") -> tuple[np.ndarray, np.ndarray]:
    """``(spiked, t)`` of a ``(T, batch, n)`` raster: int64 ``(batch, n)`` flags and the first or
    last spike step (``T`` if silent)."""
    if which not in ("first", "last"):
        raise ConfigError("spike_time", f"must be 'first' or 'last', got {which!r}")
    return _times(_raster(spikes, "spikes"), which == "last")


def batch_change(rule: SSDP, dt: float, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """The batch-mean SSDP change ``dW`` ``(n_in, n_out)`` of a layer from its input spikes ``pre``
    ``(T, batch, n_in)`` and output spikes ``post`` ``(T, batch, n_out)`` (see the module)."""
    pre, post = _raster(pre, "pre"), _raster(post, "post")
    if pre.shape[:2] != post.shape[:2]:
        raise ConfigError("post", f"must have the steps and batch of pre {pre.shape[:2]}, got {post.shape[:2]}")
    c = post_consts(rule, dt, pre.shape[2], post.shape[2])
    return _batch_change(c, pre, post, rule.spike_time == "last")


# ---------------------------------------------------------------------------------------------- perturbations
def jitter_shifts(std: float, steps: int, n: int, seed: int, sample_id: int, counter: int = 0) -> np.ndarray:
    """Integer shifts ``floor(std z + 1/2)`` of every (step, input) cell of one sample, ``(steps, n)``,
    ``z`` standard normals of (``seed``, ``STREAM_JITTER + sample_id``, ``counter``)."""
    z = rng.normal_array(seed, STREAM_JITTER + int(sample_id), steps * n, counter).reshape(steps, n)
    return np.floor(std * z + 0.5).astype(np.int64)


def jitter(raster: np.ndarray, std: float, seed: int, ids: np.ndarray, counter: int = 0) -> np.ndarray:
    """``raster`` ``(T, batch, n)`` with every spike moved by its :func:`jitter_shifts` value; spikes
    moved outside ``0 .. T-1`` are dropped, spikes landing on one step merge."""
    raster = _raster(raster, "raster")
    if not std > 0.0:
        raise ConfigError("jitter", f"must be > 0, got {std}")
    n_t, batch, n = raster.shape
    out = np.zeros_like(raster)
    cols = np.arange(n)
    for b in range(batch):
        sh = jitter_shifts(std, n_t, n, seed, int(ids[b]), counter)
        for t in range(n_t):
            on = raster[t, b] != 0.0
            dest = t + sh[t]
            keep = on & (dest >= 0) & (dest < n_t)
            out[dest[keep], b, cols[keep]] = 1.0
    return out


def event_noise(raster: np.ndarray, p: float, seed: int, ids: np.ndarray, counter: int = 0) -> np.ndarray:
    """``raster`` ``(T, batch, n)`` with a spike added at every (step, input) where a uniform of
    (``seed``, ``STREAM_NOISE + id``, ``counter``) is below ``p``."""
    raster = _raster(raster, "raster")
    if not 0.0 < p <= 1.0:
        raise ConfigError("noise", f"must be in (0, 1], got {p}")
    n_t, batch, n = raster.shape
    out = raster.copy()
    for b in range(batch):
        u = rng.uniform_array(seed, STREAM_NOISE + int(ids[b]), n_t * n, counter).reshape(n_t, n)
        out[:, b, :][u < p] = 1.0
    return out
