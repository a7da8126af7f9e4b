"""Diehl & Cook-style winner-take-all network whose input synapses are pluggable.

The network: ``n_in`` Poisson inputs -> ``n_exc`` conductance-based LIF excitatory neurons with
an adaptive threshold (theta), lateral inhibition (either D&C's explicit inhibitory population or
direct all-to-all inhibition scaled by 1/N), and the D&C triplet STDP rule on the input synapses
with per-sample weight normalisation.  Unsupervised; neurons are labelled afterwards by their
mean response per class and the test label is a vote (:func:`assign_labels`, :func:`predict`).

Synapse backends (``synapse=``), the same network and rule on all three:

``"ideal"``
    float64 weights in ``[0, w_max]``, updated in place at every spike.
``"int8"``
    8-bit integer weights (``q_bits``) with the integer twin of the rule: integer traces read from
    tables of the hardware decay ``x <- (x * D) >> 12``, updates ``(prod * M + r) >> E`` with
    stochastic rounding, the same per-step order.  Host-side normalisation with stochastic
    rounding.
``"crossbar"``
    weights live on a :class:`hwsnn.crossbar.Crossbar` of memristors (``device_preset``, differential
    pairs by default).  During a presentation the network integrates the crossbar's effective
    weights (read at the sample boundary) through the read path of the crossbar config: each
    step's column input gets the exact column-sum Gaussian read noise of the devices and the ADC
    (``io.adc_bits``), inside the kernel.  The rule's desired changes are accumulated during the
    presentation and written back at its end (every ``write_every`` presentations) as SET/RESET
    pulses through ``xb.update`` with stochastic rounding, only into the columns of neurons that
    fired; the write-back is computed from the columns' consolidated (long-term) weights and
    normalises a column down when it exceeds the target (``crossbar_norm``); every
    ``renorm_every`` presentations all columns are renormalised.  Then the crossbar clock advances
    by the presentation time (drift, volatile relaxation), the written columns are re-read (all
    columns every ``crossbar_refresh`` presentations; both reads go through the public
    ``Crossbar.weights(cols, long_term)``), and a digital per-column input gain
    ``target / column sum`` (``column_gain``) compensates drift of a column's total conductance.
    This is the faithful-and-fast choice: per-spike writes would need one kernel exit per post
    spike, while the change per presentation is small (the batching of an FPGA learning engine
    with a write-back queue).  Because the STO device's drift restarts at every write, the
    crossbar uses a larger potentiation rate (``crossbar_nu_post``).

See :mod:`hwsnn.tasks._wta_kernel` for the per-step order and the event-driven kernel.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.tasks import _wta_kernel as K
from hwsnn.tasks._config import check_choice, check_range

__all__ = [
    "WTAConfig",
    "WTANetwork",
    "SYNAPSES",
    "assign_labels",
    "predict",
    "train_and_evaluate",
    "evaluate",
    "confusion_matrix",
]

SYNAPSES = ("ideal", "int8", "crossbar")
"""Synapse backends accepted by :class:`WTANetwork`."""


@dataclass
class WTAConfig:
    """Parameters of the WTA network (units: ms, mV, Hz; conductances in units of the leak).

    Defaults are the tuned configuration for accuracy (prototype notes, plasticity.md section 7,
    plus further tuning); :meth:`diehl_cook` gives the literal Diehl & Cook 2015 parameters.
    """

    n_in: int = 64
    """Number of inputs (pixels)."""
    n_exc: int = 100
    """Number of excitatory neurons."""
    dt: float = 0.5
    """Time step (ms)."""
    t_present: float = 350.0
    """Presentation time per sample (ms)."""
    t_rest: float = 150.0
    """Rest time after each presentation, inputs off (ms)."""
    max_rate: float = 127.5
    """Input rate of a pixel of value 1 (Hz); D&C: 63.75."""
    rerun_min_spikes: int = 5
    """Re-present a sample with a higher rate when the layer fires fewer spikes than this (0: never)."""
    rerun_rate_step: float = 31.875
    """Rate added to ``max_rate`` at each re-presentation (Hz); D&C: intensity + 1 = 31.875 Hz."""
    rerun_max: int = 10
    """Maximum number of re-presentations of one sample."""

    tau_m: float = 100.0
    """Excitatory membrane time constant (ms)."""
    v_rest: float = -65.0
    """Excitatory resting potential (mV)."""
    v_reset: float = -65.0
    """Excitatory reset potential (mV)."""
    v_thresh: float = -52.0
    """Excitatory threshold without adaptation (mV); spike when ``v > v_thresh + theta - theta_offset``."""
    theta_offset: float = 20.0
    """Offset subtracted from theta in the threshold (mV; D&C: 20)."""
    theta_init: float = 20.0
    """Initial adaptive threshold theta (mV; D&C: 20)."""
    theta_plus: float = 0.05
    """Theta increment per spike while learning (mV)."""
    tau_theta: float = 1e7
    """Theta decay time constant while learning (ms); theta is frozen at test time."""
    refrac_exc: float = 5.0
    """Excitatory refractory period (ms)."""
    e_exc: float = 0.0
    """Excitatory reversal potential (mV)."""
    e_inh: float = -100.0
    """Inhibitory reversal potential of the excitatory neurons (mV)."""
    tau_ge: float = 1.0
    """Excitatory conductance time constant (ms)."""
    tau_gi: float = 2.0
    """Inhibitory conductance time constant (ms)."""
    efficacy: float = 2.0
    """Conductance added per input spike per unit weight (D&C: 1)."""

    inhibition: str = "direct"
    """``"population"`` (D&C: exc -> inh one-to-one, inh -> all other exc) or ``"direct"``
    (each exc spike adds ``w_inh_total / n_exc`` to the inhibitory conductance of all other exc)."""
    w_inh_total: float = 3000.0
    """Direct inhibition summed over the layer (per-spike conductance is ``w_inh_total / n_exc``)."""
    w_ei: float = 10.4
    """Population mode: exc -> inh weight (D&C: 10.4)."""
    w_ie: float = 17.0
    """Population mode: inh -> exc weight (D&C: 17)."""
    tau_m_inh: float = 10.0
    """Inhibitory membrane time constant (ms)."""
    v_rest_inh: float = -60.0
    """Inhibitory resting potential (mV)."""
    v_reset_inh: float = -45.0
    """Inhibitory reset potential (mV)."""
    v_thresh_inh: float = -40.0
    """Inhibitory threshold (mV)."""
    refrac_inh: float = 2.0
    """Inhibitory refractory period (ms)."""
    tau_ge_inh: float = 1.0
    """Excitatory conductance time constant of the inhibitory neurons (ms)."""

    nu_pre: float = 1e-4
    """Depression per presynaptic spike, times the post1 trace (D&C: 1e-4)."""
    nu_post: float = 0.02
    """Potentiation per postsynaptic spike, times pre * post2 traces (D&C: 1e-2)."""
    tau_pre: float = 20.0
    """Presynaptic trace time constant (ms)."""
    tau_post1: float = 20.0
    """First postsynaptic trace time constant (ms)."""
    tau_post2: float = 40.0
    """Second (triplet) postsynaptic trace time constant (ms)."""
    w_max: float = 1.0
    """Upper weight bound (weights are in ``[0, w_max]``)."""
    w_init_max: float = 0.3
    """Initial weights are uniform in ``[0, w_init_max]`` (before normalisation)."""
    norm_per_input: float = 0.3
    """Weight-normalisation target per input: each neuron's input weights sum to
    ``norm_per_input * n_in`` before every learning presentation (D&C: 78/784; 0 = off)."""

    q_bits: int = 8
    """``int8`` backend: weight bits."""
    trace_bits: int = 8
    """``int8`` backend: trace bits."""

    device_preset: str = "sto"
    """``crossbar`` backend: device preset name (:func:`hwsnn.devices.get_preset`)."""
    device_options: dict = field(default_factory=dict)
    """``crossbar`` backend: device parameter overrides (``dataclasses.replace`` on the preset)."""
    crossbar_options: dict = field(default_factory=dict)
    """``crossbar`` backend: :class:`hwsnn.crossbar.CrossbarConfig` fields."""
    adc_bits: int = 0
    """``crossbar`` backend: quantise each step's column input to ``adc_bits`` (0 = take the
    crossbar config's ADC resolution, negative = no ADC quantisation in the kernel)."""
    read_noise: float = -1.0
    """``crossbar`` backend: relative per-device read noise applied to each step's column sums
    (negative = take it from the device parameters, 0 = off)."""

    crossbar_refresh: int = 10
    """``crossbar`` backend: re-read every column of the crossbar every this many presentations
    (drift / volatile decay of untouched columns); the columns written by plasticity are re-read
    after every presentation regardless."""

    write_every: int = 1
    """``crossbar`` backend: write the accumulated rule changes back every this many learning
    presentations (1 = after every presentation).  Fewer, larger writes limit the drift restarted
    by each write (power-law drift restarts at every write)."""
    renorm_every: int = 50
    """``crossbar`` backend: every this many learning presentations all columns are renormalised
    (not only the ones plasticity wrote), which restores columns that drift while their neuron is
    silent (0 = never)."""
    crossbar_nu_post: float = 0.15
    """``crossbar`` backend: potentiation rate used instead of ``nu_post`` (0 = use ``nu_post``).
    The STO device's power-law drift restarts at every write, so freshly written (i.e. learned)
    conductances lose a few % within seconds; a larger potentiation step outpaces that loss
    (digits, seed 0: 0.03 -> 67 %, 0.1 -> 85 %, 0.15 -> 87 %)."""
    crossbar_norm: str = "down"
    """``crossbar`` backend: how the write-back normalises a written column: ``"down"`` only scales
    a column down when its sum exceeds the target (a column that lost conductance to drift is
    compensated by ``column_gain`` instead of SET pulses on every synapse, which would restart
    their drift and spread the column's weight into the background), ``"both"`` scales up and
    down like the ideal model."""
    column_gain: bool = True
    """``crossbar`` backend: a digital per-column input gain ``norm_target / sum_i w_ij``, measured
    (one all-rows column read) at every weight refresh, compensates the slow loss of a column's
    total conductance (drift) at test time as well as during training (no writes needed)."""
    normalize_long_term: bool = True
    """``crossbar`` backend: compute the write-back (rule change + normalisation) from the
    consolidated long-term weights of the written columns, i.e. the host reads the columns after
    their volatile (short-term) part has relaxed; False = from the weights the network sees."""

    fast_forward: bool = True
    """Skip the quiescent tail of the rest phase exactly (closed-form decay)."""

    # ------------------------------------------------------------------------------------------
    @classmethod
    def diehl_cook(cls, n_in: int = 784, n_exc: int = 400, **overrides) -> "WTAConfig":
        """Faithful Diehl & Cook 2015 parameters (conductance LIF, explicit inhibitory population,
        triplet STDP nu_pre 1e-4 / nu_post 1e-2, adaptive theta +0.05 mV, 350 + 150 ms at
        dt 0.5 ms, 63.75 Hz max rate, weight sum 78 per 784 inputs)."""
        base = dict(
            n_in=n_in,
            n_exc=n_exc,
            crossbar_nu_post=0.0,
            max_rate=63.75,
            efficacy=1.0,
            inhibition="population",
            nu_pre=1e-4,
            nu_post=1e-2,
            norm_per_input=78.0 / 784.0,
            theta_plus=0.05,
            tau_theta=1e7,
        )
        base.update(overrides)
        cfg = cls(**base)
        cfg.validate()
        return cfg

    @classmethod
    def tuned(cls, n_in: int = 64, n_exc: int = 100, **overrides) -> "WTAConfig":
        """The tuned configuration for accuracy (direct inhibition scaled 1/N, 127.5 Hz, efficacy 2,
        weight sum 0.3 per input, potentiation 0.02 (0.15 on the crossbar), depression 1e-4,
        theta+ 0.05 mV)."""
        cfg = cls(n_in=n_in, n_exc=n_exc, **overrides)
        cfg.validate()
        return cfg

    def replace(self, **changes) -> "WTAConfig":
        cfg = dataclasses.replace(self, **changes)
        cfg.validate()
        return cfg

    def validate(self, prefix: str = "") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        p = f"{prefix}." if prefix else ""
        check_range(self.n_in, p + "n_in", 1, 1_000_000)
        check_range(self.n_exc, p + "n_exc", 1, 100_000)
        check_range(self.dt, p + "dt", 0.0, 10.0, lo_open=True)
        for name in ("t_present", "t_rest"):
            check_range(getattr(self, name), p + name, 0.0, 100_000.0)
        if self.t_present < self.dt:
            raise ConfigError(p + "t_present", f"must be at least one step (dt = {self.dt} ms)")
        check_range(self.max_rate, p + "max_rate", 0.0, 1000.0 / self.dt)
        check_range(self.rerun_min_spikes, p + "rerun_min_spikes", 0, 10_000)
        check_range(self.rerun_rate_step, p + "rerun_rate_step", 0.0, 1000.0)
        check_range(self.rerun_max, p + "rerun_max", 0, 1000)
        for name in ("tau_m", "tau_ge", "tau_gi", "tau_m_inh", "tau_ge_inh", "tau_pre", "tau_post1",
                     "tau_post2", "tau_theta"):
            check_range(getattr(self, name), p + name, 0.0, None, lo_open=True)
        for name in ("refrac_exc", "refrac_inh", "theta_plus", "theta_init", "efficacy", "w_inh_total",
                     "w_ei", "w_ie", "nu_pre", "nu_post", "w_init_max", "norm_per_input"):
            check_range(getattr(self, name), p + name, 0.0, None)
        if not self.v_reset < self.v_thresh:
            raise ConfigError(p + "v_reset", f"must be below v_thresh ({self.v_thresh} mV)")
        if not self.v_reset_inh < self.v_thresh_inh:
            raise ConfigError(p + "v_reset_inh", f"must be below v_thresh_inh ({self.v_thresh_inh} mV)")
        check_range(self.w_max, p + "w_max", 0.0, None, lo_open=True)
        if self.w_init_max > self.w_max:
            raise ConfigError(p + "w_init_max", f"must be <= w_max ({self.w_max})")
        if self.norm_per_input > self.w_max:
            raise ConfigError(p + "norm_per_input", f"must be <= w_max ({self.w_max})")
        check_choice(self.inhibition, p + "inhibition", ("population", "direct"))
        check_range(self.q_bits, p + "q_bits", 2, 16)
        check_range(self.trace_bits, p + "trace_bits", 2, 16)
        if not isinstance(self.device_preset, str) or not self.device_preset:
            raise ConfigError(p + "device_preset", "must be a non-empty preset name")
        if not isinstance(self.device_options, dict):
            raise ConfigError(p + "device_options", "must be a table")
        if not isinstance(self.crossbar_options, dict):
            raise ConfigError(p + "crossbar_options", "must be a table")
        check_range(self.adc_bits, p + "adc_bits", -1, 24)
        check_range(self.crossbar_refresh, p + "crossbar_refresh", 1, 1_000_000)
        check_range(self.renorm_every, p + "renorm_every", 0, 1_000_000)
        check_range(self.write_every, p + "write_every", 1, 1_000_000)
        check_choice(self.crossbar_norm, p + "crossbar_norm", ("down", "both"))
        check_range(self.crossbar_nu_post, p + "crossbar_nu_post", 0.0, None)
        if self.read_noise != -1.0:
            check_range(self.read_noise, p + "read_noise", 0.0, 10.0)

    # derived ---------------------------------------------------------------------------------
    @property
    def n_on(self) -> int:
        """Presentation steps."""
        return int(round(self.t_present / self.dt))

    @property
    def n_total(self) -> int:
        """Presentation + rest steps."""
        return self.n_on + int(round(self.t_rest / self.dt))

    @property
    def norm_target(self) -> float:
        """Weight-sum target per neuron."""
        return self.norm_per_input * self.n_in


