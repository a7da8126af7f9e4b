"""A winner-take-all layer on the engine: Poisson inputs -> plastic synapses -> neurons.

The Diehl & Cook-style network of the main job: ``n_in`` Poisson inputs, ``n_exc`` neurons of the
configured model, lateral inhibition (the explicit inhibitory population of Diehl & Cook, or
direct all-to-all inhibition scaled by ``1/n_exc``), the configured rules on the input synapses,
per-sample weight normalisation (``homeostasis.norm_per_input``) and an adaptive threshold.
One presentation is one call of the generated kernel (:mod:`hwsnn.engine.kernel`).

Synapse backends (``synapse.backend``), the same network and rules on all three:

``"ideal"``
    float64 weights in ``[0, w_max]``, updated in place at every spike.
``"integer"``
    ``w_bits`` weight codes and ``x_bits`` ``stdp_trace`` traces; each rule's integer twin
    (:meth:`Rule.to_int`) with LFSR16 stochastic rounding in the hardware learning core's order
    (see :mod:`hwsnn.engine.kernel`); normalisation with LFSR16 stochastic rounding.  The
    conductance neuron runs as its integer twin (:mod:`hwsnn.engine.neurons_int`: membranes,
    conductances and thresholds in documented fixed-point formats).
``"crossbar"``
    weights on a :class:`hwsnn.crossbar.Crossbar` (device preset or fitted parameter file).  Each
    step's column input is the crossbar's own column read (:func:`hwsnn.crossbar.kernels.read_out`:
    the exact column-sum Gaussian of the devices' read noise, output noise, ADC) on the per-cell
    weights and variances of :meth:`hwsnn.crossbar.Crossbar.read_model`, cached between writes; the rules' changes are accumulated during a presentation and written
    back by :class:`CrossbarWriteBack` as SET/RESET pulses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks
from hwsnn.engine.synergy import SynergyConfig, SynergyState
from hwsnn.engine.kernel import LayerSpec, layer_kernel
from hwsnn.errors import ConfigError
from hwsnn.plasticity.homeostasis import normalize_columns, normalize_columns_int_sr
from hwsnn.rng import key as rng_key
from hwsnn.snn.encoders import poisson_events
from hwsnn.snn.step_kernels import trace_tables

__all__ = ["LayerNetwork", "NetConst", "ReadConst", "raster_to_events"]


class NetConst(NamedTuple):
    """Network-level constants of the layer kernel."""

    eff: float
    """Conductance added per input spike per unit weight."""
    effq: float
    """Integer backend: conductance per input spike per weight code."""
    w_max: float
    q_max: int
    w_inh: float
    """Direct inhibition per spike (``w_inh_total / n_exc``)."""
    w_ei: float
    w_ie: float
    fast_forward: bool


class ReadConst(NamedTuple):
    """The crossbar's column read (:func:`hwsnn.crossbar.kernels.read_out`) in the layer's weight
    units (``w_max`` times the crossbar's); all off for ideal/integer synapses."""

    noisy: bool
    """Read noise on (the per-cell variances ``WV`` are summed over the active rows)."""
    out_noise: float
    adc_on: bool
    adc_lo: float
    adc_step: float
    adc_max: float
    """Highest ADC code."""
    adc_sat: bool


class _NoRecord(NamedTuple):
    v: np.ndarray


class _NoConst(NamedTuple):
    """Constants of a rule with no compiled hooks (per-sample rules)."""

    none: int = 0


def raster_to_events(raster: np.ndarray, n_on: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (``ptr``, ``idx``) of a bool raster ``(T, n_in)``, padded with silent steps up to ``n_on``."""
    t, i = np.nonzero(raster)
    ptr = np.zeros(n_on + 1, np.int64)
    np.add.at(ptr, t + 1, 1)
    np.cumsum(ptr, out=ptr)
    return ptr, i.astype(np.int64)


@dataclass
class _Rule:
    rule: Any
    hooks: Any
    consts: Any
    pre_rows: tuple
    post_rows: tuple


class LayerNetwork:
    """The WTA layer with one synapse backend; see the module docstring.

    Parameters
    ----------
    cfg
        An engine config (:class:`hwsnn.config.RunConfig` or anything with the same sections:
        ``network``, ``neuron``, ``homeostasis``, ``schedule``, ``rules``, ``synapse``).
    n_in : int
        Number of inputs.
    seed : int
        Seeds the initial weights, the Poisson inputs, stochastic rounding and the crossbar.
    backend : str, optional
        Overrides ``cfg.synapse.backend``.
    crossbar : optional
        A ready :class:`hwsnn.crossbar.Crossbar` (``n_in x n_exc``) instead of one built from the config.
    record : bool
        Record per-step membranes, excitatory conductances, spikes and weights (``self.record`` after each presentation).
    """

    def __init__(self, cfg, n_in: int, seed: int = 0, *, backend: str | None = None, crossbar=None,
                 record: bool = False):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, got {seed!r}")
        self.cfg = cfg
        self.backend = backend or cfg.synapse.backend
        if self.backend not in ("ideal", "integer", "crossbar"):
            raise ConfigError("synapse.backend", f"must be one of ['ideal', 'integer', 'crossbar'], got {self.backend!r}")
        net, sch, hom = cfg.network, cfg.schedule, cfg.homeostasis
        self.n_in, self.n_exc = int(n_in), int(net.n_exc)
        self.seed = int(seed)
        self.dt = float(sch.dt)
        self.n_on = int(round(sch.t_present / sch.dt))
        self.n_total = self.n_on + int(round(sch.t_rest / sch.dt))
        self.norm_target = hom.norm_per_input * self.n_in
        self.w_max = float(net.w_max)
        self._key_in = int(rng_key(self.seed, 11))
        self._key_sr = int(rng_key(self.seed, 12))
        self._ctr = np.zeros(1, np.int64)
        self._lfsr = np.array([_lfsr_seed(self.seed)], np.int64)
        self._pres = 0
        self.n_presentations = 0
        self.n_reruns = 0
        self.samples_seen = 0
        self.seconds = 0.0
        self.xb = None
        self.write_back = None
        n_in, n_exc = self.n_in, self.n_exc

        rng = np.random.default_rng([self.seed, 4])
        w0 = rng.uniform(0.0, net.w_init_max, size=(n_in, n_exc))
        if self.norm_target > 0:
            normalize_columns(w0, self.norm_target, self.w_max)
        self.int_format = IntFormat(cfg.synapse.integer.w_bits, cfg.synapse.integer.x_bits)
        self._qmax = (1 << self.int_format.w_bits) - 1
        self.synergy = getattr(cfg, "synergy", None) or SynergyConfig()
        n_rules = len(cfg.rules)
        self.lam = self.synergy.initial(max(1, n_rules))
        self.syn_state = SynergyState(self.synergy, self.lam, self.seed)
        self.components = self.synergy.form == "components"
        if self.components and self.backend == "integer":
            raise ConfigError("synergy.form", "'components' is not available on the integer backend (use 'shared')")
        self.contrib = np.zeros(max(1, n_rules))
        self.w = np.zeros((1, 1))
        self.wq = np.zeros((1, 1), np.int64)
        self.dw = np.zeros((1, 1))
        self.wc = np.zeros((1, 1, 1))
        self.dwc = np.zeros((1, 1, 1))
        self.wv = np.zeros((1, 1))  # crossbar: per-cell read-noise variances (weight units^2)
        self.wvc = np.zeros((1, 1, 1))
        self._rctr = np.zeros(1, np.int64)
        self.tiles = []
        if self.backend == "ideal":
            self.w = np.ascontiguousarray(w0)
            if self.components:
                self.wc = np.ascontiguousarray(np.repeat(w0[None], n_rules, axis=0))
                self._effective()
        elif self.backend == "integer":
            self.wq = np.ascontiguousarray(np.rint(w0 / self.w_max * self._qmax).astype(np.int64))
        else:
            n_tiles = n_rules if self.components else 1
            for m in range(n_tiles):
                xb = crossbar if (crossbar is not None and m == 0) else _build_crossbar(cfg, n_in, n_exc, self.seed + 7919 * m)
                xb.program(w0 / self.w_max)
                self.tiles.append(xb)
            self.xb = self.tiles[0]
            _check_fast_path(self.xb)
            self.dw = np.zeros((n_in, n_exc))
            models = [t.read_model() for t in self.tiles]
            self.w = np.ascontiguousarray(models[0][0] * self.w_max)
            self.wv = np.ascontiguousarray(models[0][1] * self.w_max**2)
            if self.components:
                self.wc = np.ascontiguousarray(np.stack([w * self.w_max for w, _v in models]))
                self.wvc = np.ascontiguousarray(np.stack([v * self.w_max**2 for _w, v in models]))
                self.dwc = np.zeros_like(self.wc)
                self._effective()
            self.write_back = CrossbarWriteBack(self, cfg.synapse.write_back)
        self._gain = np.ones(0)
        if self.write_back is not None:
            self.write_back.update_gain()

        neuron = cfg.neuron
        if neuron.integer and self.backend != "integer":
            raise ConfigError("neuron.model", f"{neuron.model!r} is an integer neuron: set synapse.backend = 'integer'")
        if self.backend == "integer" and hasattr(neuron, "to_int"):
            neuron = neuron.to_int()  # integer membranes, conductances and thresholds (hwsnn.engine.neurons_int)
        self.neuron = neuron
        self.ec = neuron.consts(self.dt, hom)
        self.es = neuron.state(self.ec, n_exc, hom)
        pop = net.inhibition == "population"
        inh = getattr(neuron, "inhibitory", None)
        if pop and inh is None:
            raise ConfigError("network.inhibition", f"neuron model {neuron.model!r} has no inhibitory population; "
                                                    "use 'direct'")
        self.population = pop
        inh = inh if inh is not None else neuron
        self.ic = inh.consts(self.dt)
        self.ist = inh.state(self.ic, n_exc if pop else 0)
        self.counts = np.zeros(n_exc, np.int64)
        self._touched = np.zeros(n_exc, np.int64)
        self._extra = np.zeros((max(1, len(self.tiles)), n_exc), bool)  # columns a per-sample rule changed
        code = getattr(neuron, "conductance_code", float)  # integer twins: conductances as register codes
        self.net = NetConst(eff=float(net.efficacy), effq=neuron.input_scale(float(net.efficacy), self.w_max / self._qmax),
                            w_max=self.w_max, q_max=self._qmax, w_inh=code(float(net.w_inh_total) / n_exc),
                            w_ei=getattr(inh, "conductance_code", float)(float(net.w_ei)), w_ie=code(float(net.w_ie)),
                            fast_forward=bool(sch.fast_forward))
        self.rd = self._read_path()
        self._compile_rules(record)

    # ---------------------------------------------------------------------------------------
    def _compile_rules(self, record: bool) -> None:
        integer = self.backend == "integer"
        w_max = float(self._qmax) if integer else self.w_max
        ctx = CompileContext(dt=self.dt, w_max=w_max, n_in=self.n_in, n_out=self.n_exc, backend=self.backend)
        pre_keys: list = []
        post_keys: list = []
        rules: list[_Rule] = []
        for k, r in enumerate(self.cfg.rules):
            rr = r.to_int(self.int_format, self.dt, self.w_max) if integer and not r.integer else r
            if rr.integer != integer:
                raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} is an integer rule; use it with synapse.backend = 'integer'")
            pre_rows, post_rows = [], []
            if getattr(rr, "per_sample", False):
                if integer and not callable(getattr(rr, "sample_dq", None)):
                    raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} has no integer twin (a per-sample rule needs "
                                                          "sample_dq for synapse.backend = 'integer')")
                rules.append(_Rule(rr, RuleHooks(), _NoConst(), (), ()))
                continue
            for tr in rr.traces():
                keys, rows = (pre_keys, pre_rows) if tr.side == "pre" else (post_keys, post_rows)
                if tr.tau not in keys:
                    keys.append(tr.tau)
                rows.append(keys.index(tr.tau))
            rules.append(_Rule(rr, rr.hooks(), rr.consts(ctx), tuple(pre_rows), tuple(post_rows)))
        self._rules = rules
        self.pre_tab = self._tables(pre_keys, integer)
        self.post_tab = self._tables(post_keys, integer)
        self.rc = tuple(r.consts for r in rules)
        self._sample_rules = [(k, r.rule, r.rule.init_state(self.n_exc)) for k, r in enumerate(rules)
                              if getattr(r.rule, "per_sample", False)]
        self._host_steps = [(r.rule, r.consts) for r in rules
                            if type(r.rule).after_presentation is not Rule.after_presentation]
        rec_cls = _Record if record else _NoRecord
        structs = (("ec", type(self.ec)), ("es", type(self.es)), ("ic", type(self.ic)), ("ist", type(self.ist)),
                   ("net", NetConst), ("rd", ReadConst), ("rec", rec_cls)) + tuple(
                       (f"rc{k}", type(r.consts)) for k, r in enumerate(rules))
        spec = LayerSpec(backend=self.backend, neuron=self.neuron.hooks(),
                         rules=tuple((r.hooks, len(r.pre_rows), len(r.post_rows), r.pre_rows, r.post_rows) for r in rules),
                         population=self.population, structs=structs, record=record,
                         components=tuple(range(len(rules))) if self.components else (),
                         track=self.synergy.form != "none" and self.synergy.adapt != "fixed")
        self._kernel = layer_kernel(spec)
        self._record = record
        self.record = None

    def _tables(self, keys: list, integer: bool) -> np.ndarray:
        # the kernel reads column t - t_last (>= 1: traces are read before this step's increments)
        # for t up to the presentation's length
        return trace_tables(keys, self.dt, integer, self.int_format.x_bits, min_len=self.n_total + 1)

    def _read_path(self) -> ReadConst:
        """The crossbar's read path for the kernel, in the layer's weight units."""
        if self.backend != "crossbar":
            return ReadConst(False, 0.0, False, 0.0, 1.0, 1.0, False)
        xb = self.xb
        p = xb.params
        s = self.w_max
        adc_on, lo, step, nmax, sat = xb.adc
        return ReadConst(bool(p.read_noise > 0 or p.read_noise_add > 0), float(xb.config.io.out_noise) * s,
                         bool(adc_on), lo * s, step * s, nmax, bool(sat))

    # ---------------------------------------------------------------------------------------
    # state views (the arrays the kernel updates in place)
    theta = property(lambda self: self._mv("theta", self.es.theta), doc="Adaptive thresholds (mV).")
    v = property(lambda self: self._mv("v", self.es.v), doc="Membranes (mV).")

    def _mv(self, field: str, x: np.ndarray) -> np.ndarray:
        conv = getattr(self.neuron, "millivolts", None)  # integer twins hold register codes
        return x if conv is None else conv(field, x)
    ge = property(lambda self: self.es.ge, doc="Excitatory conductances.")
    gi = property(lambda self: self.es.gi, doc="Inhibitory conductances.")
    ref = property(lambda self: self.es.ref, doc="Refractory steps left.")
    vi = property(lambda self: self.ist.v, doc="Inhibitory population membranes (mV).")
    gei = property(lambda self: self.ist.ge, doc="Inhibitory population conductances.")
    refi = property(lambda self: self.ist.ref, doc="Inhibitory population refractory steps left.")

    def weights(self) -> np.ndarray:
        """Current effective weights, shape ``(n_in, n_exc)``, in ``[0, w_max]``."""
        if self.backend == "integer":
            return self.wq * (self.w_max / self._qmax)
        return self.w.copy()

    def state_snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the neuron state (for agreement checks)."""
        es, ist = self.es, self.ist
        return {"v": es.v.copy(), "theta": es.theta.copy(), "ge": es.ge.copy(), "gi": es.gi.copy(),
                "refractory": es.ref.copy(), "v_inh": ist.v.copy(), "ge_inh": ist.ge.copy(),
                "refractory_inh": ist.ref.copy()}

    def _before(self, learn: bool) -> None:
        if not learn or self.norm_target <= 0:
            return
        if self.backend == "ideal":
            if self.components:
                for m in range(self.wc.shape[0]):
                    normalize_columns(self.wc[m], self.norm_target, self.w_max)
                self._effective()
            else:
                normalize_columns(self.w, self.norm_target, self.w_max)
        elif self.backend == "integer":
            normalize_columns_int_sr(self.wq, int(round(self.norm_target * self._qmax / self.w_max)), self._qmax, self._lfsr)

    def _effective(self) -> None:
        """``W = sum_m lambda_m W_m`` (synergy with mechanism-specific components); on the crossbar
        the tiles' column currents are summed with gains ``lambda_m``, so the read-noise variances
        add as ``sum_m lambda_m^2 V_m``."""
        w = self.lam[0] * self.wc[0]
        for m in range(1, self.wc.shape[0]):
            w += self.lam[m] * self.wc[m]
        self.w[...] = w
        if self.backend == "crossbar":
            v = self.lam[0] ** 2 * self.wvc[0]
            for m in range(1, self.wvc.shape[0]):
                v += self.lam[m] ** 2 * self.wvc[m]
            self.wv[...] = v

    def _sample_rules_step(self) -> None:
        """Per-sample rules (synaptic scaling) after a learning sample, through the backend."""
        for k, rule, state in self._sample_rules:
            if self.backend == "integer":  # the codes, rounded with the layer's LFSR16 (no float detour)
                dq = rule.sample_dq(state, self.wq, self.counts, self._qmax, self._lfsr, gain=float(self.lam[k]))
                self.wq += dq
                self.contrib[k] += np.abs(dq).sum() * (self.w_max / self._qmax)
                continue
            if self.components:
                base = self.wc[k]
            else:
                base = self.weights()
            dw = rule.sample_dw(state, base, self.counts)
            if not self.components:
                dw *= self.lam[k]
            self.contrib[k] += np.abs(dw).sum()
            if self.backend == "ideal":
                tgt = self.wc[k] if self.components else self.w
                np.clip(tgt + dw, 0.0, self.w_max, out=tgt)
            else:
                (self.dwc[k] if self.components else self.dw)[...] += dw
                self._extra[k if self.components else 0] |= np.any(dw != 0.0, axis=0)
        if self.components and self.backend == "ideal" and self._sample_rules:
            self._effective()

    def _after(self, learn: bool) -> None:
        self.neuron.after_sample(self.es, learn, self.n_total * self.dt, self.cfg.homeostasis)
        if learn:
            for rule, consts in self._host_steps:  # fused rules' per-sample host step (e.g. DA-SSDP statistics)
                rule.after_presentation(consts, self.counts)
            self._sample_rules_step()
            if self.synergy.form != "none":
                self.syn_state.update(self.lam, self.counts, self.contrib)
                self.contrib[:] = 0.0
                if self.components and self.backend == "ideal":
                    self._effective()
        if self.write_back is not None:
            self.write_back.after(learn, self.n_total * self.dt)

    def _run(self, ptr, idx, learn: bool) -> int:
        self._before(learn)
        rec = _NoRecord(np.zeros(1))
        if self._record:
            rec = _Record(v=np.zeros((self.n_total, self.n_exc)), ge=np.zeros((self.n_total, self.n_exc)), spikes=np.zeros((self.n_total, self.n_exc), np.uint8),
                          w=np.zeros((self.n_total, self.n_in, self.n_exc), np.int64 if self.backend == "integer" else np.float64))
        rkey = 0
        r0 = 0
        if self.xb is not None:
            rkey, r0 = self.xb.read_key
            self._rctr[0] = r0
        flat = []
        for nt in (self.ec, self.es, self.ic, self.ist, self.net, self.rd, rec) + self.rc:
            flat.extend(nt)
        total = self._kernel(
            ptr, idx, self.n_on, self.n_total, bool(learn),
            self.w, self.wq, self.dw, self.wc, self.dwc, self.contrib, self.pre_tab, self.post_tab, np.uint64(self._key_sr), self._ctr, self._lfsr,
            self.counts, self._gain, self.wv, np.uint64(rkey), self._rctr, self._touched, self.lam, *flat,
        )
        if self.xb is not None:
            for xb in self.tiles:  # the kernel's column reads are the crossbar's reads
                xb.count_reads(int(self._rctr[0]) - r0)
        if self._record:
            self.record = rec
        self._after(learn)
        self.n_presentations += 1
        return int(total)

    def present(self, x: np.ndarray, learn: bool = True) -> np.ndarray:
        """Present one sample (Poisson rates ``x * max_rate``) then rest; returns spike counts.

        If the layer fires fewer than ``rerun_min_spikes`` spikes the sample is presented again
        with ``rerun_rate_step`` more (Diehl & Cook), at most ``rerun_max`` times; the counts of
        the last presentation are returned.
        """
        sch = self.cfg.schedule
        x = np.asarray(x, np.float64)
        if x.shape != (self.n_in,):
            raise ConfigError("x", f"must have shape ({self.n_in},), got {x.shape}")
        t0 = time.perf_counter()
        attempt = 0
        while True:
            rates = np.clip(x, 0.0, 1.0) * (sch.max_rate + attempt * sch.rerun_rate_step)
            ptr, idx = poisson_events(rates, self.dt * 1e3, self.n_on, np.uint64(self._key_in),
                                      np.int64(self._pres) << np.int64(24))
            self._pres += 1
            self._run(ptr, idx, learn)
            if self.counts.sum() >= sch.rerun_min_spikes or attempt >= sch.rerun_max:
                break
            attempt += 1
            self.n_reruns += 1
        if learn:
            self.samples_seen += 1
        self.seconds += time.perf_counter() - t0
        return self.counts.copy()

    def present_raster(self, raster: np.ndarray, learn: bool = True) -> np.ndarray:
        """Present an explicit input raster (bool ``(T, n_in)``, ``T <= n_on``) then rest; no
        re-presentation.  Returns the spike counts of the presentation."""
        raster = np.asarray(raster)
        if raster.ndim != 2 or raster.shape[1] != self.n_in or raster.shape[0] > self.n_on:
            raise ConfigError("raster", f"must have shape (T <= {self.n_on}, {self.n_in}), got {raster.shape}")
        ptr, idx = raster_to_events(raster, self.n_on)
        self._run(ptr, idx, learn)
        if learn:
            self.samples_seen += 1
        return self.counts.copy()


class _Record(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    spikes: np.ndarray
    w: np.ndarray


def _lfsr_seed(seed: int) -> int:
    from hwsnn.spec.lfsr import LFSR_SEED_DEFAULT

    s = (int(seed) * 40503 + LFSR_SEED_DEFAULT) & 0xFFFF
    return s or LFSR_SEED_DEFAULT


# ---------------------------------------------------------------------------------------------
def _build_crossbar(cfg, n_in: int, n_exc: int, seed: int):
    from hwsnn.crossbar import Crossbar

    syn = cfg.synapse
    # column storage: the write-back reads and writes the weight columns of the neurons that fired
    return Crossbar(syn.device.resolve(), n_in, n_exc, config=syn.crossbar, seed=seed, layout="columns")


def _check_fast_path(xb) -> None:
    """Reject crossbar and periphery options the fused read path does not model (naming the field).

    The fused path is the crossbar's own column read on cached per-cell weights and variances
    (:meth:`hwsnn.crossbar.Crossbar.read_model`); what that model cannot express is refused."""
    io = xb.config.io
    p = xb.params
    if io.ir_drop:
        raise ConfigError("synapse.crossbar.io.ir_drop", "IR drop is not modelled in the network's fused read path; "
                                                         "set it to false (Crossbar.read models it)")
    if io.dac_bits != 1:
        raise ConfigError("synapse.crossbar.io.dac_bits", "spiking inputs are binary: must be 1")
    if xb.config.mapping.scheme != "differential":
        raise ConfigError("synapse.crossbar.mapping.scheme", "the network's fused read path needs 'differential'")
    if getattr(p, "read_noise_model", "normal") != "normal" and float(p.read_noise) > 0:
        raise ConfigError("synapse.device.params.read_noise_model",
                          f"{p.read_noise_model!r} read noise is time-dependent and not modelled in the fused "
                          "read path; use 'normal' or read_noise = 0")
    try:
        xb.read_model(cols=[0])
    except ConfigError as e:
        raise ConfigError(f"synapse.crossbar.{e.field}", e.message) from None


class CrossbarWriteBack:
    """The crossbar's write-back policy: accumulated rule changes become SET/RESET pulses.

    After every ``every``-th learning presentation the columns of neurons that fired (all columns
    every ``renorm_every`` presentations) are written: desired = clip(long-term weights + changes),
    normalised ("down": only a column above the target is scaled down; "both": as the ideal
    model), programmed with ``Crossbar.update``.  Then the crossbar clock advances by the
    presentation time (drift, volatile relaxation), the written columns are re-read (all columns
    every ``refresh`` presentations), and a digital per-column input gain ``target / column sum``
    compensates drift of a column's total conductance (``column_gain``).
    """

    def __init__(self, net: LayerNetwork, policy):
        self.net = net
        self.p = policy
        self.count = 0
        self.learn_count = 0

    def update_gain(self, cols=None) -> None:
        net = self.net
        if not self.p.column_gain or net.norm_target <= 0:
            return
        if cols is None or net._gain.shape[0] != net.n_exc:
            s = net.w.sum(axis=0)
            net._gain = np.where(s > 0, net.norm_target / np.maximum(s, 1e-300), 1.0)
        else:
            s = net.w[:, cols].sum(axis=0)
            net._gain[cols] = np.where(s > 0, net.norm_target / np.maximum(s, 1e-300), 1.0)

    def after(self, learn: bool, t_s: float) -> None:
        net, p = self.net, self.p
        w_max, target = net.w_max, net.norm_target
        comp = net.components
        views = self._views()
        cols = np.empty(0, np.int64)
        written = [cols for _ in views]
        if learn:
            self.learn_count += 1
        if learn and self.learn_count % p.every == 0:
            if p.renorm_every and self.learn_count % p.renorm_every == 0 and target > 0:
                cols = np.arange(net.n_exc, dtype=np.int64)
            else:
                cols = None
            touched = net._touched.astype(bool)
            net._touched[:] = 0
            written = []
            for m, (xb, w, acc, _v) in enumerate(views):
                tc = cols if cols is not None else np.flatnonzero(touched | net._extra[m]).astype(np.int64)
                net._extra[m] = False
                if tc.size:
                    self._write(xb, w, acc, tc)
                written.append(tc)
            cols = np.unique(np.concatenate(written)) if written else cols
        refresh = False
        for xb, _w, _acc, _v in views:
            xb.advance(t_s)
        self.count += 1
        if self.count % p.refresh == 0:
            self._reread(views)
            refresh = True
        elif cols.size:
            for (xb, w, _acc, v), tc in zip(views, written):
                if tc.size:
                    wt, vt = xb.read_model(tc)
                    w[:, tc] = wt * w_max
                    v[:, tc] = vt * w_max**2
        if comp:
            net._effective()
        if refresh:
            self.update_gain()
        elif cols.size:
            self.update_gain(cols)

    def _views(self):
        net = self.net
        if net.components:
            return [(net.tiles[m], net.wc[m], net.dwc[m], net.wvc[m]) for m in range(len(net.tiles))]
        return [(net.xb, net.w, net.dw, net.wv)]

    def _reread(self, views) -> None:
        s = self.net.w_max
        for xb, w, _acc, v in views:
            wt, vt = xb.read_model()
            w[:] = wt * s
            v[:] = vt * s**2

    def idle(self, seconds: float) -> None:
        """Let ``seconds`` pass without input (e.g. between training and test): every tile's clock
        advances (drift, volatile relaxation), every weight is re-read and the column gain
        re-measured, as at a periodic refresh."""
        views = self._views()
        for xb, _w, _acc, _v in views:
            xb.advance(seconds)
        self._reread(views)
        if self.net.components:
            self.net._effective()
        self.update_gain()

    def _write(self, xb, w, acc, cols) -> None:
        """Write the accumulated changes ``acc`` of columns ``cols`` into tile ``xb`` as pulses."""
        net, p = self.net, self.p
        w_max, target = net.w_max, net.norm_target
        every = cols.size == net.n_exc  # whole-array read, no index lists
        if p.long_term:
            wc = np.asarray(xb.weights(None if every else cols, long_term=True), np.float64) * w_max
        else:
            wc = w[:, cols]
        desired = np.clip(wc + acc[:, cols], 0.0, w_max)
        if target > 0:
            if p.norm == "down":
                sums = desired.sum(axis=0)
                desired *= np.where(sums > target, target / np.maximum(sums, 1e-300), 1.0)
                np.minimum(desired, w_max, out=desired)
            else:
                normalize_columns(desired, target, w_max)
        if every:
            xb.update((desired - wc) / w_max)
        else:
            xb.update((desired - wc) / w_max, cols=cols)
        acc[:, cols] = 0.0
