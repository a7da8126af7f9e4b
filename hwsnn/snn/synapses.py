"""Pluggable synapse backends of a projection: ideal float, quantised integer, memristor crossbar.

All three store a weight matrix ``w[n_pre, n_post]`` (row = presynaptic neuron) on
``[w_min, w_max]`` (:class:`hwsnn.snn.Network` uses ``w_min = 0``) and offer ``weights()`` (the
current effective weights as a float array, a copy) and ``advance(dt)`` (the backend clock:
device drift/relaxation on a crossbar).  The network reads them event driven
(:func:`accumulate_rows` over the spiking rows; the crossbar's ``read_currents``):

* ``"ideal"``: ``w`` is the float64 matrix itself; float rules update it in place.
* ``"int"``: ``q`` holds ``int64`` codes ``0..W_MAX``; weight = ``w_min + q * lsb`` with
  ``lsb = (w_max - w_min) / W_MAX``; integer rule twins update ``q`` in place.
* ``"crossbar"``: weights are conductances of a :class:`hwsnn.crossbar.Crossbar`; reads go
  through its periphery (read noise, ADC); a float rule's desired change is handed to
  :meth:`CrossbarSynapses.commit`, which issues ``Crossbar.update`` (pulses with stochastic
  rounding) for the touched rows (pre spikes) and columns (post spikes) only.

:func:`make_synapses` picks the backend from one config field, :attr:`SynapseConfig.backend`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
from numba import njit
from pydantic import ConfigDict, Field, ValidationError

from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError

__all__ = ["SYNAPSE_BACKENDS", "SynapseConfig", "IdealSynapses", "IntSynapses", "CrossbarSynapses", "make_synapses",
           "accumulate_rows"]

SYNAPSE_BACKENDS = ("ideal", "int", "crossbar")
"""Names accepted by :attr:`SynapseConfig.backend`."""


@njit(cache=True)
def accumulate_rows(w, rows, scale, out):
    """``out[j] += scale * w[i, j]`` for each ``i`` in ``rows`` in turn (event-driven input; the
    layer kernel's order of additions, so both give the same floating-point sums)."""
    n_post = w.shape[1]
    for a in range(rows.shape[0]):
        i = rows[a]
        for j in range(n_post):
            out[j] += scale * w[i, j]


class SynapseConfig(Params):
    """Which synapse backend the network's projections use (one field switches all of them)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: Literal["ideal", "int", "crossbar"] = "ideal"
    """``"ideal"`` (float), ``"int"`` (quantised codes, integer rule twins) or ``"crossbar"``."""
    W_BITS: int = Field(8, ge=1, le=16)
    """Weight code width of the ``"int"`` backend."""
    X_BITS: int = Field(8, ge=1, le=16)
    """Trace width of the ``"int"`` backend (``stdp_trace``'s ``X_BITS``)."""
    device: Any = "ideal"
    """Crossbar backend: device preset name or :class:`hwsnn.devices.DeviceParams`."""
    crossbar: Any = None
    """Crossbar backend: :class:`hwsnn.crossbar.CrossbarConfig` (``None`` = defaults); its mapping
    bounds are replaced by each projection's ``[w_min, w_max]``."""
    verify: bool = True
    """Crossbar backend: program the initial weights with write-verify."""

    @classmethod
    def checked(cls, **fields) -> "SynapseConfig":
        """Validated, with a :class:`~hwsnn.errors.ConfigError` naming the first bad field."""
        try:
            return cls(**fields)
        except ValidationError as e:
            err = e.errors()[0]
            raise ConfigError(".".join(str(x) for x in err["loc"]) or "synapse", err["msg"]) from None


def _check_w(w, n_pre, n_post, w_min, w_max) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0:
        w = np.full((n_pre, n_post), float(w))
    if w.shape != (n_pre, n_post):
        raise ConfigError("w", f"must have shape ({n_pre}, {n_post}), not {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ConfigError("w", "must be finite")
    if w.size and (w.min() < w_min - 1e-12 or w.max() > w_max + 1e-12):
        raise ConfigError("w", f"values must lie in [w_min, w_max] = [{w_min}, {w_max}]")
    return np.ascontiguousarray(np.clip(w, w_min, w_max))


class IdealSynapses:
    """Float64 weights, updated in place by float rules."""

    kind = "ideal"

    def __init__(self, w, n_pre: int, n_post: int, w_min: float = 0.0, w_max: float = 1.0):
        self.n_pre, self.n_post, self.w_min, self.w_max = n_pre, n_post, float(w_min), float(w_max)
        self.w = _check_w(w, n_pre, n_post, w_min, w_max)

    def weights(self) -> np.ndarray:
        return self.w.copy()

    def advance(self, dt: float) -> None:
        pass


class IntSynapses:
    """Integer weight codes ``q`` (``0..W_MAX``) on ``[w_min, w_max]``; initial weights round to nearest."""

    kind = "int"

    def __init__(self, w, n_pre: int, n_post: int, w_min: float = 0.0, w_max: float = 1.0, W_BITS: int = 8):
        self.n_pre, self.n_post, self.w_min, self.w_max = n_pre, n_post, float(w_min), float(w_max)
        self.W_BITS = int(W_BITS)
        self.W_MAX = (1 << self.W_BITS) - 1
        self.lsb = (self.w_max - self.w_min) / self.W_MAX
        w = _check_w(w, n_pre, n_post, w_min, w_max)
        self.q = np.ascontiguousarray(np.clip(np.rint((w - self.w_min) / self.lsb), 0, self.W_MAX).astype(np.int64))

    def weights(self) -> np.ndarray:
        return self.w_min + self.q * self.lsb

    def advance(self, dt: float) -> None:
        pass


class CrossbarSynapses:
    """Weights stored in a memristor :class:`~hwsnn.crossbar.Crossbar` (reads through the ADC)."""

    kind = "crossbar"

    def __init__(self, w, n_pre: int, n_post: int, w_min: float = 0.0, w_max: float = 1.0, *, device="ideal",
                 config=None, verify: bool = True, seed: int = 0):
        try:
            from hwsnn.crossbar import Crossbar, CrossbarConfig
        except ImportError as e:  # pragma: no cover - only while the crossbar layer is missing
            raise ConfigError("synapse.backend", f"the crossbar backend needs hwsnn.crossbar ({e})") from e
        self.n_pre, self.n_post, self.w_min, self.w_max = n_pre, n_post, float(w_min), float(w_max)
        cfg = CrossbarConfig() if config is None else config
        cfg = dataclasses.replace(cfg, mapping=dataclasses.replace(cfg.mapping, w_min=self.w_min, w_max=self.w_max))
        self.xbar = Crossbar(device, n_pre, n_post, config=cfg, seed=seed)
        self.program_result = self.xbar.program(_check_w(w, n_pre, n_post, w_min, w_max), verify=verify)
        self._all_cols = np.arange(n_post, dtype=np.int64)
        self._cache = None

    def weights(self) -> np.ndarray:
        # noise-free effective weights; cached until the next write or clock advance
        if self._cache is None:
            self._cache = self.xbar.weights()
        return self._cache.copy()

    def commit(self, w_old, w_new, pre_idx, post_idx) -> None:
        """Issue the desired change ``w_new - w_old`` as pulses on the touched synapses only.

        Rows of spiking presynaptic neurons are written whole; the spiking postsynaptic columns are
        written on the remaining rows (each synapse at most once).
        """
        dw = w_new - w_old
        if pre_idx.shape[0]:
            self.xbar.update(dw[pre_idx, :], rows=pre_idx, cols=None)
        if post_idx.shape[0]:
            mask = np.ones(self.n_pre, dtype=bool)
            mask[pre_idx] = False
            rest = np.flatnonzero(mask).astype(np.int64)
            if rest.shape[0]:
                self.xbar.update(dw[np.ix_(rest, post_idx)], rows=rest, cols=post_idx)
        self._cache = None

    def advance(self, dt: float) -> None:
        self.xbar.advance(dt)
        self._cache = None


def make_synapses(cfg: SynapseConfig, w, n_pre: int, n_post: int, w_min: float, w_max: float, seed: int = 0):
    """The backend named by ``cfg.backend`` holding initial weights ``w``."""
    if cfg.backend == "ideal":
        return IdealSynapses(w, n_pre, n_post, w_min, w_max)
    if cfg.backend == "int":
        return IntSynapses(w, n_pre, n_post, w_min, w_max, cfg.W_BITS)
    return CrossbarSynapses(w, n_pre, n_post, w_min, w_max, device=cfg.device, config=cfg.crossbar,
                            verify=cfg.verify, seed=seed)
