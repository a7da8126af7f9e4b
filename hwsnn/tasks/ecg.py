"""ECG data for anomaly detection: a synthetic generator with labelled anomalies, a WFDB loader and
a delta (level-crossing) spike encoder.  Nothing downloads.

Synthetic ECG (:func:`synthesize`, parameters :class:`EcgParams`)
    Every beat ``k`` with R peak at ``R_k`` is a sum of five Gaussian waves (P, Q, R, S, T)::

        z(t) = sum_k sum_w a_w exp(-(t - R_k - c_w s_k)^2 / (2 (b_w s_k)^2))
               + A_bw sin(2 pi f_bw t + phi) + noise(t)

    (the closed-form beat of the McSharry et al. 2003 dynamical model: waves at fixed positions
    relative to the R peak).  ``s_k = sqrt(RR_{k-1} / RR_0)`` scales the P and T positions and
    widths with the preceding interval (Bazett's QT-rate law); Q, R, S keep theirs
    (``s_k = 1``).  Intervals ``RR_k = RR_0 (1 + hrv e_k)`` with ``RR_0 = 60 / heart_rate_bpm``
    and ``e_k`` standard normal truncated at +-3.

    Injected anomalies (:class:`AnomalyParams`), each placed on a random beat after
    ``anomalies.start`` seconds, events at least ``anomalies.gap_beats`` beats apart:

    * ``ectopic`` -- a premature ventricular beat: its preceding interval shortened to
      ``prematurity * RR``, the following one lengthened by the same amount (full compensatory
      pause), no P wave, Q/R/S widths times ``qrs_widening``, T amplitude times ``t_gain``
      (negative: inverted);
    * ``rate_jump`` -- ``rate_beats`` consecutive beats whose preceding intervals are divided by
      ``rate_factor``;
    * ``st_change`` -- ``st_beats`` consecutive beats with an extra Gaussian wave of amplitude
      ``+-st_shift_mv`` (sign random per event) centred ``st_center_s`` after the R peak, width
      ``st_width_s`` (ST elevation or depression);
    * ``noise_burst`` -- white Gaussian noise of standard deviation ``burst_mv`` during
      ``burst_s`` seconds starting 0.3 s before an R peak.

    Labels are per beat (:data:`KINDS`: 0 normal, else the anomaly kind).  A beat's window
    (:meth:`EcgRecord.windows`) runs from ``min(0.3 s, half the preceding interval)`` before its R
    peak to the start of the next beat's window; a beat is labelled ``noise_burst`` when its window
    overlaps a burst (and no other anomaly labels it).

WFDB records (:func:`load_wfdb`, :func:`write_wfdb`)
    A record written in the PhysioNet WFDB format (``.hea`` + signal file, optional annotation file
    such as ``.atr``) is read with the ``wfdb`` package; beat annotations give the R peaks and the
    labels (the normal symbols ``N L R e j`` -> 0; any other beat symbol -> an anomaly; an
    annotation ``aux_note`` naming one of :data:`KINDS` gives that kind, which is how
    :func:`write_wfdb` stores a synthetic record's labels).

Spike encoding (:class:`DeltaEncoder`)
    A delta modulator with ``channels`` UP and ``channels`` DOWN lines: with reference ``r``
    (starting at the first sample), each sample ``x`` gives ``n = min(channels, floor(|x - r| /
    threshold_mv))`` crossings in the direction of ``x - r``; ``r`` moves by ``n * threshold_mv``
    and lines ``1..n`` of that polarity spike (a thermometer code).  While the signal changes by
    at most ``channels * threshold_mv`` per sample, ``|x - r| < threshold_mv`` at every sample
    (the reconstruction ``r`` stays within one step); a sample needing more than ``channels``
    steps is slope overload, counted in :attr:`Encoded.overload`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from hwsnn.config.schema import Section
from hwsnn.config.types import Float, Int
from hwsnn.errors import ConfigError

__all__ = ["KINDS", "NORMAL_SYMBOLS", "Wave", "AnomalyParams", "EcgParams", "EcgRecord", "synthesize",
           "load_wfdb", "write_wfdb", "DeltaEncoder", "Encoded"]

KINDS = ("normal", "ectopic", "rate_jump", "st_change", "noise_burst", "abnormal")
"""Beat label names; a label is the index into this tuple (``abnormal``: an annotated non-normal
beat of a WFDB record of unknown kind)."""

NORMAL_SYMBOLS = ("N", "L", "R", "e", "j")
"""WFDB beat symbols read as normal beats (normal, bundle branch block, escape beats)."""

_BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")

_PRE_S = 0.3
"""Beat window start before the R peak (s), at most half the preceding interval."""


class Wave(Section):
    """One Gaussian wave of the beat template."""

    amp_mv: Float
    """Peak amplitude (mV); negative for a downward wave."""
    center_s: Float
    """Position of the peak relative to the R peak (s)."""
    width_s: Annotated[Float, Field(gt=0, le=0.5)]
    """Standard deviation of the Gaussian (s)."""


class AnomalyParams(Section):
    """Which anomalies are injected, how many and how strong."""

    start: Annotated[Float, Field(ge=0)] = 0.0
    """No anomaly before this time (s): the record's first part is normal rhythm only."""
    ectopic: Annotated[Int, Field(ge=0, le=10_000)] = 0
    """Number of premature ventricular (ectopic) beats."""
    rate_jump: Annotated[Int, Field(ge=0, le=10_000)] = 0
    """Number of rate-jump events."""
    st_change: Annotated[Int, Field(ge=0, le=10_000)] = 0
    """Number of ST-change events."""
    noise_burst: Annotated[Int, Field(ge=0, le=10_000)] = 0
    """Number of noise bursts."""
    gap_beats: Annotated[Int, Field(ge=1, le=1000)] = 4
    """Minimum number of normal beats between two events."""
    prematurity: Annotated[Float, Field(gt=0.2, lt=1)] = 0.6
    """Ectopic beat: its preceding interval as a fraction of the normal one."""
    qrs_widening: Annotated[Float, Field(ge=1, le=10)] = 2.5
    """Ectopic beat: factor on the Q, R and S widths."""
    t_gain: Annotated[Float, Field(ge=-5, le=5)] = -1.5
    """Ectopic beat: factor on the T amplitude (negative: inverted T)."""
    rate_factor: Annotated[Float, Field(gt=0.2, le=5)] = 1.6
    """Rate jump: heart-rate factor (intervals divided by it)."""
    rate_beats: Annotated[Int, Field(ge=1, le=1000)] = 6
    """Rate jump: number of beats."""
    st_shift_mv: Annotated[Float, Field(gt=0, le=5)] = 0.25
    """ST change: amplitude of the ST deviation (mV); the sign is random per event."""
    st_center_s: Annotated[Float, Field(gt=0, le=0.5)] = 0.16
    """ST change: centre of the ST deviation after the R peak (s)."""
    st_width_s: Annotated[Float, Field(gt=0, le=0.3)] = 0.06
    """ST change: standard deviation of the ST deviation (s)."""
    st_beats: Annotated[Int, Field(ge=1, le=1000)] = 6
    """ST change: number of beats."""
    burst_mv: Annotated[Float, Field(gt=0, le=10)] = 0.15
    """Noise burst: standard deviation of the added white noise (mV)."""
    burst_s: Annotated[Float, Field(gt=0, le=60)] = 2.0
    """Noise burst: duration (s)."""

    @property
    def n_events(self) -> int:
        return self.ectopic + self.rate_jump + self.st_change + self.noise_burst


