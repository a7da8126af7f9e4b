"""Deployment of a trained STL network: integer model, STO crossbar with write-verify, drift.

Integer model (one word per membrane, two's complement; the conventions of the RTL units in
docs/hardware/fixed_point.md: ``>>`` is a floor shift, saturation is named)::

    m = sat_signed((v >> k) + sum_{i spiking} Wq[i, j], V_BITS)     # decay 2**-k as a floor shift
    s = m >= theta_q ;  v' = 0 if s else m                            # hard reset

Quantisation (:func:`quantize`), per layer: ``lsb = max|W| / q_max`` with ``q_max = 2**(W_BITS-1) - 1``,
``Wq = floor(W/lsb + 1/2)`` (so ``|Wq| <= q_max`` and ``|Wq*lsb - W| <= lsb/2``), ``theta_q =
floor(theta/lsb + 1/2)`` raised to at least 1 (a threshold of 0 would fire without input); a
threshold beyond the ``V_BITS`` range is an error, not a silent clip.

Crossbar (:func:`program_crossbars`): each layer is an ``n_in x n_out`` :class:`hwsnn.crossbar.Crossbar`
of the chosen device preset (differential pairs, weight range ``[-1, 1]``, ``2*q_max + 1`` levels so
every code ``Wq/q_max`` is a level), written with :meth:`Crossbar.program` (open loop, then
write-verify).  Inference on the crossbar (:func:`crossbar_forward`) reads the column currents of
the spiking rows every step through the crossbar's read path (read noise, its ADC if configured),
scales them to LSB units and runs the neuron above on those currents in floating point against the
integer thresholds.  Drift: the array clock is advanced with :meth:`Crossbar.advance`, and the
accuracy re-measured at each requested device time.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Callable, NamedTuple

import numpy as np
from pydantic import Field, field_validator

from hwsnn.config.types import Bool, Float, Int, Str
from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError
from hwsnn.spec import shr_floor, signed_range
from hwsnn.stl.model import STREAM_INPUT_TEST, Layer, STLParams, check_params, encode, forward, readout

__all__ = ["DeployParams", "IntLayer", "IntNetwork", "quantize", "dequantize", "decay_shift", "int_step",
           "int_forward", "program_crossbars", "crossbar_forward", "accuracy", "deploy"]


class DeployParams(Params):
    """Deployment to integer hardware and a memristor crossbar (config section ``[deploy]``)."""

    w_bits: Annotated[Int, Field(ge=2, le=16)] = 8
    """Signed weight code width (``q_max = 2**(w_bits-1) - 1``)."""
    v_bits: Annotated[Int, Field(ge=4, le=32)] = 16
    """Signed membrane width of the integer neuron (saturating)."""
    device: Str = "sto"
    """Device preset of the crossbar (``hwsnn device info`` lists them)."""
    verify_tol: Annotated[Float, Field(gt=0.0)] = 0.02
    """Write-verify acceptance ``|w_read - w_target| <= verify_tol * 2`` on the ``[-1, 1]`` weight range."""
    verify_max_iter: Annotated[Int, Field(ge=1, le=1000)] = 20
    """Write-verify rounds at most."""
    verify_wait: Annotated[Float, Field(ge=0.0)] = 10.0
    """Device seconds before each verify read, so the volatile (short-term) conductance that the
    programming pulses add has decayed and the long-term state is verified (STO: ``st_tau`` = 3 s)."""
    open_loop: Bool = True
    """Also program a second copy open loop (no verify) and report its accuracy."""
    drift: list[Annotated[Float, Field(gt=0.0)]] = [1.0, 60.0, 3600.0, 86400.0]
    """Device times after the end of programming (s) at which the crossbar accuracy is measured again
    (increasing; the array clock is advanced between them)."""
    n_test: Annotated[Int, Field(ge=0)] = 0
    """Test samples for the integer and crossbar evaluations (0 = all the run used)."""

    @field_validator("device")
    @classmethod
    def _device(cls, v):
        from hwsnn.devices import list_presets

        if v not in list_presets():
            raise ValueError(f"unknown device preset {v!r}; known: {', '.join(list_presets())}")
        return v

    @field_validator("drift")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError(f"must be strictly increasing, got {v}")
        return v


class IntLayer(NamedTuple):
    """One quantised layer."""

    w: np.ndarray
    """Weight codes, int64 ``(n_in, n_out)`` in ``[-q_max, q_max]``."""
    theta: np.ndarray
    """Threshold codes, int64 ``(n_out,)``, ``>= 1``."""
    lsb: float
    """Value of one code in the float model's units."""