# ----------------------------------------------------------------------------------------------
def _coef(c: float) -> tuple[int, int]:
    """Mantissa/exponent pair ``(M, E)`` with ``M / 2**E ~= c`` and ``M`` in ``[2**11, 2**12)``."""
    if c <= 0.0:
        return 0, 0
    e = max(0, int(math.ceil(math.log2(2048.0 / c))))
    e = min(e, 62)
    return int(round(c * 2.0**e)), e


def _int_trace_table(tau: float, dt: float, bits: int, n: int) -> np.ndarray:
    """Integer trace after ``k`` steps (``x0 = 2**bits - 1``, ``x <- (x * D) >> 12``)."""
    d = int(round(4096.0 * math.exp(-dt / tau)))
    out = np.zeros(n + 1)
    x = (1 << bits) - 1
    for k in range(n + 1):
        out[k] = x
        x = (x * d) >> 12
        if x == 0:
            break
    return out


class WTANetwork:
    """The WTA network with one synapse backend; see the module docstring.

    Parameters
    ----------
    cfg : WTAConfig
    synapse : {"ideal", "int8", "crossbar"}
    seed : int
        Seeds the initial weights, the Poisson inputs, stochastic rounding and the crossbar.
    crossbar : optional
        A ready :class:`hwsnn.crossbar.Crossbar` (``n_in x n_exc``) to use instead of building one
        from ``cfg.device_preset``.
    """

    def __init__(self, cfg: WTAConfig, synapse: str = "ideal", seed: int = 0, *, crossbar=None):
        if not isinstance(cfg, WTAConfig):
            raise ConfigError("cfg", f"must be a WTAConfig, not {type(cfg).__name__}")
        cfg.validate()
        check_choice(synapse, "synapse", SYNAPSES)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, got {seed!r}")
        self.cfg = cfg
        self.synapse = synapse
        self.seed = int(seed)
        self.mode = {"ideal": 0, "int8": 1, "crossbar": 2}[synapse]
        n_in, n_exc = cfg.n_in, cfg.n_exc
        self._key_in = int(K.key_py(self.seed, 11))
        self._key_sr = int(K.key_py(self.seed, 12))
        self._ctr = np.zeros(1, np.int64)
        self._pres = 0  # presentations run (counter base of the input RNG)
        self.n_presentations = 0
        self.n_reruns = 0
        self.samples_seen = 0
        self.seconds = 0.0
        self.xb = None
        self._xb_count = 0
        self._learn_count = 0

        rng = np.random.default_rng([self.seed, 4])
        w0 = rng.uniform(0.0, cfg.w_init_max, size=(n_in, n_exc))
        if cfg.norm_target > 0:
            K.normalize_float(w0, cfg.norm_target)
            np.minimum(w0, cfg.w_max, out=w0)
        self._qmax = (1 << cfg.q_bits) - 1
        self.w = np.zeros((1, 1))
        self.wq = np.zeros((1, 1), np.int64)
        self.dw = np.zeros((1, 1))
        if self.mode == 0:
            self.w = np.ascontiguousarray(w0)
        elif self.mode == 1:
            self.wq = np.ascontiguousarray(np.rint(w0 / cfg.w_max * self._qmax).astype(np.int64))
        else:
            self.xb = crossbar if crossbar is not None else self._build_crossbar()
            self.xb.program(w0 / cfg.w_max)
            self.w = np.ascontiguousarray(np.asarray(self.xb.weights(), np.float64) * cfg.w_max)
            self.dw = np.zeros((n_in, n_exc))
        self._gain = np.ones(0)
        self._update_gain()

        self.v = np.full(n_exc, cfg.v_rest)
        self.ge = np.zeros(n_exc)
        self.gi = np.zeros(n_exc)
        self.ref = np.zeros(n_exc, np.int64)
        self.theta = np.full(n_exc, cfg.theta_init)
        pop = cfg.inhibition == "population"
        n_inh = n_exc if pop else 0
        self.vi = np.full(n_inh, cfg.v_rest_inh)
        self.gei = np.zeros(n_inh)
        self.refi = np.zeros(n_inh, np.int64)
        self.counts = np.zeros(n_exc, np.int64)
        self._touched = np.zeros(n_exc, np.int64)
        self._build_params()
        self._ntab = np.zeros(1)
        if self.mode == 2 and (self.fp[K.F_READ_NOISE] > 0 or self.fp[K.F_READ_ADD] > 0):
            from hwsnn.rng import normal_array

            self._ntab = normal_array(self.seed, 13, 1 << 16)

    # ---------------------------------------------------------------------------------------
    def _build_crossbar(self):
        cfg = self.cfg
        try:
            from hwsnn.crossbar import Crossbar, CrossbarConfig
            from hwsnn.devices import get_preset
        except ImportError as exc:  # pragma: no cover - depends on the crossbar package
            raise ConfigError("synapse", f"the crossbar backend is not available ({exc})") from None
        try:
            params = get_preset(cfg.device_preset)
        except ConfigError as exc:
            raise ConfigError("network.device_preset", exc.message) from None
        if cfg.device_options:
            try:
                params = dataclasses.replace(params, **cfg.device_options)
            except ConfigError as exc:
                raise ConfigError(f"network.device_options.{exc.field}", exc.message) from None
            except TypeError as exc:
                raise ConfigError("network.device_options", str(exc)) from None
        try:
            xcfg = CrossbarConfig.from_dict(cfg.crossbar_options)
        except ConfigError as exc:
            raise ConfigError(f"network.crossbar_options.{exc.field}", exc.message) from None
        except TypeError as exc:
            raise ConfigError("network.crossbar_options", str(exc)) from None
        return Crossbar(params, cfg.n_in, cfg.n_exc, config=xcfg, seed=self.seed)

    def _read_path(self) -> tuple[float, float, float, float, float]:
        """Crossbar read path for the kernel, in weight units: ``(adc_lsb, adc_max, read_noise,
        g0, read_add_var)``.

        Each step's column input ``sum_{active i} w_ij`` gets the exact column-sum Gaussian of
        the devices' read noise (differential pair: both devices carry ``g_min``, relative noise
        ``read_noise`` on each conductance, additive ``read_noise_add`` of the window), then the
        ADC of the crossbar config (``io.adc_bits``/``io.adc_range``) quantises it.
        """
        cfg = self.cfg
        if self.mode != 2:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        xb = self.xb
        xcfg = getattr(xb, "config", None)
        io = getattr(xcfg, "io", None)
        p = getattr(xb, "params", None)
        bits = cfg.adc_bits
        if bits == 0:
            bits = int(getattr(io, "adc_bits", None) or 0)
        rn = cfg.read_noise
        if rn < 0:
            rn = float(getattr(p, "read_noise", 0.0) or 0.0)
            if getattr(p, "read_noise_model", "normal") != "normal":
                rn = 0.0  # other laws are time-dependent; not modelled in the fast path
        span = float(getattr(getattr(xcfg, "mapping", None), "w_span", 1.0) or 1.0)
        g_min = float(getattr(p, "g_min", 0.0) or 0.0)
        g_max = float(getattr(p, "g_max", 1.0) or 1.0)
        g0 = span * g_min / (g_max - g_min) * cfg.w_max
        ra = float(getattr(p, "read_noise_add", 0.0) or 0.0) if cfg.read_noise < 0 else 0.0
        add_var = 2.0 * (ra * span * cfg.w_max) ** 2
        lsb = amax = 0.0
        if bits > 0:
            rng = getattr(io, "adc_range", None) or getattr(xb, "adc_range", None) or (0.0, cfg.n_in)
            lo, hi = float(rng[0]), float(rng[1])
            amax = hi * cfg.w_max
            lsb = (hi - lo) * cfg.w_max / ((1 << bits) - 1)
        return lsb, amax, rn, g0, add_var

    def _build_params(self) -> None:
        cfg = self.cfg
        fp = np.zeros(K.N_FPARAMS)
        ip = np.zeros(K.N_IPARAMS, np.int64)
        dt = cfg.dt
        fp[K.F_DT] = dt
        fp[K.F_DM_E] = math.exp(-dt / cfg.tau_m)
        fp[K.F_TAU_E] = cfg.tau_m
        fp[K.F_VREST_E] = cfg.v_rest
        fp[K.F_VRESET_E] = cfg.v_reset
        fp[K.F_VTH_E] = cfg.v_thresh - cfg.theta_offset
        fp[K.F_EEXC] = cfg.e_exc
        fp[K.F_EINH] = cfg.e_inh
        fp[K.F_DGE] = math.exp(-dt / cfg.tau_ge)
        fp[K.F_DGI] = math.exp(-dt / cfg.tau_gi)
        fp[K.F_EFF] = cfg.efficacy
        fp[K.F_THETA_PLUS] = cfg.theta_plus
        fp[K.F_NU_PRE] = cfg.nu_pre
        fp[K.F_NU_POST] = cfg.crossbar_nu_post if (self.mode == 2 and cfg.crossbar_nu_post > 0) else cfg.nu_post
        fp[K.F_WMAX] = cfg.w_max
        fp[K.F_W_INH_DIRECT] = cfg.w_inh_total / cfg.n_exc
        fp[K.F_TAU_I] = cfg.tau_m_inh
        fp[K.F_VREST_I] = cfg.v_rest_inh
        fp[K.F_VRESET_I] = cfg.v_reset_inh
        fp[K.F_VTH_I] = cfg.v_thresh_inh
        fp[K.F_EEXC_I] = cfg.e_exc
        fp[K.F_DGE_I] = math.exp(-dt / cfg.tau_ge_inh)
        fp[K.F_W_EI] = cfg.w_ei
        fp[K.F_W_IE] = cfg.w_ie
        fp[K.F_DM_I] = math.exp(-dt / cfg.tau_m_inh)
        fp[K.F_WSCALE] = cfg.w_max / self._qmax
        fp[K.F_QUIET] = 1e-9
        lsb, amax, rn, g0, add_var = self._read_path()
        fp[K.F_ADC_LSB] = lsb
        fp[K.F_ADC_MAX] = amax
        fp[K.F_READ_NOISE] = rn
        fp[K.F_G0] = g0
        fp[K.F_READ_ADD] = add_var
        ip[K.I_REF_E] = int(round(cfg.refrac_exc / dt))
        ip[K.I_REF_I] = int(round(cfg.refrac_inh / dt))
        ip[K.I_POP] = 1 if cfg.inhibition == "population" else 0
        ip[K.I_QMAX] = self._qmax
        tmax = (1 << cfg.trace_bits) - 1
        pm, pe = _coef(cfg.nu_pre * self._qmax / (cfg.w_max * tmax))
        qm, qe = _coef(cfg.nu_post * self._qmax / (cfg.w_max * tmax * tmax))
        ip[K.I_PM], ip[K.I_PE], ip[K.I_QM], ip[K.I_QE] = pm, pe, qm, qe
        ip[K.I_FASTFWD] = 1 if cfg.fast_forward else 0
        self.fp, self.ip = fp, ip
        n = cfg.n_total
        if self.mode == 1:
            self.tr_pre = _int_trace_table(cfg.tau_pre, dt, cfg.trace_bits, n)
            self.tr_post1 = _int_trace_table(cfg.tau_post1, dt, cfg.trace_bits, n)
            self.tr_post2 = _int_trace_table(cfg.tau_post2, dt, cfg.trace_bits, n)
        else:
            k = np.arange(n + 1)
            self.tr_pre = np.exp(-k * dt / cfg.tau_pre)
            self.tr_post1 = np.exp(-k * dt / cfg.tau_post1)
            self.tr_post2 = np.exp(-k * dt / cfg.tau_post2)

    # ---------------------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """Current effective weights, shape ``(n_in, n_exc)``, in ``[0, w_max]``."""
        if self.mode == 1:
            return self.wq * (self.cfg.w_max / self._qmax)
        return self.w.copy()

    def state_snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the neuron state (for agreement checks)."""
        return {
            "v": self.v.copy(),
            "theta": self.theta.copy(),
            "ge": self.ge.copy(),
            "gi": self.gi.copy(),
            "refractory": self.ref.copy(),
            "v_inh": self.vi.copy(),
            "ge_inh": self.gei.copy(),
            "refractory_inh": self.refi.copy(),
        }

    def _before(self, learn: bool) -> None:
        if not learn or self.cfg.norm_target <= 0:
            return
        if self.mode == 0:
            K.normalize_float(self.w, self.cfg.norm_target)
            np.minimum(self.w, self.cfg.w_max, out=self.w)
        elif self.mode == 1:
            K.normalize_int(self.wq, self.cfg.norm_target * self._qmax / self.cfg.w_max, self._qmax,
                            np.uint64(self._key_sr), self._ctr)

    def _update_gain(self, cols=None) -> None:
        """Column gains from the column sums of ``w`` (only ``cols`` changed, if given)."""
        cfg = self.cfg
        if self.mode != 2 or not cfg.column_gain or cfg.norm_target <= 0:
            return
        if cols is None or self._gain.shape[0] != cfg.n_exc:
            s = self.w.sum(axis=0)
            self._gain = np.where(s > 0, cfg.norm_target / np.maximum(s, 1e-300), 1.0)
        else:
            s = self.w[:, cols].sum(axis=0)
            self._gain[cols] = np.where(s > 0, cfg.norm_target / np.maximum(s, 1e-300), 1.0)

    def _after(self, learn: bool) -> None:
        cfg = self.cfg
        t_s = cfg.n_total * cfg.dt * 1e-3
        if learn:
            self.theta *= math.exp(-cfg.n_total * cfg.dt / cfg.tau_theta)
        if self.mode != 2:
            return
        xb = self.xb
        cols = np.empty(0, np.int64)
        if learn:
            self._learn_count += 1
        if learn and self._learn_count % cfg.write_every == 0:
            if cfg.renorm_every and self._learn_count % cfg.renorm_every == 0 and cfg.norm_target > 0:
                cols = np.arange(cfg.n_exc, dtype=np.int64)
            else:
                cols = np.flatnonzero(self._touched).astype(np.int64)
            self._touched[:] = 0
            if cols.size:
                every = cols.size == cfg.n_exc  # renormalisation: whole-array read, no index lists
                if cfg.normalize_long_term:
                    wc = np.asarray(xb.weights(None if every else cols, long_term=True), np.float64) * cfg.w_max
                else:
                    wc = self.w[:, cols]
                desired = np.clip(wc + self.dw[:, cols], 0.0, cfg.w_max)
                if cfg.norm_target > 0:
                    if cfg.crossbar_norm == "down":
                        sums = desired.sum(axis=0)
                        desired *= np.where(sums > cfg.norm_target, cfg.norm_target / np.maximum(sums, 1e-300), 1.0)
                    else:
                        K.normalize_float(desired, cfg.norm_target)
                    np.minimum(desired, cfg.w_max, out=desired)
                if every:
                    xb.update((desired - wc) / cfg.w_max)
                else:
                    xb.update((desired - wc) / cfg.w_max, cols=cols)
                self.dw[:, cols] = 0.0
        xb.advance(t_s)
        self._xb_count += 1
        if self._xb_count % cfg.crossbar_refresh == 0:
            self.w[:] = np.asarray(xb.weights(), np.float64) * cfg.w_max
            self._update_gain()
        elif cols.size:
            self.w[:, cols] = np.asarray(xb.weights(cols), np.float64) * cfg.w_max
            self._update_gain(cols)

    def _run(self, ptr, idx, learn: bool) -> int:
        cfg = self.cfg
        self._before(learn)
        total = K.present_kernel(
            ptr, idx, cfg.n_on, cfg.n_total, self.mode, bool(learn),
            self.w, self.wq, self.dw,
            self.v, self.ge, self.gi, self.ref, self.theta,
            self.vi, self.gei, self.refi,
            self.fp, self.ip, self.tr_pre, self.tr_post1, self.tr_post2,
            np.uint64(self._key_sr), self._ctr, self.counts, self._gain, self._ntab, self._touched,
        )
        self._after(learn)
        self.n_presentations += 1
        return int(total)

    def present(self, x: np.ndarray, learn: bool = True) -> np.ndarray:
        """Present one sample (Poisson rates ``x * max_rate``) then rest; returns exc spike counts.

        If the layer fires fewer than ``rerun_min_spikes`` spikes during the presentation the
        sample is presented again with ``rerun_rate_step`` more (D&C), at most ``rerun_max`` times;
        the counts of the last presentation are returned.
        """
        cfg = self.cfg
        x = np.asarray(x, np.float64)
        if x.shape != (cfg.n_in,):
            raise ConfigError("x", f"must have shape ({cfg.n_in},), got {x.shape}")
        t0 = time.perf_counter()
        attempt = 0
        while True:
            rates = np.clip(x, 0.0, 1.0) * (cfg.max_rate + attempt * cfg.rerun_rate_step)
            ptr, idx = K.poisson_events(rates, cfg.dt, cfg.n_on, np.uint64(self._key_in),
                                        np.int64(self._pres) << np.int64(24))
            self._pres += 1
            self._run(ptr, idx, learn)
            if self.counts.sum() >= cfg.rerun_min_spikes or attempt >= cfg.rerun_max:
                break
            attempt += 1
            self.n_reruns += 1
        if learn:
            self.samples_seen += 1
        self.seconds += time.perf_counter() - t0
        return self.counts.copy()

    def present_raster(self, raster: np.ndarray, learn: bool = True) -> np.ndarray:
        """Present an explicit input raster (bool ``(T_steps, n_in)``, ``T_steps <= n_on``) then rest
        (to ``n_total`` steps); no re-presentation.  Returns exc spike counts of the presentation."""
        cfg = self.cfg
        raster = np.asarray(raster)
        if raster.ndim != 2 or raster.shape[1] != cfg.n_in or raster.shape[0] > cfg.n_on:
            raise ConfigError("raster", f"must have shape (T <= {cfg.n_on}, {cfg.n_in}), got {raster.shape}")
        ptr, idx = raster_to_events(raster, cfg.n_on)
        self._run(ptr, idx, learn)
        if learn:
            self.samples_seen += 1
        return self.counts.copy()


def raster_to_events(raster: np.ndarray, n_on: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (``ptr``, ``idx``) of a bool raster, padded with silent steps up to ``n_on``."""
    t, i = np.nonzero(raster)
    ptr = np.zeros(n_on + 1, np.int64)
    np.add.at(ptr, t + 1, 1)
    np.cumsum(ptr, out=ptr)
    return ptr, i.astype(np.int64)


