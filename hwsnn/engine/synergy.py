"""Multi-plasticity synergy: several mechanisms on one projection with adaptive weights ``lambda_m``.

Two forms (``synergy.form``):

``"shared"``
    one weight matrix; each mechanism's change is scaled by its ``lambda_m``:
    ``dw = sum_m lambda_m dw_m`` (the ``lambda`` are learning-rate gains; adaptation keeps their
    initial sum).
``"components"``
    each mechanism ``m`` keeps its own weights ``W_m`` with its own dynamics (its rule sees and
    changes only ``W_m``; normalisation applies to each component); the neurons see
    ``W = sum_m lambda_m W_m`` (the ``lambda`` are read gains, summing to 1).  On the crossbar each
    component is its own device tile driven by the same input rows, and ``lambda_m`` is the gain
    of that tile's column currents before they are summed (a programmable current mirror or a
    digital gain after each tile's ADC) - no device holds the effective weight.

``lambda`` adapt on line by a local covariance ("credit") rule, once per learning sample::

    margin  M = (n_1 - n_2) / n_1        (n_1, n_2: the two largest spike counts of the layer)
    share   c_m = |dW_m| / sum_k |dW_k|  (this sample's absolute change by mechanism m)
    lambda_m <- lambda_m + eta * (M - <M>) * (c_m - <c_m>)     (<.>: running means, rate beta)

then ``lambda`` is clipped at ``lam_min`` and renormalised.

``adapt = "es"`` is an antithetic evolution strategy on the same local fitness, the mean margin:
for a pair of windows of ``window`` samples the layer learns with ``lambda + sigma * eps`` and
then ``lambda - sigma * eps`` (``eps`` standard normal per mechanism), and
``lambda <- lambda + eta * (M_plus - M_minus) / 2 * eps / sigma`` (clipped, renormalised).  It
needs two margin accumulators and a seeded noise source per core.  Mechanisms whose share of the
update co-varies with a more decisive winner-take-all response gain weight.  It is local and
cheap in hardware: the two largest spike counts come from the layer's spike counters, the
shares from per-mechanism pulse counters, and the update is one multiply-accumulate per
mechanism per sample.  With every ``lambda`` but one at zero and ``adapt = "fixed"``, synergy
is exactly that single mechanism.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hwsnn.engine.contract import Params

__all__ = ["SynergyConfig", "SynergyState", "margin"]


class SynergyConfig(Params):
    """How the rules of ``rules`` are combined."""

    form: Literal["none", "shared", "components"] = "none"
    """``"none"``: every rule changes the shared weights with gain 1 (plain combination);
    ``"shared"`` / ``"components"``: see :mod:`hwsnn.engine.synergy`."""
    lambdas: list[float] = Field(default_factory=list)
    """Initial mechanism weights, one per rule (empty: 1 each).  ``"components"`` renormalises them
    to sum 1; ``"shared"`` keeps them as given, and adaptation keeps their sum."""
    adapt: Literal["fixed", "credit", "es"] = "fixed"
    """``"fixed"``: the ``lambda`` stay; ``"credit"``: the covariance rule; ``"es"``: the antithetic
    evolution strategy (module docstring)."""
    eta: float = Field(0.5, ge=0)
    """Adaptation rate of the credit rule."""
    beta: float = Field(0.02, gt=0, le=1)
    """Rate of the running means of the credit rule."""
    lam_min: float = Field(0.02, ge=0)
    """Lower bound of every adapted ``lambda`` (before renormalisation)."""
    sigma: float = Field(0.2, gt=0)
    """``"es"``: perturbation size (relative to the mean ``lambda``)."""
    window: int = Field(20, ge=1)
    """``"es"``: samples per evaluation window."""

    @model_validator(mode="after")
    def _check(self):
        if any(x < 0 for x in self.lambdas):
            raise ValueError("lambdas must be >= 0")
        if self.lambdas and sum(self.lambdas) <= 0:
            raise ValueError("lambdas must not all be 0")
        return self

    def initial(self, n_rules: int) -> np.ndarray:
        from hwsnn.errors import ConfigError

        if self.lambdas and len(self.lambdas) != n_rules:
            raise ConfigError("synergy.lambdas", f"needs one value per rule ({n_rules}), got {len(self.lambdas)}")
        lam = np.array(self.lambdas, np.float64) if self.lambdas else np.ones(n_rules)
        return lam / lam.sum() if self.form == "components" else lam

    def normalise(self, lam: np.ndarray, total: float) -> np.ndarray:
        """``lam`` rescaled to sum ``total``."""
        return lam * (total / lam.sum())


def margin(counts: np.ndarray) -> float:
    """Winner-take-all margin ``(n_1 - n_2) / n_1`` of one sample's spike counts (0 if silent)."""
    if counts.sum() <= 0:
        return 0.0
    top = np.sort(counts)[-2:] if counts.size > 1 else np.array([0, counts[0]])
    return float(top[-1] - top[0]) / float(top[-1])


class SynergyState:
    """Running means, the evolution strategy's state and the ``lambda`` history."""

    def __init__(self, cfg: SynergyConfig, lam: np.ndarray, seed: int = 0):
        self.cfg = cfg
        self.margin = None
        self.share = None
        self.history = [lam.copy()]
        self.total = float(lam.sum())
        self.center = lam.copy()
        self.rng = np.random.default_rng([seed, 23])
        self.eps = self.rng.standard_normal(lam.shape)
        self.phase = 0  # 0: + window, 1: - window
        self.k = 0
        self.acc = [0.0, 0.0]

    def _es(self, lam: np.ndarray, m: float) -> None:
        cfg = self.cfg
        self.acc[self.phase] += m
        self.k += 1
        if self.k < cfg.window:
            return
        self.k = 0
        scale = self.total / len(lam)
        if self.phase == 0:
            self.phase = 1
        else:
            g = (self.acc[0] - self.acc[1]) / (2.0 * cfg.window)
            self.center = self.center + cfg.eta * g * self.eps / cfg.sigma * scale
            np.maximum(self.center, cfg.lam_min * scale, out=self.center)
            self.center = cfg.normalise(self.center, self.total)
            self.eps = self.rng.standard_normal(lam.shape)
            self.acc = [0.0, 0.0]
            self.phase = 0
        sign = 1.0 if self.phase == 0 else -1.0
        lam[:] = np.maximum(self.center * (1.0 + sign * cfg.sigma * self.eps), 0.0)

    def update(self, lam: np.ndarray, counts: np.ndarray, contrib: np.ndarray) -> None:
        """One adaptation step in place on ``lam`` after a learning sample."""
        cfg = self.cfg
        if cfg.form != "none" and cfg.adapt == "es":
            if len(self.history) == 1:  # first sample: start the + window
                lam[:] = np.maximum(self.center * (1.0 + cfg.sigma * self.eps), 0.0)
            self._es(lam, margin(counts))
        elif cfg.form != "none" and cfg.adapt == "credit" and contrib.sum() > 0 and counts.sum() > 0:
            m = margin(counts)
            c = contrib / contrib.sum()
            if self.margin is None:
                self.margin, self.share = m, c.copy()
            dm = m - self.margin
            lam += cfg.eta * dm * (c - self.share)
            np.maximum(lam, cfg.lam_min, out=lam)
            lam[:] = cfg.normalise(lam, self.total)
            self.margin += cfg.beta * dm
            self.share += cfg.beta * (c - self.share)
        self.history.append(lam.copy())
