"""The synthetic ECG, the WFDB loader and the delta encoder of hwsnn.tasks.ecg, checked against
independent measurements (scipy's peak finder, local statistics, wfdb itself)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks, peak_widths

from hwsnn.errors import ConfigError
from hwsnn.tasks.ecg import KINDS, AnomalyParams, DeltaEncoder, EcgParams, EcgRecord, load_wfdb, synthesize, write_wfdb


def detect_r(sig, fs):
    """Independent R-peak detector: prominent peaks at least 0.25 s apart."""
    pk, _ = find_peaks(sig, prominence=0.6, distance=int(0.25 * fs))
    return pk


@pytest.mark.parametrize("bpm,fs", [(50.0, 250.0), (72.0, 360.0), (110.0, 250.0)])
def test_heart_rate_matches_configured_rate(bpm, fs):
    rec = synthesize(EcgParams(fs=fs, duration=120.0, heart_rate_bpm=bpm, hrv=0.02), seed=3)
    pk = detect_r(rec.signal, fs)
    measured = 60.0 / np.mean(np.diff(pk) / fs)
    assert abs(measured - bpm) / bpm < 0.02
    # the labelled R peaks are where the independent detector finds them
    assert pk.shape == rec.r_peaks.shape
    assert np.abs(pk - rec.r_peaks).max() <= 1
    assert np.all(rec.labels == 0)


def _anomalous():
    a = AnomalyParams(start=30.0, ectopic=4, rate_jump=2, st_change=2, noise_burst=2)
    return EcgParams(duration=180.0, heart_rate_bpm=60.0, hrv=0.01, noise_mv=0.005, wander_mv=0.0, anomalies=a)


def test_anomalies_are_where_labelled():
    p = _anomalous()
    a = p.anomalies
    rec = synthesize(p, seed=5)
    fs, lab, r = rec.fs, rec.labels, rec.r_peaks
    counts = np.bincount(lab, minlength=len(KINDS))
    assert counts[KINDS.index("ectopic")] == 4
    assert counts[KINDS.index("rate_jump")] == 2 * a.rate_beats
    assert counts[KINDS.index("st_change")] == 2 * a.st_beats
    assert counts[KINDS.index("noise_burst")] >= 2
    assert np.all(lab[r < a.start * fs] == 0)  # nothing before anomalies.start
    rr = np.diff(r) / fs  # rr[k-1]: interval ending at beat k
    normal = (lab[1:] == 0) & (lab[:-1] == 0)
    rr0 = np.median(rr[normal])
    assert abs(rr0 - 1.0) < 0.02
    # ectopic: premature by `prematurity`, wide QRS (half-height width from scipy), inverted T
    ect = np.flatnonzero(lab == KINDS.index("ectopic"))
    np.testing.assert_allclose(rr[ect - 1] / rr0, a.prematurity, atol=0.05)
    w_ect = peak_widths(rec.signal, r[ect], rel_height=0.5)[0]
    norm_beats = np.flatnonzero(lab == 0)[5:15]
    w_norm = peak_widths(rec.signal, r[norm_beats], rel_height=0.5)[0]
    assert w_ect.min() > 1.8 * w_norm.max()
    t_lag = int(round(p.t.center_s * fs))
    assert np.all(rec.signal[r[ect] + t_lag] < 0) and np.all(rec.signal[r[norm_beats] + t_lag] > 0.2)
    # rate jump: intervals into the labelled beats shortened by rate_factor
    rj = np.flatnonzero(lab == KINDS.index("rate_jump"))
    np.testing.assert_allclose(rr[rj - 1] / rr0, 1 / a.rate_factor, atol=0.05)
    # ST change: the level at st_center after R deviates by about st_shift_mv from normal beats
    st = np.flatnonzero(lab == KINDS.index("st_change"))
    lag = int(round(a.st_center_s * fs))
    base = np.median(rec.signal[r[norm_beats] + lag])
    dev = np.abs(rec.signal[r[st] + lag] - base)
    np.testing.assert_allclose(dev, a.st_shift_mv, atol=0.05)
    # noise bursts: the labelled beats' windows contain the bursts; the sample-to-sample jitter there is large
    win = rec.windows()
    d = np.diff(rec.signal)
    for s0, s1 in rec.bursts:
        assert np.median(np.abs(d[s0:s1 - 1])) > 5 * np.median(np.abs(d[:int(20 * fs)]))
        hit = (win[:, 0] < s1) & (win[:, 1] > s0)
        assert np.all(lab[hit] > 0)
    nb = np.flatnonzero(lab == KINDS.index("noise_burst"))
    assert all(any(win[k, 0] < s1 and win[k, 1] > s0 for s0, s1 in rec.bursts) for k in nb)


def test_windows_tile_the_record():
    rec = synthesize(_anomalous(), seed=1)
    w = rec.windows()
    assert np.all(w[1:, 0] == w[:-1, 1]) and w[-1, 1] == rec.signal.shape[0]
    assert np.all((w[:, 0] <= rec.r_peaks) & (rec.r_peaks < w[:, 1]))


def test_deterministic_per_seed():
    p = _anomalous()
    a, b, c = synthesize(p, seed=7), synthesize(p, seed=7), synthesize(p, seed=8)
    np.testing.assert_array_equal(a.signal, b.signal)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.signal, c.signal)
    # every seed its own record
    sigs = [synthesize(EcgParams(duration=10.0), seed=k).signal for k in range(6)]
    assert all(not np.array_equal(sigs[i], sigs[j]) for i in range(6) for j in range(i + 1, 6))


def test_generator_errors_name_the_field():
    with pytest.raises(ConfigError) as e:
        EcgParams(fs=10.0)
    assert e.value.field == "fs"
    with pytest.raises(ConfigError) as e:
        EcgParams(anomalies={"ectopic": -1})
    assert e.value.field == "anomalies.ectopic"
    with pytest.raises(ConfigError) as e:
        EcgParams(r={"amp_mv": 1.0, "center_s": 0.01, "width_s": 0.01})
    assert e.value.field == "r.center_s"
    with pytest.raises(ConfigError) as e:
        synthesize(EcgParams(duration=20.0, anomalies=AnomalyParams(ectopic=40)))
    assert e.value.field == "anomalies"
    with pytest.raises(ConfigError) as e:
        synthesize(EcgParams(), seed=-1)
    assert e.value.field == "seed"


# ---------------------------------------------------------------------------------------------- WFDB
def test_wfdb_round_trip(tmp_path):
    rec = synthesize(_anomalous(), seed=2)
    hea = write_wfdb(rec, tmp_path / "rec1")
    assert hea.is_file() and (tmp_path / "rec1.atr").is_file()
    back = load_wfdb(tmp_path / "rec1")
    assert back.fs == rec.fs
    assert np.abs(back.signal - rec.signal).max() <= 0.5e-3 + 1e-9  # 16-bit samples at 1 uV
    np.testing.assert_array_equal(back.r_peaks, rec.r_peaks)
    np.testing.assert_array_equal(back.labels, rec.labels)
    assert load_wfdb(hea).signal.shape == rec.signal.shape  # the .hea path works too
    # other WFDB tools see standard beat symbols: V for the ectopic beats, N otherwise
    import wfdb

    ann = wfdb.rdann(str(tmp_path / "rec1"), "atr")
    np.testing.assert_array_equal(np.array(ann.symbol) == "V", rec.labels == KINDS.index("ectopic"))
    assert set(ann.symbol) == {"N", "V"}


def test_wfdb_reads_records_written_by_wfdb_itself(tmp_path):
    """A two-lead record in microvolts with MIT-BIH style beat symbols, written with wfdb directly."""
    import wfdb

    fs = 360
    t = np.arange(3 * fs) / fs
    lead = np.stack([1000 * np.sin(2 * np.pi * t), 500 * np.cos(2 * np.pi * t)], 1)  # uV
    wfdb.wrsamp("r2", fs=fs, units=["uV", "uV"], sig_name=["MLII", "V5"], p_signal=lead, fmt=["16", "16"],
                write_dir=str(tmp_path))
    wfdb.wrann("r2", "atr", np.array([10, 100, 400, 700, 900]), symbol=["+", "N", "V", "A", "N"],
               write_dir=str(tmp_path))
    r = load_wfdb(tmp_path / "r2", channel="V5")
    np.testing.assert_allclose(r.signal, lead[:, 1] * 1e-3, atol=2e-3)
    np.testing.assert_array_equal(r.r_peaks, [100, 400, 700, 900])  # '+' is not a beat
    assert [KINDS[x] for x in r.labels] == ["normal", "abnormal", "abnormal", "normal"]
    assert load_wfdb(tmp_path / "r2", channel=0).signal[fs // 4] == pytest.approx(1.0, abs=2e-3)
    with pytest.raises(ConfigError) as e:
        load_wfdb(tmp_path / "r2", channel="V1")
    assert e.value.field == "channel" and "MLII" in e.value.message
    with pytest.raises(ConfigError) as e:
        load_wfdb(tmp_path / "r2", channel=2)
    assert e.value.field == "channel"
    (tmp_path / "r2.atr").unlink()
    bare = load_wfdb(tmp_path / "r2")
    assert bare.r_peaks is None
    with pytest.raises(ConfigError) as e:
        bare.windows()
    assert e.value.field == "record.annotations"


def test_wfdb_missing_or_broken_files(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_wfdb(tmp_path / "nope")
    assert e.value.field == "record" and "nope.hea" in e.value.message
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(ConfigError) as e:
        load_wfdb(tmp_path / "bad")
    assert e.value.field == "record"
    with pytest.raises(ConfigError) as e:
        write_wfdb(EcgRecord(np.array([0.0, 40.0]), 250.0), tmp_path / "big")
    assert e.value.field == "record.signal"


# ---------------------------------------------------------------------------------------------- encoder
def test_encoder_reconstructs_within_one_step():
    rng = np.random.default_rng(0)
    enc = DeltaEncoder(threshold_mv=0.05, channels=4)
    # a random walk whose per-sample change is at most `channels` steps: no slope overload
    x = np.cumsum(rng.uniform(-0.2, 0.2, 5000))
    out = enc.encode(x)
    assert out.overload == 0
    assert np.all(np.abs(out.reconstruction - x) < enc.threshold_mv)
    up, dn = out.raster[:, :4].astype(int), out.raster[:, 4:].astype(int)
    # the reconstruction is the first sample plus the net count of steps
    np.testing.assert_allclose(out.reconstruction, x[0] + enc.threshold_mv * np.cumsum(up.sum(1) - dn.sum(1)))
    # thermometer code: line k only with line k-1, and never both polarities at once
    assert np.all(np.diff(up, axis=1) <= 0) and np.all(np.diff(dn, axis=1) <= 0)
    assert not np.any(up.any(1) & dn.any(1))


def test_encoder_crossing_times_on_a_ramp():
    """A ramp of 3/4 step per sample: a line spikes when floor(x / step) increments (exact binary fractions)."""
    x = 0.375 * np.arange(12)
    out = DeltaEncoder(threshold_mv=0.5, channels=2).encode(x)
    levels = np.floor(x / 0.5)
    np.testing.assert_array_equal(out.raster[:, 0], (np.diff(levels, prepend=0) >= 1).astype(np.uint8))
    np.testing.assert_array_equal(out.raster[:, 1], 0)
    assert not out.raster[:, 2:].any()


def test_encoder_on_synthetic_ecg_and_overload():
    rec = synthesize(EcgParams(duration=20.0), seed=0)
    enc = DeltaEncoder(threshold_mv=0.075, channels=5)
    out = enc.encode(rec.signal)
    assert out.overload == 0 and np.abs(out.reconstruction - rec.signal).max() < 0.075
    step = np.r_[np.zeros(5), np.full(5, 1.0)]
    o2 = enc.encode(step)
    assert o2.overload >= 1 and o2.raster[5, :5].sum() == 5  # 13 steps needed, 5 lines available


def test_encoder_errors():
    with pytest.raises(ConfigError) as e:
        DeltaEncoder(threshold_mv=0)
    assert e.value.field == "threshold_mv"
    with pytest.raises(ConfigError) as e:
        DeltaEncoder().encode([0.0, np.nan])
    assert e.value.field == "signal"
    with pytest.raises(ConfigError) as e:
        DeltaEncoder().encode(np.zeros((3, 2)))
    assert e.value.field == "signal"