class IntNetwork(NamedTuple):
    """A quantised network."""

    layers: tuple
    shift: int
    """Decay ``2**-shift`` as an arithmetic right shift."""
    w_bits: int
    v_bits: int
    population: int
    raised: int
    """Thresholds that rounded to 0 and were raised to 1."""


def decay_shift(decay: float) -> int:
    """``k`` with ``decay == 2**-k`` (the integer neuron's floor shift); ConfigError otherwise."""
    k = round(-math.log2(decay)) if decay > 0 else 0
    if k < 1 or 2.0**-k != decay:
        raise ConfigError("model.decay", f"the integer neuron implements the decay as a right shift: it must be "
                                         f"0.5, 0.25, ... (2**-k), got {decay}")
    return int(k)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def quantize(params: STLParams, w_bits: int = 8, v_bits: int = 16) -> IntNetwork:
    """Integer codes of a trained network (see the module docstring)."""
    check_params(params)
    shift = decay_shift(params.decay)
    q_max = (1 << (w_bits - 1)) - 1
    _, v_hi = signed_range(v_bits)
    layers, raised = [], 0
    for k, layer in enumerate(params.layers):
        amax = float(np.max(np.abs(layer.w)))
        lsb = amax / q_max if amax > 0 else 1.0
        wq = np.clip(_round_half_up(layer.w / lsb), -q_max, q_max)  # the clip only removes float round-off
        tq = _round_half_up(layer.theta / lsb)
        if tq.max() > v_hi:
            raise ConfigError("deploy.v_bits", f"layer {k}: threshold code {int(tq.max())} exceeds the "
                                               f"{v_bits}-bit membrane (max {v_hi}); use more bits")
        raised += int(np.sum(tq < 1))
        layers.append(IntLayer(w=wq, theta=np.maximum(tq, 1), lsb=lsb))
    return IntNetwork(layers=tuple(layers), shift=shift, w_bits=w_bits, v_bits=v_bits,
                      population=params.population, raised=raised)


def dequantize(net: IntNetwork) -> STLParams:
    """The float network the codes stand for (``Wq*lsb``, ``theta_q*lsb``)."""
    return STLParams(layers=tuple(Layer(w=l.w * l.lsb, theta=l.theta * l.lsb) for l in net.layers),
                     decay=2.0**-net.shift, population=net.population)


def int_step(net: IntNetwork, v: tuple, x: np.ndarray) -> tuple[tuple, tuple, int]:
    """One step of the integer model: ``x`` (batch, n_in) 0/1 -> (spikes per layer, membranes, number
    of saturations)."""
    lo, hi = signed_range(net.v_bits)
    inp = np.asarray(x).astype(np.int64)
    spikes, vs, sat = [], [], 0
    for layer, vk in zip(net.layers, v):
        m = shr_floor(vk, net.shift) + inp @ layer.w
        sat += int(np.sum((m < lo) | (m > hi)))
        m = np.clip(m, lo, hi)
        s = m >= layer.theta
        vs.append(np.where(s, 0, m))
        spikes.append(s.astype(np.int64))
        inp = spikes[-1]
    return tuple(spikes), tuple(vs), sat


def int_forward(net: IntNetwork, raster: np.ndarray) -> tuple[list, int]:
    """The integer model over a ``(T, batch, n_in)`` raster: spikes per layer ``(T, batch, n)``
    (int64) and the number of membrane saturations."""
    n_t, batch = raster.shape[:2]
    v = tuple(np.zeros((batch, l.w.shape[1]), np.int64) for l in net.layers)
    out = [np.zeros((n_t, batch, l.w.shape[1]), np.int64) for l in net.layers]
    sat = 0
    for t in range(n_t):
        s, v, n = int_step(net, v, raster[t])
        sat += n
        for k in range(len(out)):
            out[k][t] = s[k]
    return out, sat


def _crossbar_config(net: IntNetwork, cfg: DeployParams):
    from hwsnn.crossbar import CrossbarConfig, MappingConfig, UpdateConfig

    q_max = (1 << (net.w_bits - 1)) - 1
    return CrossbarConfig(mapping=MappingConfig(scheme="differential", w_min=-1.0, w_max=1.0, levels=2 * q_max + 1),
                          update=UpdateConfig(verify_tol=cfg.verify_tol, verify_max_iter=cfg.verify_max_iter,
                                              verify_wait=cfg.verify_wait))


