"""Parameters of the ``learning_core`` (time-multiplexed LIF + trace-STDP core), in one place.

:class:`LearningCoreParams` composes the unit parameters of :mod:`hwsnn.spec.units`
(``lif_stepwise``, ``stdp_trace``, ``stdp_update``) with the core's own: neuron and input
counts, ADC code width, the ADC-code -> ``i_syn`` scaling, lateral inhibition, rule enables and
the initial weight pattern.  The golden core (:mod:`hwsnn.golden.core`), the Amaranth component
(:mod:`hwsnn.hw.learning_core`), the cocotb bench and the co-simulation all build from it; port
widths are derived properties here, never retyped.

The two pieces of core arithmetic that are not a unit of their own are defined here as named
integer helpers, so golden model and RTL generator read the same definition:

- :func:`isyn_of` -- ``i_syn = sat_signed(((code * ISYN_MUL) >> ISYN_SHIFT) - INHIB * inh, V_BITS)``;
- :func:`instar_of` -- the ``RULE = 1`` (instar) weight update of one synapse of a spiking neuron;
- :func:`gated_of` -- the ``RULE = 2`` (learning-threshold-gated stepwise) update of one synapse of
  a spiking input;
- :func:`initial_weights` -- the power-up content of the weight memory (LFSR16 pattern).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.spec.fixed import bits_for, sat_signed, shr_floor
from hwsnn.spec.lfsr import check_seed, lfsr16_sequence
from hwsnn.spec.units import LifStepwiseParams, StdpTraceParams, StdpUpdateParams

__all__ = ["LearningCoreParams", "isyn_of", "instar_of", "gated_of", "initial_weights", "OP_SET", "OP_RESET",
           "RULE_STDP", "RULE_INSTAR", "RULE_GATED", "ip_enable"]

RULE_STDP = 0
"""``RULE`` value: trace STDP (``stdp_update``) on every synapse with a pre or post spike."""
RULE_INSTAR = 1
"""``RULE`` value: instar rule on every synapse of a spiking neuron (:func:`instar_of`)."""
RULE_GATED = 2
"""``RULE`` value: learning-threshold-gated stepwise rule on every synapse of a spiking input
(:func:`gated_of`, the ``learn_up`` / ``learn_dn`` flags of ``lif_stepwise``)."""

OP_SET = 1
"""``pg_set`` value of a SET (potentiating) program command."""
OP_RESET = 0
"""``pg_set`` value of a RESET (depressing) program command."""

_UNITS = {"lif": LifStepwiseParams, "trace": StdpTraceParams, "update": StdpUpdateParams}


def _int(obj, name: str, lo: int, hi: int) -> int:
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ConfigError(name, f"must be an integer, not {v!r}")
    if not lo <= v <= hi:
        raise ConfigError(name, f"must be in {lo}..{hi}, not {v}")
    return int(v)


@dataclass(frozen=True, kw_only=True)
class LearningCoreParams:
    """Elaboration-time parameters of ``learning_core``.

    Field names of the core's own parameters are upper case like the unit contracts'; the
    unit parameter sets are the sections ``lif``, ``trace`` and ``update``.  ``trace.X_BITS``
    must equal ``update.X_BITS`` (the traces feed ``stdp_update``).
    """

    N: int = 16
    """Neurons (crossbar columns), time-multiplexed over one datapath."""
    M: int = 64
    """Inputs (crossbar rows)."""
    ADC_BITS: int = 8
    """Width of one column's ADC code in a read response."""
    ISYN_MUL: int = 3
    """``i_syn`` gain: ``(code * ISYN_MUL) >> ISYN_SHIFT``."""
    ISYN_SHIFT: int = 1
    """``i_syn`` right shift (floor)."""
    INHIB: int = 0
    """Lateral inhibition: subtracted from every neuron's ``i_syn`` in a timestep that follows a
    timestep in which any neuron spiked (0 = off)."""
    WTA: int = 0
    """1 = a spike also inhibits (``INHIB``) the neurons updated after it in the same timestep
    (``j`` larger), so neurons crossing threshold together do not all fire (winner-take-all);
    0 = inhibition only from the previous timestep."""
    LEARN: int = 1
    """1 = the learning rule runs and emits program commands; 0 = inference only."""
    RULE: int = RULE_STDP
    """Learning rule: 0 = trace STDP (``stdp_update``) on every synapse with a pre or post spike;
    1 = instar (:func:`instar_of`) on every synapse of a spiking neuron; 2 = learning-threshold-gated
    stepwise rule (:func:`gated_of`) on every synapse of a spiking input."""
    GATED_STEP: int = 1
    """Gated rule: weight codes (= pulses) per step up (``learn_up``) or down (``learn_dn``)."""
    X_TH: int = 160
    """Instar: a row counts as active when its updated pre trace ``x_pre >= X_TH``."""
    INSTAR_SHIFT: int = 2
    """Instar step: the weight moves ``1/2**INSTAR_SHIFT`` of the way to ``W_MAX`` (active row) or 0."""
    IP_EN: int = 1
    """``ip_en`` of every neuron (intrinsic plasticity: stepwise threshold levels): 0 = off, 1 = on in
    every timestep, 2 = on only in timesteps with ``in_learn`` (thresholds frozen while evaluating)."""
    W_INIT_MAX: int = 20
    """Power-up weights are drawn in ``0 .. W_INIT_MAX`` (see :func:`initial_weights`)."""
    W_INIT_SEED: int = 0x1234
    """LFSR16 seed of the initial weight pattern."""
    lif: LifStepwiseParams = dataclasses.field(default_factory=LifStepwiseParams)
    """Neuron parameters (every neuron shares them)."""
    trace: StdpTraceParams = dataclasses.field(default_factory=StdpTraceParams)
    """Pre- and post-synaptic trace parameters."""
    update: StdpUpdateParams = dataclasses.field(default_factory=lambda: StdpUpdateParams(W_MAX=100))
    """Weight update parameters; one shared LFSR16 seeded with ``update.LFSR_SEED``.  ``W_MAX``
    defaults to 100, the pulse count of the default devices' window (1 weight LSB = 1 pulse)."""

    module = "learning_core"

    def __post_init__(self):
        for name, cls in _UNITS.items():
            v = getattr(self, name)
            if isinstance(v, dict):
                try:
                    v = cls.from_dict(v)
                except ConfigError as exc:
                    raise ConfigError(f"{name}.{exc.field}", exc.message) from None
                object.__setattr__(self, name, v)
            if not isinstance(v, cls):
                raise ConfigError(name, f"must be a {cls.__name__}, not {type(v).__name__}")
        _int(self, "N", 1, 256)
        _int(self, "M", 1, 1024)
        _int(self, "ADC_BITS", 1, 16)
        _int(self, "ISYN_MUL", 0, 1 << 12)
        _int(self, "ISYN_SHIFT", 0, 16)
        _int(self, "INHIB", 0, (1 << (self.lif.V_BITS - 1)) - 1)
        _int(self, "WTA", 0, 1)
        _int(self, "LEARN", 0, 1)
        _int(self, "RULE", 0, 2)
        _int(self, "GATED_STEP", 1, self.update.W_MAX)
        _int(self, "X_TH", 0, self.trace.x_max)
        _int(self, "INSTAR_SHIFT", 0, self.update.W_BITS)
        _int(self, "IP_EN", 0, 2)
        _int(self, "W_INIT_MAX", 0, self.update.W_MAX)
        check_seed(self.W_INIT_SEED, "W_INIT_SEED")
        if self.trace.X_BITS != self.update.X_BITS:
            raise ConfigError("update.X_BITS", f"must equal trace.X_BITS={self.trace.X_BITS}, not {self.update.X_BITS}")

    # -- derived widths ---------------------------------------------------------------------
    @property
    def row_bits(self) -> int:
        """Width of ``pg_row``."""
        return bits_for(self.M)

    @property
    def col_bits(self) -> int:
        """Width of ``pg_col`` and ``dbg_addr``."""
        return bits_for(self.N)

    @property
    def codes_bits(self) -> int:
        """Width of ``rd_resp_codes``: ``N * ADC_BITS`` (column ``j`` at bits ``[j*ADC_BITS +: ADC_BITS]``)."""
        return self.N * self.ADC_BITS

    @property
    def n_synapses(self) -> int:
        return self.M * self.N

    # -- (de)serialisation -------------------------------------------------------------------
    def replace(self, **changes) -> "LearningCoreParams":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """Constructor keywords (unit sections stay parameter objects)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict:
        """Nested plain dict (JSON-ready)."""
        d = self.as_dict()
        for name in _UNITS:
            d[name] = d[name].as_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LearningCoreParams":
        """Build from a (nested) dict; unknown keys raise ConfigError naming them."""
        if not isinstance(d, dict):
            raise ConfigError("core", "must be a mapping of parameters")
        names = {f.name for f in fields(cls)}
        for k in d:
            if k not in names:
                raise ConfigError(k, f"unknown parameter of {cls.__name__}; known: {sorted(names)}")
        return cls(**d)


def isyn_of(p: LearningCoreParams, code, inh):
    """Synaptic input of one neuron from its column's ADC code (ints or int64 arrays).

    ``sat_signed(((code * ISYN_MUL) >> ISYN_SHIFT) - INHIB * inh, V_BITS)``; ``inh`` is 1 when
    any neuron spiked in the previous timestep.
    """
    raw = shr_floor(code * p.ISYN_MUL, p.ISYN_SHIFT) - p.INHIB * inh
    if isinstance(raw, np.ndarray):
        lo, hi = -(1 << (p.lif.V_BITS - 1)), (1 << (p.lif.V_BITS - 1)) - 1
        return np.clip(raw, lo, hi).astype(np.int64)
    return sat_signed(int(raw), p.lif.V_BITS)


def instar_of(p: LearningCoreParams, w, x_pre):
    """Instar update of synapse ``(i, j)`` when neuron ``j`` spiked (ints or int64 arrays).

    ``w + ((W_MAX - w) >> INSTAR_SHIFT)`` if ``x_pre >= X_TH`` (the row was active recently),
    else ``w - (w >> INSTAR_SHIFT)``: the spiking neuron's weights move toward the recent input
    pattern (``W_MAX`` on active rows, 0 elsewhere).  Stays in ``0 .. W_MAX``; deterministic.
    """
    k, wmax = p.INSTAR_SHIFT, p.update.W_MAX
    if isinstance(w, np.ndarray) or isinstance(x_pre, np.ndarray):
        w = np.asarray(w, np.int64)
        return np.where(np.asarray(x_pre) >= p.X_TH, w + ((wmax - w) >> k), w - (w >> k)).astype(np.int64)
    return int(w + ((wmax - w) >> k)) if x_pre >= p.X_TH else int(w - (w >> k))


def gated_of(p: LearningCoreParams, w, learn_up, learn_dn):
    """Gated stepwise update of synapse ``(i, j)`` when input ``i`` spiked (ints or int64 arrays).

    ``min(w + GATED_STEP, W_MAX)`` if neuron ``j``'s ``learn_up`` flag is set, else
    ``max(w - GATED_STEP, 0)`` if its ``learn_dn`` flag is set, else ``w``; the flags are the
    ``lif_stepwise`` outputs of neuron ``j`` after this timestep's update (the membrane against its
    learning thresholds ``theta - LEARN_UP`` / ``theta - LEARN_DN``).  Deterministic."""
    st, wmax = p.GATED_STEP, p.update.W_MAX
    if isinstance(w, np.ndarray) or isinstance(learn_up, np.ndarray):
        w = np.asarray(w, np.int64)
        up = np.asarray(learn_up) != 0
        dn = np.asarray(learn_dn) != 0
        return np.where(up, np.minimum(w + st, wmax), np.where(dn, np.maximum(w - st, 0), w)).astype(np.int64)
    if learn_up:
        return int(min(w + st, wmax))
    return int(max(w - st, 0)) if learn_dn else int(w)


def ip_enable(p: LearningCoreParams, learn: int) -> int:
    """``ip_en`` of the neurons in a timestep with ``in_learn = learn``."""
    return int(p.IP_EN == 1 or (p.IP_EN == 2 and bool(learn)))


def initial_weights(p: LearningCoreParams) -> np.ndarray:
    """Power-up content of the weight memory, ``(M, N)`` int64, row-major synapse ``k = i*N + j``.

    ``w0[k] = (s_k * (W_INIT_MAX + 1)) >> 16`` with ``s_k`` the ``k``-th state of an LFSR16 seeded
    with ``W_INIT_SEED`` (so ``0 <= w0 <= W_INIT_MAX``, roughly uniform).
    """
    s = lfsr16_sequence(p.W_INIT_SEED, p.n_synapses).astype(np.int64)
    return ((s * (p.W_INIT_MAX + 1)) >> 16).reshape(p.M, p.N)