# ----------------------------------------------------------------------------------------------
def assign_labels(counts: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Label each neuron with the class of its highest mean response (D&C); shape ``(n_exc,)``."""
    counts = np.asarray(counts, np.float64)
    rates = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        m = y == c
        if m.any():
            rates[c] = counts[m].mean(axis=0)
    return np.argmax(rates, axis=0).astype(np.int64)


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Vote: the class whose assigned neurons have the highest mean spike count."""
    counts = np.asarray(counts, np.float64)
    scores = np.zeros((counts.shape[0], n_classes))
    for c in range(n_classes):
        m = assignments == c
        if m.any():
            scores[:, c] = counts[:, m].sum(axis=1) / m.sum()
    return np.argmax(scores, axis=1).astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def _responses(net: WTANetwork, x: np.ndarray, tick: Callable[[], None] | None) -> np.ndarray:
    out = np.empty((x.shape[0], net.cfg.n_exc), np.int64)
    for s in range(x.shape[0]):
        out[s] = net.present(x[s], learn=False)
        if tick:
            tick()
    return out


def evaluate(net: WTANetwork, dataset, tick=None) -> dict[str, Any]:
    """Label neurons from a learning-off pass over the training set, then test by vote."""
    n_classes = int(max(dataset.y_train.max(), dataset.y_test.max())) + 1
    r_train = _responses(net, dataset.x_train, tick)
    assignments = assign_labels(r_train, dataset.y_train, n_classes)
    r_test = _responses(net, dataset.x_test, tick)
    pred = predict(r_test, assignments, n_classes)
    acc = float(np.mean(pred == dataset.y_test))
    train_acc = float(np.mean(predict(r_train, assignments, n_classes) == dataset.y_train))
    return {
        "accuracy": acc,
        "train_accuracy": train_acc,
        "assignments": assignments,
        "predictions": pred,
        "confusion": confusion_matrix(dataset.y_test, pred, n_classes),
        "mean_test_spikes": float(r_test.sum(axis=1).mean()),
    }


def _checkpoints(total: int, points: int) -> list[int]:
    if points <= 1 or total == 0:
        return [total]
    # geometric-ish spacing: denser early in training
    fr = np.geomspace(1.0 / 2 ** (points - 1), 1.0, points)
    pts = sorted({max(1, int(round(f * total))) for f in fr})
    if pts[-1] != total:
        pts.append(total)
    return pts


def train_and_evaluate(
    cfg: WTAConfig,
    dataset,
    synapse: str = "ideal",
    seed: int = 0,
    epochs: int = 3,
    progress: Callable[..., Any] | None = None,
    *,
    curve_points: int = 4,
    n_train: int | None = None,
    n_test: int | None = None,
    desc: str | None = None,
    curve: str = "online",
) -> dict[str, Any]:
    """Train the network unsupervised on ``dataset`` and evaluate it.

    Samples are presented in a seeded random order each epoch.  At the end, neurons are labelled
    from a learning-off pass over the training set and the test set is classified by vote.

    The accuracy curve is either ``curve="online"`` (default; ``curve_points`` points per epoch,
    D&C style: neurons labelled from the previous window of training responses, the next window
    predicted - free, and it does not disturb training, which matters on a drifting crossbar) or
    ``curve="test"`` (``curve_points`` checkpoints, each a full learning-off labelling + test pass).

    Parameters
    ----------
    progress : callable, optional
        ``progress(total=..., desc=...)`` returning a tqdm-like bar (``update``/``close``).
    n_train, n_test : int, optional
        Use only the first ``n_train`` training / ``n_test`` test samples (quick runs).

    Returns
    -------
    dict
        ``accuracy``, ``train_accuracy``, ``curve`` (list of ``{"samples", "accuracy"}``),
        ``confusion``, ``assignments``, ``samples`` (training presentations), ``seconds``,
        ``train_seconds``, ``ms_per_sample`` (training), ``reruns``, ``weights``, ``theta``,
        ``synapse``, ``seed``, ``epochs``, and ``network`` (the trained :class:`WTANetwork`).
    """
    check_range(epochs, "epochs", 0, 10_000)
    if dataset.n_in != cfg.n_in:
        cfg = cfg.replace(n_in=dataset.n_in)
    x_tr, y_tr = dataset.x_train, dataset.y_train
    x_te, y_te = dataset.x_test, dataset.y_test
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    ds = _View(x_tr, y_tr, x_te, y_te)
    t_start = time.perf_counter()
    net = WTANetwork(cfg, synapse=synapse, seed=seed)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    total = epochs * len(x_tr)
    check_choice(curve, "curve", ("online", "test"))
    cps = _checkpoints(total, curve_points) if (total and curve == "test") else []
    n_eval = (len(cps) or 1) * (len(x_tr) + len(x_te))
    bar = progress(total=total + n_eval, desc=desc or f"{synapse} seed {seed}") if progress else None
    tick = bar.update if bar is not None else None
    order_rng = np.random.default_rng([seed, 5])
    curve_pts: list[dict] = []
    seen = 0
    train_s = 0.0
    ev = None
    # online curve (D&C style): label neurons from the previous window of training responses,
    # predict the next window by vote; costs no extra presentations and does not disturb training
    window = max(1, -(-len(x_tr) // max(1, curve_points))) if curve == "online" else 0
    bounds = {int(round((w + 1) * len(x_tr) / curve_points)) for w in range(curve_points)} if window else set()
    prev_r = prev_y = None
    cur_r = np.zeros((window, cfg.n_exc), np.int64) if window else None
    cur_y = np.zeros(window, np.int64) if window else None
    k = 0
    for ep in range(epochs):
        order = order_rng.permutation(len(x_tr))
        for pos, s in enumerate(order):
            t0 = time.perf_counter()
            c = net.present(x_tr[s], learn=True)
            train_s += time.perf_counter() - t0
            seen += 1
            if tick:
                tick()
            if window:
                cur_r[k] = c
                cur_y[k] = y_tr[s]
                k += 1
                if (pos + 1) in bounds:
                    if prev_r is not None:
                        a = assign_labels(prev_r, prev_y, n_classes)
                        acc = float(np.mean(predict(cur_r[:k], a, n_classes) == cur_y[:k]))
                        curve_pts.append({"samples": seen, "epoch": seen / len(x_tr), "accuracy": acc,
                                          "kind": "online"})
                    prev_r, prev_y = cur_r[:k].copy(), cur_y[:k].copy()
                    k = 0
            if cps and seen == cps[0]:
                cps.pop(0)
                ev = evaluate(net, ds, tick)
                curve_pts.append({"samples": seen, "epoch": seen / len(x_tr), "accuracy": ev["accuracy"],
                                  "kind": "test"})
    if ev is None or curve == "online":
        ev = evaluate(net, ds, tick)
        if curve == "test" or not curve_pts:
            curve_pts.append({"samples": seen, "epoch": seen / max(1, len(x_tr)), "accuracy": ev["accuracy"],
                              "kind": "test"})
    curve = curve_pts
    if bar is not None:
        bar.close()
    return {
        "synapse": synapse,
        "seed": int(seed),
        "epochs": int(epochs),
        "accuracy": ev["accuracy"],
        "train_accuracy": ev["train_accuracy"],
        "curve": curve,
        "confusion": ev["confusion"],
        "assignments": ev["assignments"],
        "mean_test_spikes": ev["mean_test_spikes"],
        "samples": int(seen),
        "seconds": time.perf_counter() - t_start,
        "train_seconds": train_s,
        "ms_per_sample": 1e3 * train_s / max(1, seen),
        "reruns": int(net.n_reruns),
        "weights": net.weights(),
        "theta": net.theta.copy(),
        "network": net,
    }


@dataclass
class _View:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