def program_crossbars(net: IntNetwork, cfg: DeployParams, seed: int, verify: bool = True):
    """One crossbar per layer holding ``Wq / q_max``, written by :meth:`Crossbar.program`.

    Returns ``(crossbars, results)`` (:class:`hwsnn.crossbar.ProgramResult` per layer)."""
    from hwsnn.crossbar import Crossbar
    from hwsnn.devices import get_preset

    q_max = (1 << (net.w_bits - 1)) - 1
    dev = get_preset(cfg.device)
    conf = _crossbar_config(net, cfg)
    xbars, results = [], []
    for k, layer in enumerate(net.layers):
        xb = Crossbar(dev, n_in=layer.w.shape[0], n_out=layer.w.shape[1], config=conf, seed=seed * 64 + k)
        results.append(xb.program(layer.w / q_max, verify=verify))
        xbars.append(xb)
    return xbars, results


def crossbar_forward(net: IntNetwork, xbars: list, raster: np.ndarray) -> np.ndarray:
    """Output spikes ``(T, batch, n_out)`` of the network read from ``xbars``: each step, each
    layer reads the columns of its spiking rows (:meth:`Crossbar.read_currents`), in LSB units,
    into ``m = decay*v + I``; spike where ``m >= theta_q``; hard reset."""
    q_max = (1 << (net.w_bits - 1)) - 1
    decay = 2.0**-net.shift
    n_t, batch = raster.shape[:2]
    out = np.zeros((n_t, batch, net.layers[-1].w.shape[1]))
    for b in range(batch):
        v = [np.zeros(l.w.shape[1]) for l in net.layers]
        for t in range(n_t):
            rows = np.flatnonzero(raster[t, b]).astype(np.int64)
            for k, (layer, xb) in enumerate(zip(net.layers, xbars)):
                cur = xb.read_currents(rows) * q_max if rows.size else np.zeros(layer.w.shape[1])
                m = decay * v[k] + cur
                s = m >= layer.theta
                v[k] = np.where(s, 0.0, m)
                rows = np.flatnonzero(s).astype(np.int64)
            out[t, b, rows] = 1.0
    return out


def accuracy(out_spikes: np.ndarray, y: np.ndarray, population: int) -> float:
    """Accuracy of the population readout of ``(T, batch, C*P)`` spikes."""
    n_t, batch, n = out_spikes.shape
    rates = out_spikes.reshape(n_t, batch, n // population, population).mean(axis=(0, 3))
    return float(np.mean(rates.argmax(axis=1) == y))


def deploy(params: STLParams, cfg: DeployParams, x_test: np.ndarray, y_test: np.ndarray, steps: int, seed: int,
           progress: Callable | None = None) -> dict:
    """Quantise, program (write-verify, and open loop if asked), and measure the test accuracy of the
    float, integer and crossbar networks, then after each drift time.  Returns a JSON-ready dict."""
    n = cfg.n_test or len(y_test)
    if n > len(y_test):
        raise ConfigError("deploy.n_test", f"{n} exceeds the {len(y_test)} test samples of the run (0 = all)")
    x, y = x_test[:n], y_test[:n]
    ids = np.arange(n)
    raster = encode(x, steps, seed, STREAM_INPUT_TEST, ids)
    t0 = time.perf_counter()
    net = quantize(params, cfg.w_bits, cfg.v_bits)
    acc_float = float(np.mean(readout(params, forward(params, raster).spikes[-1]).argmax(axis=1) == y))
    int_out, sat = int_forward(net, raster)
    acc_int = accuracy(int_out[-1].astype(np.float64), y, net.population)
    rep = {"n_test": n, "w_bits": cfg.w_bits, "v_bits": cfg.v_bits, "device": cfg.device,
           "float_accuracy": acc_float, "integer_accuracy": acc_int, "integer_saturations": sat,
           "thresholds_raised": net.raised, "lsb": [l.lsb for l in net.layers],
           "theta_codes": [[int(l.theta.min()), int(l.theta.max())] for l in net.layers]}
    stages = [("open_loop", False)] if cfg.open_loop else []
    stages.append(("verified", True))
    todo = len(stages) + len(cfg.drift)
    bar = progress(total=todo, desc="crossbar evaluations") if progress is not None else None
    for name, verify in stages:
        xbars, res = program_crossbars(net, cfg, seed, verify=verify)
        rep[f"{name}_program"] = [{"pulses": r.pulses, "energy_j": r.energy, "iterations": r.iterations,
                                   "max_error": r.error, "rms_error": r.rms_error, "converged": r.converged,
                                   "write_time_s": r.write_time} for r in res]
        rep[f"{name}_accuracy"] = accuracy(crossbar_forward(net, xbars, raster), y, net.population)
        if bar is not None:
            bar.update(1)
    drift = []
    now = 0.0  # device time since the end of programming
    for t in cfg.drift:
        for xb in xbars:
            xb.advance(t - now)
        now = t
        drift.append({"time_s": t, "accuracy": accuracy(crossbar_forward(net, xbars, raster), y, net.population)})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    rep["drift"] = drift
    rep["seconds"] = time.perf_counter() - t0
    return rep