_WAVES = {
    "p": Wave(amp_mv=0.15, center_s=-0.20, width_s=0.025),
    "q": Wave(amp_mv=-0.12, center_s=-0.03, width_s=0.010),
    "r": Wave(amp_mv=1.20, center_s=0.0, width_s=0.010),
    "s": Wave(amp_mv=-0.25, center_s=0.03, width_s=0.010),
    "t": Wave(amp_mv=0.30, center_s=0.30, width_s=0.040),
}


class EcgParams(Section):
    """Synthetic ECG: sampling, rhythm, beat template, baseline wander, noise and anomalies."""

    fs: Annotated[Float, Field(ge=50, le=10_000)] = 250.0
    """Sampling rate (Hz)."""
    duration: Annotated[Float, Field(gt=0, le=86_400)] = 60.0
    """Record length (s)."""
    heart_rate_bpm: Annotated[Float, Field(ge=20, le=200)] = 70.0
    """Mean heart rate of the normal rhythm (beats per minute)."""
    hrv: Annotated[Float, Field(ge=0, le=0.2)] = 0.03
    """Relative standard deviation of the normal RR intervals (heart-rate variability)."""
    first_beat_s: Annotated[Float, Field(ge=0.3, le=10)] = 0.5
    """Time of the first R peak (s)."""
    p: Wave = _WAVES["p"]
    """P wave."""
    q: Wave = _WAVES["q"]
    """Q wave."""
    r: Wave = _WAVES["r"]
    """R wave (its centre is the R peak: keep ``center_s = 0``)."""
    s: Wave = _WAVES["s"]
    """S wave."""
    t: Wave = _WAVES["t"]
    """T wave."""
    wander_mv: Annotated[Float, Field(ge=0, le=5)] = 0.05
    """Amplitude of the sinusoidal baseline wander (mV)."""
    wander_hz: Annotated[Float, Field(ge=0, le=2)] = 0.25
    """Frequency of the baseline wander (Hz; respiration)."""
    noise_mv: Annotated[Float, Field(ge=0, le=5)] = 0.01
    """Standard deviation of the white measurement noise (mV)."""
    anomalies: AnomalyParams = AnomalyParams()
    """Injected anomalies."""

    @model_validator(mode="after")
    def _check(self):
        if self.r.center_s != 0:
            raise ConfigError("r.center_s", f"must be 0 (the R wave defines the R peak), got {self.r.center_s}")
        if self.first_beat_s >= self.duration:
            raise ConfigError("first_beat_s", f"must be below duration ({self.duration} s), got {self.first_beat_s}")
        return self


