"""Device-resident fast weights: the working-memory inner loop with its weights held in the
volatile (short-term) component of STO devices.

Each synapse ``(i, j)`` is one device of a :class:`hwsnn.devices.DeviceArray`.  The fast weight is
the device's volatile state read as a conductance,
``w_ij = (G_ij - G_min,ij) / (g_max - g_min) / st_max`` (0 .. about 1), which relaxes with the
device's time constant ``tau = st_tau * exp(st_kappa * bias)``: the programming bias sets the
memory time (meta-plasticity).  The long-term state is kept out of the way by a programming
regime whose long-term step is negligible (``p_max`` = :attr:`FastWeightParams.p_max`, a weak
pulse without long-term write noise) and by switching the long-term drift off, so a SET pulse
mainly adds ``st_amp`` to the volatile state (whose own cycle-to-cycle noise ``st_noise`` stays).

Per sample (``steps + gap`` steps) the inner loop runs the episode's rules in
:class:`hwsnn.snn.Network` on ideal synapses that start from the devices' current fast weights;
the positive part of the sample's weight change becomes SET pulses
(``n = round(dw / (st_amp / st_max))``; the volatile state cannot be lowered by a pulse, so
depression is dropped), the array clock advances by the sample's duration, and the next sample
starts from the devices' weights again.  Max-normalisation is off (a device array cannot rescale
its volatile state).  The latency is a clock advance; the recall reads the devices with read
noise (:meth:`~hwsnn.devices.DeviceArray.read`), whose additive part sets the floor under which
a decayed memory is lost.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError

__all__ = ["FastWeightParams", "FastWeights", "memory_length", "MemorySweepConfig", "memory_sweep"]


class FastWeightParams(Params):
    """The devices holding the fast weights (STO preset with these replacements)."""

    st_tau: float = Field(1.0, gt=0)
    """Volatile time constant at zero bias (s)."""
    st_kappa: float = 1.0
    """Meta-plasticity: ``tau = st_tau * exp(st_kappa * bias)`` (1/V)."""
    bias: float = 0.0
    """Programming bias (V); sets the relaxation time."""
    st_amp: float = Field(0.02, gt=0)
    """Volatile increment per SET pulse (normalised)."""
    p_max: float = Field(1e6, gt=0)
    """Pulses from ``g_min`` to ``g_max`` of the long-term state (large: a weak pulse that leaves
    the long-term state almost unchanged)."""
    read_noise: float = Field(0.01, ge=0)
    """Relative read noise."""
    read_noise_add: float = Field(0.002, ge=0)
    """Additive read noise (fraction of ``g_max - g_min``)."""
    d2d: float = Field(0.1, ge=0)
    """Device-to-device spread (the STO preset's master factor; also spreads ``tau``)."""
    max_pulses: int = Field(20, ge=1)
    """Largest number of SET pulses per synapse per sample."""

    def tau(self) -> float:
        """The relaxation time at this bias (s)."""
        return float(self.st_tau * np.exp(self.st_kappa * self.bias))

    def device(self):
        from hwsnn.devices import get_preset

        return dataclasses.replace(get_preset("sto"), st_tau=self.st_tau, st_kappa=self.st_kappa, st_bias=self.bias,
                                   st_amp=self.st_amp, p_max=self.p_max, read_noise=self.read_noise,
                                   read_noise_add=self.read_noise_add, d2d=self.d2d, drift_nu_mean=0.0,
                                   drift_nu_std=0.0, consol_rate=0.0, c2c_mult=0.0, c2c_add=0.0)


class FastWeights:
    """Runs an episode's study phase with the weights on devices (module docstring); pass it as
    ``fast=`` to :func:`hwsnn.pdlf.tasks.run_episode`."""

    def __init__(self, params: FastWeightParams | None = None):
        self.p = params or FastWeightParams()

    def _weights(self, a, noisy: bool) -> np.ndarray:
        p = a.params
        g = a.read() if noisy else a.conductance()
        return (g - a.g_min_dev) / (p.g_max - p.g_min) / p.st_max

    def run(self, task, ep, rules, seed: int) -> np.ndarray:
        """The recall weights after the study phase and the latency (read with noise)."""
        from hwsnn.devices import DeviceArray
        from hwsnn.engine.rules.pdlf import PDLFNorm
        from hwsnn.snn import Network

        dev = self.p.device()
        n_in, n_out = ep.x.shape[1], ep.n_out
        a = DeviceArray(dev, shape=(n_in, n_out), seed=int(seed))
        a.bias = self.p.bias
        rules = [r.replace(normalize=False) if isinstance(r, PDLFNorm) else r for r in rules]
        per_pulse = dev.st_amp / dev.st_max
        chunk = task.steps + task.gap
        for k in range(0, ep.x.shape[0], chunk):
            w0 = np.clip(self._weights(a, noisy=False), 0.0, 1.0)
            net = Network(dt=task.dt, synapse="ideal", seed=int(seed) & 0x7FFFFFFF)
            net.add_input("x", n_in)
            net.add_input("y", n_out)
            proj = net.connect("x", "y", w=w0, rules=rules)
            xs, ys = ep.x[k:k + chunk], ep.y[k:k + chunk]
            net.run(xs.shape[0], inputs={"x": xs, "y": ys})
            dw = proj.weights() - w0
            n = np.clip(np.rint(np.maximum(dw, 0.0) / per_pulse), 0, self.p.max_pulses).astype(np.int64)
            a.advance(xs.shape[0] * task.dt)
            if n.any():
                a.pulse(n)
        a.advance(ep.latency * task.dt)
        return self._weights(a, noisy=True)


def memory_length(latencies, accuracy, chance: float, level: float = 0.5) -> float:
    """The latency (s) at which the recall accuracy falls to ``chance + level (1 - chance)``
    (linear interpolation in ``log`` latency between the bracketing points; the largest latency if
    it never falls that low, the smallest if it starts below)."""
    lat = np.asarray(latencies, np.float64)
    acc = np.asarray(accuracy, np.float64)
    if lat.shape != acc.shape or lat.ndim != 1 or lat.size < 1:
        raise ConfigError("latencies", "needs one accuracy per latency")
    thr = chance + level * (1.0 - chance)
    if acc[0] < thr:
        return float(lat[0])
    for k in range(1, lat.size):
        if acc[k] < thr:
            l0, l1 = np.log(max(lat[k - 1], 1e-12)), np.log(max(lat[k], 1e-12))
            f = (acc[k - 1] - thr) / (acc[k - 1] - acc[k])
            return float(np.exp(l0 + f * (l1 - l0)))
    return float(lat[-1])


class MemorySweepConfig(Params):
    """``[fastweights]``: recall accuracy vs latency for several programming biases."""

    biases: list[float] = Field(default_factory=lambda: [-2.0, -1.0, 0.0, 1.0, 2.0], min_length=1)
    """Programming biases (V); each sets a relaxation time ``st_tau * exp(st_kappa * bias)``."""
    latencies: list[float] = Field(default_factory=lambda: [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], min_length=2)
    """Latencies between study and recall (s), increasing."""
    episodes: int = Field(10, ge=1)
    """Episodes per (bias, latency) point."""
    learner: Literal["stdp", "rule", "learned"] = "rule"
    """Inner loop: ``"rule"`` (coefficients of ``[fastweights.rule]``), ``"stdp"``, or ``"learned"``
    (``hwsnn pdlf evolve`` only: the rule evolved by each seed)."""
    rule: dict = Field(default_factory=lambda: {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0})
    """Coefficients A, B, C, D of the rule (``learner = "rule"``)."""
    level: float = Field(0.5, gt=0, lt=1)
    """Memory length: the latency at which accuracy falls to ``chance + level (1 - chance)``."""
    device: FastWeightParams = Field(default_factory=FastWeightParams)
    """The devices (``bias`` is set from ``biases``)."""

    @field_validator("latencies")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:])) or v[0] < 0:
            raise ValueError("must be >= 0 and strictly increasing")
        return v

    @field_validator("rule")
    @classmethod
    def _coefs(cls, v):
        bad = set(v) - {"A", "B", "C", "D"}
        if bad:
            raise ValueError(f"unknown coefficients {sorted(bad)} (A, B, C, D)")
        return {k: float(v.get(k, 0.0)) for k in "ABCD"}


