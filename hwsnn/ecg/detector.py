"""ECG anomaly detection with a randomly connected spiking network whose neurons have stepwise
firing thresholds and synchronised learning thresholds (docs/methods/ecg.md).

Pipeline (:func:`run_detector`, one seed and one plasticity condition):

1. **Data** -- a synthetic record (:func:`hwsnn.tasks.ecg.synthesize`, anomalies only after the
   normal part) or a WFDB record; split in time into *train* (``split.train_s``), *calibration*
   (``split.calib_s``) and *test* (the rest).
2. **Encoding** -- :class:`hwsnn.tasks.ecg.DeltaEncoder`: UP/DOWN spike lines, one network step per
   sample (``dt = 1 / fs``).
3. **Network** (:func:`build_network`) -- input lines -> ``n_exc`` excitatory ``lif_stepwise``
   neurons (random sparse, plastic), excitatory -> excitatory (random sparse recurrent, no
   self-connections, plastic), excitatory -> ``n_inh`` inhibitory neurons -> excitatory (random
   sparse, fixed).  Every synapse has a one-step delay.
4. **Training** -- the train part is presented once with learning on: intrinsic plasticity (IP)
   is the neurons' stepwise threshold (a level up after a window of ``WINDOW`` steps with more
   than ``RATE_HI`` spikes, down with fewer than ``RATE_LO``); synaptic plasticity (SP) is
   :class:`hwsnn.engine.rules.StepwiseGated`: on a presynaptic spike the weight moves one code up
   when the target's potential is within ``LEARN_UP`` of its current threshold and one code down
   when it is more than ``LEARN_DN`` below it (learning thresholds that move with the firing
   threshold).  Without IP the neurons have one level (``LEVELS = 1``) at the threshold
   ``THETA_BASE + LEVEL_INIT * THETA_STEP``; without SP the projections have no rule.
5. **Readout** -- learning off.  Each beat window gives a feature vector: the excitatory
   neurons' spike counts in ``readout.n_bins`` bins of ``readout.bin_s`` seconds from the window
   start.  The calibration beats (normal rhythm) give each feature's mean ``mu`` and standard
   deviation ``sd``; a test beat's anomaly score is ``mean(((f - mu) / max(sd, sigma_floor))**2)``.
6. **ROC** (:func:`roc_curve`) -- true and false positive rates of ``score >= threshold`` over
   every threshold, the area under the curve and the best true positive rate at zero false
   positives.

Forms (``network.form``): ``"float"`` (``lif_stepwise_float`` neurons, ideal float weights),
``"integer"`` (``lif_stepwise`` neurons with the golden model's arithmetic, integer weight codes,
the rule's integer twin), ``"crossbar"`` (float neurons, weights stored on a memristor crossbar
and written as pulses).  ``network.W_BITS = 1`` with ``exc.LEVELS = 2`` gives binary weights and
binary thresholds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from hwsnn.config.errors import validate_into
from hwsnn.config.schema import Section
from hwsnn.config.types import Float, Int, Str
from hwsnn.errors import ConfigError
from hwsnn.spec.units import LifStepwiseParams
from hwsnn.tasks.ecg import KINDS, AnomalyParams, DeltaEncoder, EcgParams, EcgRecord, load_wfdb, synthesize

__all__ = ["CONDITIONS", "DataConfig", "SplitConfig", "NetworkConfig", "ReadoutConfig", "EcgConfig", "Roc",
           "roc_curve", "build_network", "random_structure", "beat_features", "load_record", "RunOutcome",
           "run_detector",
           "run_all", "summary_table", "table_markdown", "novelty_scores", "input_reference", "load_ecg_config",
           "preset_dir", "PROJECTIONS"]

CONDITIONS = ("none", "ip", "sp", "ip+sp")
"""Plasticity conditions: none, intrinsic plasticity only, synaptic plasticity only, both."""


class DataConfig(Section):
    """Where the ECG comes from."""

    source: Literal["synthetic", "wfdb"] = "synthetic"
    """``"synthetic"`` (generator, :attr:`synthetic`) or ``"wfdb"`` (the record :attr:`record`)."""
    synthetic: EcgParams = EcgParams(duration=240.0, anomalies=AnomalyParams(
        start=120.0, ectopic=5, rate_jump=2, st_change=2, noise_burst=2))
    """Generator parameters (``source = "synthetic"``); put ``anomalies.start`` at or after the end
    of the calibration part so that training and calibration see normal rhythm only."""
    record: Str = ""
    """WFDB record path without extension (``source = "wfdb"``)."""
    channel: Int | Str = 0
    """WFDB signal index or name."""
    annotator: Str = "atr"
    """WFDB annotation file extension (beat annotations are required)."""

    @model_validator(mode="after")
    def _check(self):
        if self.source == "wfdb" and not self.record:
            raise ConfigError("record", "is required when source = 'wfdb'")
        return self


class SplitConfig(Section):
    """How the record is split in time (the test part is the rest)."""

    train_s: Annotated[Float, Field(gt=0)] = 60.0
    """Training part, learning on (s)."""
    calib_s: Annotated[Float, Field(gt=0)] = 60.0
    """Calibration part, learning off: the normal feature statistics (s)."""


class NetworkConfig(Section):
    """The spiking network and its plasticity."""

    form: Literal["float", "integer", "crossbar"] = "integer"
    """``"float"``, ``"integer"`` (golden arithmetic) or ``"crossbar"`` (memristor weights)."""
    n_exc: Annotated[Int, Field(ge=1, le=5000)] = 100
    """Excitatory neurons."""
    n_inh: Annotated[Int, Field(ge=0, le=5000)] = 25
    """Inhibitory neurons (0: none)."""
    p_in: Annotated[Float, Field(ge=0, le=1)] = 0.3
    """Connection probability input line -> excitatory neuron."""
    p_ee: Annotated[Float, Field(ge=0, le=1)] = 0.1
    """Connection probability excitatory -> excitatory (no self-connections)."""
    p_ei: Annotated[Float, Field(ge=0, le=1)] = 0.2
    """Connection probability excitatory -> inhibitory."""
    p_ie: Annotated[Float, Field(ge=0, le=1)] = 0.2
    """Connection probability inhibitory -> excitatory."""
    w_init: Annotated[Float, Field(ge=0, le=1)] = 0.5
    """Initial weights of existing synapses: uniform codes in ``[0, w_init * W_MAX]`` (binary weights:
    1 with probability ``w_init``)."""
    W_BITS: Annotated[Int, Field(ge=1, le=16)] = 8
    """Weight code width (1 = binary weights); ``W_MAX = 2**W_BITS - 1``."""
    drive_in: Annotated[Int, Field(ge=0)] = 1020
    """Membrane input of one spike through a full-scale (``W_MAX``) input synapse; must be a multiple of
    ``W_MAX`` (integer input per code)."""
    drive_ee: Annotated[Int, Field(ge=0)] = 510
    """Likewise for excitatory -> excitatory synapses."""
    drive_ei: Annotated[Int, Field(ge=0)] = 255
    """Likewise for excitatory -> inhibitory synapses."""
    drive_ie: Annotated[Int, Field(ge=0)] = 255
    """Likewise for inhibitory -> excitatory synapses (subtracted)."""
    sp_input: bool = True
    """Synaptic plasticity on the input -> excitatory synapses (when the condition has SP)."""
    sp_recurrent: bool = True
    """Synaptic plasticity on the excitatory -> excitatory synapses (when the condition has SP)."""
    exc: LifStepwiseParams = LifStepwiseParams(LEAK_SHIFT=3, REFRACTORY=2, THETA_BASE=256, THETA_STEP=64, LEVELS=4,
                                               LEVEL_INIT=1, WINDOW=250, RATE_HI=8, RATE_LO=3, LEARN_UP=96,
                                               LEARN_DN=400)
    """Excitatory neurons (``lif_stepwise`` parameters; ``WINDOW`` in steps of ``1 / fs``)."""
    inh: LifStepwiseParams = LifStepwiseParams(LEAK_SHIFT=3, REFRACTORY=2, THETA_BASE=256, THETA_STEP=0, LEVELS=1,
                                               WINDOW=1, RATE_HI=0, RATE_LO=0)
    """Inhibitory neurons (``LEVELS = 1``: no intrinsic plasticity)."""
    device: Str = "sto"
    """Crossbar form: device preset (``hwsnn device list``)."""

    @model_validator(mode="after")
    def _check(self):
        w_max = (1 << self.W_BITS) - 1
        for name in ("drive_in", "drive_ee", "drive_ei", "drive_ie"):
            if getattr(self, name) % w_max:
                raise ConfigError(name, f"must be a multiple of W_MAX = {w_max} (W_BITS = {self.W_BITS}), "
                                        f"got {getattr(self, name)}")
        return self

    @property
    def w_max_code(self) -> int:
        return (1 << self.W_BITS) - 1


class ReadoutConfig(Section):
    """Beat features and the novelty score."""

    n_bins: Annotated[Int, Field(ge=1, le=100)] = 8
    """Time bins per beat window."""
    bin_s: Annotated[Float, Field(gt=0, le=2)] = 0.1
    """Bin length (s); the bins cover ``n_bins * bin_s`` from the window start (later activity of a
    short window is the next beat's)."""
    sigma_floor: Annotated[Float, Field(gt=0)] = 0.5
    """Lower bound of a feature's standard deviation in the score (spikes)."""
    input_reference: bool = True
    """Also score the encoder's spike lines directly (no network; form ``input-only``) per seed."""


class EcgConfig(Section):
    """An ECG anomaly-detection experiment: data, split, encoder, network, readout, conditions, seeds."""

    data: DataConfig = DataConfig()
    """ECG source."""
    split: SplitConfig = SplitConfig()
    """Train / calibration / test split."""
    encoder: DeltaEncoder = DeltaEncoder(threshold_mv=0.075, channels=5)
    """Spike encoder."""
    network: NetworkConfig = NetworkConfig()
    """Network, form and plasticity parameters."""
    readout: ReadoutConfig = ReadoutConfig()
    """Features and score."""
    conditions: Annotated[list[Literal["none", "ip", "sp", "ip+sp"]], Field(min_length=1)] = list(CONDITIONS)
    """Plasticity conditions to run."""
    seeds: Annotated[list[Annotated[Int, Field(ge=0)]], Field(min_length=1, max_length=100)] = [0, 1, 2]
    """Seeds (each seeds the record and the network)."""

    @model_validator(mode="after")
    def _check(self):
        if self.data.source == "synthetic":
            d = self.data.synthetic
            end = self.split.train_s + self.split.calib_s
            if end >= d.duration:
                raise ConfigError("split", f"train_s + calib_s ({end} s) leaves no test part of the "
                                           f"{d.duration} s record (data.synthetic.duration)")
            if d.anomalies.n_events and d.anomalies.start < end:
                raise ConfigError("data.synthetic.anomalies.start", f"must be >= train_s + calib_s ({end} s) so that "
                                                                    f"training and calibration are normal rhythm")
        return self


def load_ecg_config(data: dict | None = None) -> EcgConfig:
    """Validate a plain mapping (a parsed TOML file) into an :class:`EcgConfig`.

    A partial ``network.exc`` / ``network.inh`` table changes only the fields it names (the
    others keep this config's defaults, not the unit's).
    """
    data = dict(data or {})
    net = data.get("network")
    if isinstance(net, dict):
        net = dict(net)
        for key in ("exc", "inh"):
            if isinstance(net.get(key), dict):
                net[key] = {**getattr(NetworkConfig.model_fields[key].default, "as_dict")(), **net[key]}
        data["network"] = net
    return validate_into(EcgConfig, data)


# ---------------------------------------------------------------------------------------------- ROC
@dataclass(frozen=True)
class Roc:
    """A ROC curve: ``tpr[i]``, ``fpr[i]`` of ``score >= thresholds[i]`` (thresholds decreasing; the
    first is ``+inf``: nothing positive)."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float
    """Area under the curve (trapezoids)."""
    n_pos: int
    n_neg: int

    def tpr_at(self, max_fpr: float) -> float:
        """Best true positive rate with a false positive rate of at most ``max_fpr``."""
        ok = self.fpr <= max_fpr + 1e-12
        return float(self.tpr[ok].max())

    def points(self, fprs=(0.0, 0.01, 0.05, 0.1)) -> list[dict]:
        """``{"fpr_max", "tpr"}`` at a few false positive rates."""
        return [{"fpr_max": float(f), "tpr": self.tpr_at(f)} for f in fprs]


def roc_curve(labels, scores) -> Roc:
    """ROC of ``scores`` for binary ``labels`` (1 = anomaly) at every distinct threshold.

    Raises :class:`ConfigError` when a class is missing or a score is not finite.
    """
    y = np.asarray(labels).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ConfigError("scores", f"must have one score per label ({y.shape[0]} labels, {s.shape[0]} scores)")
    if not np.all(np.isfinite(s)):
        raise ConfigError("scores", "must be finite")
    if not np.all((y == 0) | (y == 1)):
        raise ConfigError("labels", "must be 0 (normal) or 1 (anomaly)")
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ConfigError("labels", f"need both classes ({n_pos} anomalous, {n_neg} normal windows)")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.shape[0] - 1]  # last index of each distinct score
    tpr = np.r_[0.0, tp[last] / n_pos]
    fpr = np.r_[0.0, fp[last] / n_neg]
    thr = np.r_[np.inf, s_sorted[last]]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return Roc(fpr, tpr, thr, auc, n_pos, n_neg)


# ---------------------------------------------------------------------------------------------- network
def _condition(cond: str) -> tuple[bool, bool]:
    if cond not in CONDITIONS:
        raise ConfigError("conditions", f"unknown condition {cond!r} (known: {list(CONDITIONS)})")
    return "ip" in cond, "sp" in cond


def _fixed_level(p: LifStepwiseParams) -> LifStepwiseParams:
    """The neuron without intrinsic plasticity: one level at the initial threshold."""
    return p.replace(THETA_BASE=p.THETA_BASE + p.LEVEL_INIT * p.THETA_STEP, LEVELS=1, LEVEL_INIT=0)


@dataclass
class Built:
    """A built network and the random structure it was built from."""

    net: Any
    masks: dict
    """``name -> bool (n_src, n_dst)`` of each projection."""
    codes: dict
    """``name -> int64 initial codes``."""
    exc: LifStepwiseParams
    inh: LifStepwiseParams
    gains: dict
    """``name -> integer input per code``."""


PROJECTIONS = (("in", "exc", "in"), ("ee", "exc", "exc"), ("ei", "exc", "inh"), ("ie", "inh", "exc"))
"""``(name, source, target)`` of the projections (``in`` = the input lines)."""


def random_structure(cfg: NetworkConfig, n_in: int, seed: int) -> tuple[dict, dict]:
    """Masks and initial weight codes of the four projections (deterministic per ``seed``)."""
    rng = np.random.default_rng([int(seed), 0x5EC])
    wm = cfg.w_max_code
    sizes = {"in": n_in, "exc": cfg.n_exc, "inh": cfg.n_inh}
    probs = {"in": cfg.p_in, "ee": cfg.p_ee, "ei": cfg.p_ei, "ie": cfg.p_ie}
    srcs = {"in": "in", "ee": "exc", "ei": "exc", "ie": "inh"}
    dsts = {"in": "exc", "ee": "exc", "ei": "inh", "ie": "exc"}
    masks, codes = {}, {}
    for name in ("in", "ee", "ei", "ie"):
        shape = (sizes[srcs[name]], sizes[dsts[name]])
        m = rng.random(shape) < probs[name]
        if name == "ee":
            np.fill_diagonal(m, False)
        if wm == 1:
            q = (rng.random(shape) < cfg.w_init).astype(np.int64)
        else:
            q = rng.integers(0, int(round(cfg.w_init * wm)) + 1, shape).astype(np.int64)
        if name in ("ei", "ie"):  # fixed synapses: full scale where they exist
            q = np.full(shape, wm, np.int64)
        masks[name], codes[name] = m, np.where(m, q, 0)
    return masks, codes


def build_network(cfg: NetworkConfig, n_in: int, condition: str, seed: int, dt: float) -> Built:
    """The network of ``cfg`` in its form, for one plasticity ``condition``."""
    from hwsnn.engine.neurons import LifStepwiseNeuron
    from hwsnn.engine.neurons_extra import LifStepwiseFloatNeuron
    from hwsnn.engine.rules import StepwiseGated
    from hwsnn.snn import Network, SynapseConfig

    ip, sp = _condition(condition)
    exc = cfg.exc if ip else _fixed_level(cfg.exc)
    inh = _fixed_level(cfg.inh)
    wm = cfg.w_max_code
    if cfg.form == "integer":
        syn = SynapseConfig.checked(backend="int", W_BITS=cfg.W_BITS)
        mk = lambda p: LifStepwiseNeuron(unit=p)  # noqa: E731
    else:
        kw = {"backend": "ideal"} if cfg.form == "float" else {"backend": "crossbar", "device": cfg.device}
        syn = SynapseConfig.checked(**kw)
        mk = lambda p: LifStepwiseFloatNeuron(**p.as_dict())  # noqa: E731
    net = Network(dt=dt, synapse=syn, seed=int(seed))
    net.add_input("in", n_in)
    net.add_population("exc", mk(exc), cfg.n_exc)
    if cfg.n_inh:
        net.add_population("inh", mk(inh), cfg.n_inh)
    masks, codes = random_structure(cfg, n_in, seed)
    drives = {"in": cfg.drive_in, "ee": cfg.drive_ee, "ei": cfg.drive_ei, "ie": cfg.drive_ie}
    gains = {k: v // wm for k, v in drives.items()}
    plastic = {"in": sp and cfg.sp_input, "ee": sp and cfg.sp_recurrent, "ei": False, "ie": False}
    for name, src, dst in (("in", "in", "exc"), ("ee", "exc", "exc"), ("ei", "exc", "inh"), ("ie", "inh", "exc")):
        if not cfg.n_inh and "inh" in (src, dst):
            continue
        rule = StepwiseGated(w_step=1.0 / wm) if plastic[name] else None
        gain = gains[name] if cfg.form == "integer" else float(drives[name])
        net.connect(src, dst, w=codes[name] / wm, mask=masks[name], rule=rule, gain=gain, w_max=1.0, name=name,
                    receptor="inh" if name == "ie" else "exc")
    return Built(net, masks, codes, exc, inh, gains)


# ---------------------------------------------------------------------------------------------- runs
def load_record(data: DataConfig, seed: int) -> EcgRecord:
    """The record of ``data`` (synthetic: generated with ``seed``)."""
    if data.source == "synthetic":
        return synthesize(data.synthetic, seed=seed)
    try:
        rec = load_wfdb(data.record, channel=data.channel, annotator=data.annotator)
    except ConfigError as exc:  # the loader names its argument; the config field is data.<argument>
        raise ConfigError(f"data.{exc.field}", exc.message) from None
    if rec.r_peaks is None:
        raise ConfigError("data.annotator", f"{data.record}.{data.annotator} not found: the detector needs beat "
                                            "annotations (R peaks and labels)")
    return rec


def beat_features(spikes: np.ndarray, windows: np.ndarray, n_bins: int, bin_len: int) -> np.ndarray:
    """``(n_beats, n_neurons * n_bins)`` spike counts per neuron in ``n_bins`` bins of ``bin_len``
    steps from each window start (bins past the end of the raster count nothing)."""
    T, n = spikes.shape
    csum = np.zeros((T + 1, n), np.int64)
    np.cumsum(spikes, axis=0, out=csum[1:])
    out = np.zeros((windows.shape[0], n_bins, n), np.int64)
    for b in range(n_bins):
        a = np.minimum(windows[:, 0] + b * bin_len, T)
        e = np.minimum(a + bin_len, T)
        out[:, b, :] = csum[e] - csum[a]
    return out.reshape(windows.shape[0], -1)


def novelty_scores(f_cal: np.ndarray, f_test: np.ndarray, sigma_floor: float) -> np.ndarray:
    """``mean(((f - mu) / max(sd, sigma_floor))**2)`` per test row, ``mu``/``sd`` per feature over
    the calibration rows."""
    f_cal = np.asarray(f_cal, dtype=np.float64)
    mu, sd = f_cal.mean(0), np.maximum(f_cal.std(0), sigma_floor)
    return np.mean(((np.asarray(f_test, dtype=np.float64) - mu) / sd) ** 2, axis=1)


def input_reference(cfg: "EcgConfig", seed: int, record: EcgRecord | None = None) -> "RunOutcome":
    """The same features and score computed from the encoder's spike lines instead of the network's
    excitatory neurons (no network): the reference a network has to beat."""
    t0 = time.perf_counter()
    rec = load_record(cfg.data, seed) if record is None else record
    sp_ = cfg.split
    cal = rec.slice(sp_.train_s, sp_.train_s + sp_.calib_s)
    test = rec.slice(sp_.train_s + sp_.calib_s, rec.duration)
    bin_len = max(1, int(round(cfg.readout.bin_s * rec.fs)))
    f = [beat_features(cfg.encoder.encode(p.signal).raster, p.windows(), cfg.readout.n_bins, bin_len)
         for p in (cal, test)]
    scores = novelty_scores(f[0], f[1], cfg.readout.sigma_floor)
    labels = (test.labels > 0).astype(np.int64)
    return RunOutcome("input-only", "-", int(seed), roc_curve(labels, scores), scores, labels, test.labels.copy(),
                      time.perf_counter() - t0)


@dataclass
class RunOutcome:
    """Result of one seed and condition."""

    form: str
    condition: str
    seed: int
    roc: Roc
    scores: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray
    seconds: float
    rates: dict = field(default_factory=dict)
    """Mean excitatory spike rate (Hz) per phase."""
    levels: list = field(default_factory=list)
    """Histogram of the excitatory threshold levels after training."""
    weight_change: dict = field(default_factory=dict)
    """Fraction of existing plastic synapses whose code changed in training, per projection."""

    def summary(self) -> dict:
        per_kind = {}
        thr0 = self.roc.thresholds[np.flatnonzero(self.roc.fpr <= 0)[-1]]
        for k in np.unique(self.kinds[self.labels == 1]):
            sel = self.kinds == k
            per_kind[KINDS[k]] = {"n": int(sel.sum()), "detected_at_fpr0": float(np.mean(self.scores[sel] >= thr0))}
        return {"form": self.form, "condition": self.condition, "seed": self.seed, "auc": self.roc.auc,
                "tpr_at_fpr0": self.roc.tpr_at(0.0), "points": self.roc.points(), "n_pos": self.roc.n_pos,
                "n_neg": self.roc.n_neg, "perfect": bool(self.roc.tpr_at(0.0) == 1.0), "seconds": self.seconds,
                "rates_hz": self.rates, "levels": self.levels, "weight_change": self.weight_change,
                "per_kind": per_kind}


def run_detector(cfg: EcgConfig, condition: str, seed: int, record: EcgRecord | None = None) -> RunOutcome:
    """Train, calibrate and test one network (module docstring); deterministic per ``seed``."""
    t0 = time.perf_counter()
    rec = load_record(cfg.data, seed) if record is None else record
    sp_ = cfg.split
    if sp_.train_s + sp_.calib_s >= rec.duration:
        raise ConfigError("split", f"train_s + calib_s ({sp_.train_s + sp_.calib_s} s) leaves no test part of the "
                                   f"{rec.duration:.4g} s record")
    parts = {"train": rec.slice(0, sp_.train_s), "calib": rec.slice(sp_.train_s, sp_.train_s + sp_.calib_s),
             "test": rec.slice(sp_.train_s + sp_.calib_s, rec.duration)}
    built = build_network(cfg.network, cfg.encoder.n_out, condition, seed, 1.0 / rec.fs)
    net = built.net
    q0 = {p.name: p.syn.weights() for p in net.projections}
    feats, rates = {}, {}
    bin_len = max(1, int(round(cfg.readout.bin_s * rec.fs)))
    for phase in ("train", "calib", "test"):
        part = parts[phase]
        raster = cfg.encoder.encode(part.signal).raster
        out = net.run(raster.shape[0], {"in": raster}, learning=phase == "train")
        spk = out.spikes["exc"]
        rates[phase] = float(spk.mean() * rec.fs)
        if phase != "train":
            if part.r_peaks is None or part.r_peaks.shape[0] < 2:
                raise ConfigError("split", f"the {phase} part has fewer than 2 beats")
            feats[phase] = (beat_features(spk, part.windows(), cfg.readout.n_bins, bin_len), part)
    f_test, test = feats["test"]
    scores = novelty_scores(feats["calib"][0], f_test, cfg.readout.sigma_floor)
    labels = (test.labels > 0).astype(np.int64)
    roc = roc_curve(labels, scores)
    levels = np.bincount(net.groups["exc"].s.level, minlength=built.exc.LEVELS).tolist()
    change = {}
    for p in net.projections:
        if p.rules:
            m = built.masks[p.name]
            change[p.name] = float(np.mean(np.abs(p.syn.weights() - q0[p.name])[m] > 1e-9)) if m.any() else 0.0
    return RunOutcome(cfg.network.form, condition, int(seed), roc, scores, labels, test.labels.copy(),
                      time.perf_counter() - t0, rates, levels, change)


def run_all(cfg: EcgConfig, progress=None) -> list[RunOutcome]:
    """Every condition x seed of ``cfg`` (records generated once per seed)."""
    out = []
    jobs = [(s, c) for s in cfg.seeds for c in cfg.conditions]
    records = {}
    for s, c in (progress(jobs) if progress else jobs):
        if s not in records:
            records = {s: load_record(cfg.data, s)}
            if cfg.readout.input_reference:
                out.append(input_reference(cfg, s, records[s]))
        out.append(run_detector(cfg, c, s, records[s]))
    return out


def summary_table(outcomes: list[RunOutcome]) -> list[dict]:
    """Mean and spread over seeds per (form, condition): AUC, TPR at FPR 0 / 0.05, perfect runs, time."""
    rows = []
    keys = []
    for o in outcomes:
        if (o.form, o.condition) not in keys:
            keys.append((o.form, o.condition))
    for form, cond in keys:
        grp = [o for o in outcomes if o.form == form and o.condition == cond]
        auc = np.array([o.roc.auc for o in grp])
        t0 = np.array([o.roc.tpr_at(0.0) for o in grp])
        t5 = np.array([o.roc.tpr_at(0.05) for o in grp])
        rows.append({"form": form, "condition": cond, "seeds": len(grp), "auc_mean": float(auc.mean()),
                     "auc_std": float(auc.std()), "tpr_fpr0_mean": float(t0.mean()), "tpr_fpr0_min": float(t0.min()),
                     "tpr_fpr05_mean": float(t5.mean()), "perfect": int(sum(o.roc.tpr_at(0.0) == 1.0 for o in grp)),
                     "seconds_mean": float(np.mean([o.seconds for o in grp]))})
    return rows


def table_markdown(rows: list[dict]) -> str:
    """The summary rows as a Markdown table."""
    head = ("| form | condition | seeds | AUC | TPR @ FPR=0 (mean / min) | TPR @ FPR<=0.05 | TPR=1 @ FPR=0 | s/run |\n"
            "|---|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['form']} | {r['condition']} | {r['seeds']} | {r['auc_mean']:.3f} ± {r['auc_std']:.3f} | "
             f"{r['tpr_fpr0_mean']:.2f} / {r['tpr_fpr0_min']:.2f} | {r['tpr_fpr05_mean']:.2f} | "
             f"{r['perfect']}/{r['seeds']} | {r['seconds_mean']:.1f} |" for r in rows]
    return head + "\n".join(lines) + "\n"


def preset_dir() -> Path:
    """Folder of the shipped ECG presets (``hwsnn/configs/ecg``)."""
    from importlib import resources

    return Path(str(resources.files("hwsnn").joinpath("configs", "ecg")))