@dataclass(frozen=True)
class EcgRecord:
    """One ECG lead with its beats.

    ``r_peaks`` and ``labels`` are ``None`` for a WFDB record without beat annotations.
    """

    signal: np.ndarray
    """Samples (mV), float64."""
    fs: float
    """Sampling rate (Hz)."""
    r_peaks: np.ndarray | None = None
    """Sample index of every beat's R peak (increasing), int64."""
    labels: np.ndarray | None = None
    """Label of every beat (index into :data:`KINDS`), int64."""
    source: str = "synthetic"
    """Where it came from (``synthetic`` or the WFDB record path)."""
    bursts: tuple = ()
    """Noise bursts as ``(first sample, end sample)`` (synthetic records)."""

    @property
    def duration(self) -> float:
        """Length (s)."""
        return self.signal.shape[0] / self.fs

    def windows(self) -> np.ndarray:
        """``(n_beats, 2)`` first and end sample of each beat's window (see the module docstring)."""
        r = self._need_beats("windows")
        n = self.signal.shape[0]
        pre = int(round(_PRE_S * self.fs))
        gaps = np.diff(r, prepend=r[0] - 2 * pre)
        start = r - np.minimum(pre, gaps // 2)
        start = np.maximum(start, 0)
        end = np.append(start[1:], n)
        return np.stack([start, end], 1).astype(np.int64)

    def _need_beats(self, what: str) -> np.ndarray:
        if self.r_peaks is None:
            raise ConfigError("record.annotations", f"{self.source} has no beat annotations: {what} needs the R peaks")
        return self.r_peaks

    def slice(self, t0: float, t1: float) -> "EcgRecord":
        """The part ``[t0, t1)`` seconds, with the beats whose R peak lies in it (sample indices
        relative to the part)."""
        a, b = int(round(t0 * self.fs)), min(int(round(t1 * self.fs)), self.signal.shape[0])
        if not 0 <= a < b:
            raise ConfigError("record", f"empty part [{t0}, {t1}) s of a {self.duration:.3g} s record")
        r = lab = None
        if self.r_peaks is not None:
            keep = (self.r_peaks >= a) & (self.r_peaks < b)
            r = self.r_peaks[keep] - a
            lab = None if self.labels is None else self.labels[keep]
        bursts = tuple((max(s - a, 0), min(e - a, b - a)) for s, e in self.bursts if e > a and s < b)
        return EcgRecord(self.signal[a:b].copy(), self.fs, r, lab, self.source, bursts)


# ---------------------------------------------------------------------------------------------- synthesis
def _place_events(rng, eligible: np.ndarray, spans: list[int], gap: int) -> list[int]:
    """Start beats for events of ``spans`` beats each, non-overlapping with ``gap`` beats between."""
    taken = np.zeros(int(eligible.max()) + 2 + max(spans, default=0) + gap if eligible.size else 1, bool)
    starts = []
    for span in spans:
        ok = [k for k in eligible if not taken[max(k - gap, 0):k + span + gap].any()
              and k + span - 1 <= eligible[-1]]
        if not ok:
            raise ConfigError("anomalies", "too many anomalies for the record: lengthen duration, lower the counts or "
                                           "gap_beats, or move anomalies.start earlier")
        k = int(ok[int(rng.integers(len(ok)))])
        taken[k:k + span] = True
        starts.append(k)
    return starts


def synthesize(params: EcgParams | None = None, seed: int = 0) -> EcgRecord:
    """A synthetic ECG record with labelled anomalies (deterministic per ``seed``).

    Parameters
    ----------
    params : EcgParams, optional
        Generator parameters (default :class:`EcgParams()`).
    seed : int
        Seed of the rhythm, the noise and the anomaly placement.

    Returns
    -------
    EcgRecord
        Signal in mV, R peaks (samples) and one label per beat.
    """
    p = EcgParams() if params is None else params
    if not isinstance(p, EcgParams):
        raise ConfigError("params", f"must be EcgParams, not {type(p).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", f"must be a non-negative integer, not {seed!r}")
    rng = np.random.default_rng([int(seed), 0xEC6])
    a = p.anomalies
    rr0 = 60.0 / p.heart_rate_bpm
    n_max = int(math.ceil((p.duration - p.first_beat_s) / (rr0 * 0.5))) + 8
    e = np.clip(rng.standard_normal(n_max), -3, 3)
    rr = rr0 * np.maximum(1 + p.hrv * e, 0.3)  # rr[k]: interval from beat k to k+1
    t_norm = p.first_beat_s + np.concatenate([[0.0], np.cumsum(rr)])
    # beats eligible for an event: after anomalies.start, and the event ends about 1 s before the end
    longest = max([a.rate_beats * (a.rate_factor > 0), a.st_beats, 1])
    last = int(np.searchsorted(t_norm, p.duration - 1.0 - rr0 * (longest + 1))) - 1
    first = max(1, int(np.searchsorted(t_norm, a.start)))
    eligible = np.arange(first, max(first, last + 1))
    kinds = (["ectopic"] * a.ectopic + ["rate_jump"] * a.rate_jump + ["st_change"] * a.st_change
             + ["noise_burst"] * a.noise_burst)
    order = rng.permutation(len(kinds))
    kinds = [kinds[i] for i in order]
    span_of = {"ectopic": 2, "rate_jump": a.rate_beats, "st_change": a.st_beats, "noise_burst": 1}
    if kinds and eligible.size == 0:
        raise ConfigError("anomalies", "no beat after anomalies.start leaves room for an anomaly: lengthen duration")
    starts = _place_events(rng, eligible, [span_of[k] for k in kinds], a.gap_beats) if kinds else []
    label = np.zeros(n_max + 1, np.int64)
    st_sign = np.zeros(n_max + 1)
    burst_beats = []
    for kind, k in zip(kinds, starts):
        if kind == "ectopic":
            short = rr[k - 1] * (1 - a.prematurity)
            rr[k - 1] -= short
            rr[k] += short
            label[k] = KINDS.index("ectopic")
        elif kind == "rate_jump":
            rr[k - 1:k - 1 + a.rate_beats] /= a.rate_factor
            label[k:k + a.rate_beats] = KINDS.index("rate_jump")
        elif kind == "st_change":
            st_sign[k:k + a.st_beats] = 1.0 if rng.random() < 0.5 else -1.0
            label[k:k + a.st_beats] = KINDS.index("st_change")
        else:
            burst_beats.append(k)
    t_r = p.first_beat_s + np.concatenate([[0.0], np.cumsum(rr)])
    n = int(round(p.duration * p.fs))
    keep = t_r < n / p.fs
    t_r = t_r[keep]
    n_beats = t_r.shape[0]
    label = label[:n_beats]
    st_sign = st_sign[:n_beats]
    t = np.arange(n) / p.fs
    z = np.zeros(n)
    prev_rr = np.concatenate([[rr0], np.diff(t_r)])
    half = 1.0  # each wave is evaluated within +-1 s of its beat (further it is < 1e-100)
    for k in range(n_beats):
        lo = max(0, int((t_r[k] - half) * p.fs))
        hi = min(n, int((t_r[k] + half) * p.fs) + 1)
        tt = t[lo:hi] - t_r[k]
        ect = label[k] == KINDS.index("ectopic")
        sk = math.sqrt(prev_rr[k] / rr0)
        for name in "pqrst":
            w = getattr(p, name)
            amp, c, b = w.amp_mv, w.center_s, w.width_s
            if name in "pt":
                c, b = c * sk, b * sk
            if ect:
                if name == "p":
                    continue
                if name in "qrs":
                    b = b * a.qrs_widening
                    c = c * a.qrs_widening
                else:
                    amp = amp * a.t_gain
            z[lo:hi] += amp * np.exp(-((tt - c) ** 2) / (2 * b * b))
        if st_sign[k]:
            z[lo:hi] += st_sign[k] * a.st_shift_mv * np.exp(-((tt - a.st_center_s) ** 2) / (2 * a.st_width_s ** 2))
    if p.wander_mv:
        z += p.wander_mv * np.sin(2 * np.pi * p.wander_hz * t + rng.uniform(0, 2 * np.pi))
    if p.noise_mv:
        z += p.noise_mv * rng.standard_normal(n)
    r_peaks = np.rint(t_r * p.fs).astype(np.int64)
    r_peaks = np.minimum(r_peaks, n - 1)
    bursts = []
    for k in burst_beats:
        if k >= n_beats:
            continue
        s0 = max(0, int(round((t_r[k] - _PRE_S) * p.fs)))
        s1 = min(n, s0 + int(round(a.burst_s * p.fs)))
        z[s0:s1] += a.burst_mv * rng.standard_normal(s1 - s0)
        bursts.append((s0, s1))
    rec = EcgRecord(z, float(p.fs), r_peaks, label, "synthetic", tuple(bursts))
    if bursts:
        win = rec.windows()
        lab = label.copy()
        for s0, s1 in bursts:
            hit = (win[:, 0] < s1) & (win[:, 1] > s0) & (lab == 0)
            lab[hit] = KINDS.index("noise_burst")
        rec = EcgRecord(z, float(p.fs), r_peaks, lab, "synthetic", tuple(bursts))
    return rec


# ---------------------------------------------------------------------------------------------- WFDB
def _record_base(path: str | Path) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix == ".hea" else p


def load_wfdb(path: str | Path, channel: int | str = 0, annotator: str | None = "atr") -> EcgRecord:
    """Read one lead of a WFDB record (and its beat annotations, if present).

    Parameters
    ----------
    path : path-like
        The record without extension (``data/100``) or its ``.hea`` header.
    channel : int or str
        Signal index or name (``sig_name`` in the header, e.g. ``"MLII"``).
    annotator : str or None
        Annotation file extension (``"atr"``); ``None`` or a missing file: no beats.

    Returns
    -------
    EcgRecord
        Signal converted to mV; beats from the beat annotations (non-beat annotations ignored).
    """
    import wfdb

    base = _record_base(path)
    hea = base.with_name(base.name + ".hea")
    if not hea.is_file():
        raise ConfigError("record", f"no WFDB header {hea}")
    try:
        header = wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises plain exceptions on malformed headers
        raise ConfigError("record", f"{hea} is not a readable WFDB header ({type(exc).__name__}: {exc})") from None
    names = list(header.sig_name or [])
    if isinstance(channel, str):
        if channel not in names:
            raise ConfigError("channel", f"no signal {channel!r} in {hea} (signals: {names})")
        ch = names.index(channel)
    elif isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not 0 <= channel < header.n_sig:
        raise ConfigError("channel", f"must be a signal index 0..{header.n_sig - 1} or a name of {names}, "
                                     f"not {channel!r}")
    else:
        ch = int(channel)
    try:
        rec = wfdb.rdrecord(str(base), channels=[ch], physical=True)
    except Exception as exc:
        raise ConfigError("record", f"cannot read the signal of {base} ({type(exc).__name__}: {exc})") from None
    units = (rec.units or ["mV"])[0] or "mV"
    scale = {"mV": 1.0, "uV": 1e-3, "μV": 1e-3, "V": 1e3}.get(units)
    if scale is None:
        raise ConfigError("channel", f"signal {names[ch]!r} of {hea} is in {units!r}, not a voltage (mV, uV, V)")
    sig = np.asarray(rec.p_signal[:, 0], dtype=np.float64) * scale
    if not np.all(np.isfinite(sig)):
        raise ConfigError("record", f"{base} has missing samples (NaN) in signal {names[ch]!r}")
    r_peaks = labels = None
    if annotator is not None and base.with_name(f"{base.name}.{annotator}").is_file():
        try:
            ann = wfdb.rdann(str(base), annotator)
        except Exception as exc:
            raise ConfigError("annotator", f"cannot read {base}.{annotator} ({type(exc).__name__}: {exc})") from None
        aux = ann.aux_note if ann.aux_note is not None else [""] * len(ann.sample)
        rows = [(int(s), sym, (x or "").strip("\x00 ")) for s, sym, x in zip(ann.sample, ann.symbol, aux)
                if sym in _BEAT_SYMBOLS]
        rows.sort()
        r_peaks = np.array([r[0] for r in rows], np.int64)
        lab = []
        for _, sym, note in rows:
            if note in KINDS:
                lab.append(KINDS.index(note))
            else:
                lab.append(0 if sym in NORMAL_SYMBOLS else KINDS.index("abnormal"))
        labels = np.array(lab, np.int64)
        keep = (r_peaks >= 0) & (r_peaks < sig.shape[0])
        r_peaks, labels = r_peaks[keep], labels[keep]
    return EcgRecord(sig, float(rec.fs), r_peaks, labels, str(base))


def write_wfdb(record: EcgRecord, path: str | Path, annotator: str = "atr") -> Path:
    """Write ``record`` as a WFDB record (16-bit samples at 1 uV, one lead ``ECG`` in mV) and its
    beats as annotations: ``V`` for ectopic beats, ``N`` otherwise, the kind of an anomalous beat in
    ``aux_note``.  Returns the header path."""
    import wfdb

    base = _record_base(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    sig = np.asarray(record.signal, dtype=np.float64)
    if np.abs(sig).max(initial=0) * 1000 > 32767:
        raise ConfigError("record.signal", "exceeds +-32.767 mV, the range of 16-bit samples at 1 uV")
    wfdb.wrsamp(base.name, fs=record.fs, units=["mV"], sig_name=["ECG"], p_signal=sig[:, None], fmt=["16"],
                adc_gain=[1000.0], baseline=[0], write_dir=str(base.parent))
    if record.r_peaks is not None and record.r_peaks.size:
        labels = record.labels if record.labels is not None else np.zeros(record.r_peaks.shape[0], np.int64)
        sym = ["V" if KINDS[x] == "ectopic" else "N" for x in labels]
        aux = [KINDS[x] if x else "" for x in labels]
        wfdb.wrann(base.name, annotator, np.asarray(record.r_peaks, np.int64), symbol=sym, aux_note=aux,
                   write_dir=str(base.parent))
    return base.with_name(base.name + ".hea")


# ---------------------------------------------------------------------------------------------- encoder
@dataclass(frozen=True)
class Encoded:
    """Output of :meth:`DeltaEncoder.encode`."""

    raster: np.ndarray
    """``(T, 2 * channels)`` uint8 spikes: columns ``0..channels-1`` UP, the rest DOWN."""
    reconstruction: np.ndarray
    """The modulator's reference after each sample (mV)."""
    overload: int
    """Samples at which the change exceeded ``channels`` steps (slope overload)."""


class DeltaEncoder(Section):
    """Delta (level-crossing) modulator into UP and DOWN spike lines (module docstring)."""

    threshold_mv: Annotated[Float, Field(gt=0, le=10)] = 0.05
    """Step of the modulator (mV)."""
    channels: Annotated[Int, Field(ge=1, le=64)] = 4
    """Spike lines per polarity: at most this many steps per sample."""

    @property
    def n_out(self) -> int:
        """Number of input lines (``2 * channels``)."""
        return 2 * self.channels

    def encode(self, signal) -> Encoded:
        """Encode ``signal`` (mV, one value per network step)."""
        x = np.asarray(signal, dtype=np.float64)
        if x.ndim != 1 or x.shape[0] == 0:
            raise ConfigError("signal", f"must be a non-empty 1-D array, not shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ConfigError("signal", "must be finite (no NaN or inf samples)")
        k, d = self.channels, self.threshold_mv
        raster = np.zeros((x.shape[0], 2 * k), np.uint8)
        rec = np.empty_like(x)
        x0 = x[0]
        lvl = 0  # the reference is x0 + lvl * threshold_mv (no accumulated rounding)
        over = 0
        for t in range(x.shape[0]):
            diff = x[t] - (x0 + lvl * d)
            m = int(abs(diff) // d)
            if m > k:
                over += 1
                m = k
            if m:
                if diff > 0:
                    lvl += m
                    raster[t, :m] = 1
                else:
                    lvl -= m
                    raster[t, k:k + m] = 1
            rec[t] = x0 + lvl * d
        return Encoded(raster, rec, over)