def memory_sweep(task, cfg: MemorySweepConfig, seed: int = 0, coefficients: dict | None = None) -> dict:
    """Recall accuracy of ``task`` (a :class:`hwsnn.pdlf.tasks.MemoryTask`) for every bias and
    latency of ``cfg``, the fast weights on devices; returns ``{"rows", "memory_length"}``.
    ``coefficients``: the rule's A, B, C, D for ``learner = "learned"``."""
    from hwsnn.pdlf.tasks import MemoryTask, run_episode
    from hwsnn.sweep.spec import derive_seed

    if not isinstance(task, MemoryTask):
        raise ConfigError("task.name", "the fast-weight sweep needs the memory task")
    if cfg.learner == "learned":
        if coefficients is None:
            raise ConfigError("fastweights.learner", "'learned' needs an evolved rule (hwsnn pdlf evolve)")
        learner = ("rule", dict(coefficients))
    else:
        learner = ("rule", cfg.rule) if cfg.learner == "rule" else ("stdp", None)
    rows, lengths = [], []
    chance = 1.0 / task.n_out
    for b, bias in enumerate(cfg.biases):
        fw = FastWeights(cfg.device.replace(bias=float(bias)))
        accs = []
        for k, lat in enumerate(cfg.latencies):
            t = task.replace(latency=int(round(lat / task.dt)))
            acc = [run_episode(t, learner, derive_seed(seed, b * 1000 + k, e), fast=fw)["accuracy"]
                   for e in range(cfg.episodes)]
            accs.append(float(np.mean(acc)))
            rows.append({"bias": float(bias), "tau": fw.p.tau(), "latency": float(lat),
                         "accuracy_mean": float(np.mean(acc)), "accuracy_std": float(np.std(acc))})
        lengths.append({"bias": float(bias), "tau": fw.p.tau(),
                        "memory_length": memory_length(cfg.latencies, accs, chance, cfg.level)})
    return {"rows": rows, "memory_length": lengths, "chance": chance}
