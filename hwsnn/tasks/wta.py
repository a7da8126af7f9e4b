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

See :mod:`hwsnn.engine.kernel` for the per-step order and the generated event-driven kernel.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.engine.layer import LayerNetwork, raster_to_events  # noqa: F401  (re-exported)
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

SYNAPSES = ("ideal", "integer", "crossbar")
"""Synapse backends accepted by :class:`WTANetwork`."""


@dataclass
class WTAConfig:
    """Parameters of the WTA network (units: ms, mV, Hz; conductances in units of the leak).

    Defaults are the tuned configuration for accuracy (the prototype's tuning,
    refined further); :meth:`diehl_cook` gives the literal Diehl & Cook 2015 parameters.
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
def engine_config(cfg: WTAConfig, backend: str = "ideal"):
    """The engine's config sections (SI units) for a :class:`WTAConfig` (ms, mV)."""
    from types import SimpleNamespace as ns

    from hwsnn.crossbar import CrossbarConfig
    from hwsnn.devices import get_preset
    from hwsnn.engine.neurons import DiehlCookNeuron, InhibitoryNeuron
    from hwsnn.engine.rules import TripletSTDP

    m = 1e-3
    neuron = DiehlCookNeuron(
        tau_m=cfg.tau_m * m, v_rest=cfg.v_rest * m, v_reset=cfg.v_reset * m, v_thresh=cfg.v_thresh * m,
        theta_offset=cfg.theta_offset * m, refractory=cfg.refrac_exc * m, e_exc=cfg.e_exc * m, e_inh=cfg.e_inh * m,
        tau_ge=cfg.tau_ge * m, tau_gi=cfg.tau_gi * m,
        inhibitory=InhibitoryNeuron(tau_m=cfg.tau_m_inh * m, v_rest=cfg.v_rest_inh * m, v_reset=cfg.v_reset_inh * m,
                                    v_thresh=cfg.v_thresh_inh * m, refractory=cfg.refrac_inh * m,
                                    tau_ge=cfg.tau_ge_inh * m, e_exc=cfg.e_exc * m))

    dev_opts = dict(cfg.device_options)
    if cfg.read_noise >= 0:  # legacy override of the device's read noise (additive part off)
        dev_opts.update(read_noise=cfg.read_noise, read_noise_add=0.0)

    def device():
        try:
            params = get_preset(cfg.device_preset)
        except ConfigError as exc:
            raise ConfigError("network.device_preset", exc.message) from None
        try:
            return dataclasses.replace(params, **dev_opts)
        except ConfigError as exc:
            raise ConfigError(f"network.device_options.{exc.field}", exc.message) from None
        except TypeError as exc:
            raise ConfigError("network.device_options", str(exc)) from None

    xopts = {k: (dict(v) if isinstance(v, dict) else v) for k, v in cfg.crossbar_options.items()}
    if cfg.adc_bits != 0:  # legacy override of the crossbar's ADC resolution (< 0: no ADC)
        xopts.setdefault("io", {})["adc_bits"] = cfg.adc_bits if cfg.adc_bits > 0 else None
    try:
        xcfg = CrossbarConfig.from_dict(xopts)
    except ConfigError as exc:
        raise ConfigError(f"network.crossbar_options.{exc.field}", exc.message) from None
    except TypeError as exc:
        raise ConfigError("network.crossbar_options", str(exc)) from None
    return ns(
        network=ns(n_exc=cfg.n_exc, inhibition=cfg.inhibition, w_inh_total=cfg.w_inh_total, w_ei=cfg.w_ei, w_ie=cfg.w_ie,
                   efficacy=cfg.efficacy, w_max=cfg.w_max, w_init_max=cfg.w_init_max),
        neuron=neuron,
        homeostasis=ns(theta_init=cfg.theta_init * m, theta_plus=cfg.theta_plus * m, tau_theta=cfg.tau_theta * m,
                       norm_per_input=cfg.norm_per_input),
        schedule=ns(dt=cfg.dt * m, t_present=cfg.t_present * m, t_rest=cfg.t_rest * m, max_rate=cfg.max_rate,
                    rerun_min_spikes=cfg.rerun_min_spikes, rerun_rate_step=cfg.rerun_rate_step,
                    rerun_max=cfg.rerun_max, fast_forward=cfg.fast_forward),
        rules=[TripletSTDP(nu_pre=cfg.nu_pre, nu_post=cfg.nu_post, nu_post_crossbar=cfg.crossbar_nu_post,
                           tau_pre=cfg.tau_pre * m, tau_post1=cfg.tau_post1 * m, tau_post2=cfg.tau_post2 * m)],
        synapse=ns(backend=backend, integer=ns(w_bits=cfg.q_bits, x_bits=cfg.trace_bits), device=ns(resolve=device),
                   crossbar=xcfg,
                   write_back=ns(every=cfg.write_every, renorm_every=cfg.renorm_every, norm=cfg.crossbar_norm,
                                 long_term=cfg.normalize_long_term, refresh=cfg.crossbar_refresh,
                                 column_gain=cfg.column_gain)),
    )


class WTANetwork(LayerNetwork):
    """The engine's WTA layer (:class:`hwsnn.engine.layer.LayerNetwork`) built from a :class:`WTAConfig`.

    Parameters
    ----------
    cfg : WTAConfig
    synapse : {"ideal", "integer", "crossbar"}
        ``"int8"`` is accepted as the old name of ``"integer"``.
    seed : int
    crossbar : optional
        A ready :class:`hwsnn.crossbar.Crossbar` (``n_in x n_exc``).
    """

    def __init__(self, cfg: WTAConfig, synapse: str = "ideal", seed: int = 0, *, crossbar=None, record: bool = False):
        if not isinstance(cfg, WTAConfig):
            raise ConfigError("cfg", f"must be a WTAConfig, not {type(cfg).__name__}")
        cfg.validate()
        check_choice(synapse, "synapse", SYNAPSES + ("int8",))
        backend = "integer" if synapse == "int8" else synapse
        self.wta = cfg
        self.synapse = synapse
        super().__init__(engine_config(cfg, backend), cfg.n_in, seed, crossbar=crossbar, record=record)


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
    out = np.empty((x.shape[0], net.n_exc), np.int64)
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
    legacy = isinstance(cfg, WTAConfig)
    if legacy and dataset.n_in != cfg.n_in:
        cfg = cfg.replace(n_in=dataset.n_in)
    x_tr, y_tr = dataset.x_train, dataset.y_train
    x_te, y_te = dataset.x_test, dataset.y_test
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    ds = _View(x_tr, y_tr, x_te, y_te)
    t_start = time.perf_counter()
    if legacy:
        net = WTANetwork(cfg, synapse=synapse, seed=seed)
    else:  # an engine config (sections network, neuron, homeostasis, schedule, rules, synapse)
        net = LayerNetwork(cfg, dataset.n_in, seed, backend={"int8": "integer"}.get(synapse, synapse))
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
    cur_r = np.zeros((window, net.n_exc), np.int64) if window else None
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
        "lambda_history": np.array(net.syn_state.history),
        "network": net,
    }


@dataclass
class _View:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
