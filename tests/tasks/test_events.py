"""Event data: the simulated event camera against closed forms (noise counts, dead time, a moved
step edge, polarity balance over the saccade triangle, refractory period, jitter, mismatch),
determinism by seed, the encoder into the engine's raster, N-MNIST files, the event datasets in
``load_dataset`` / ``train_and_evaluate`` / ``hwsnn run``, and ``task.test_delay``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.config import load_config
from hwsnn.errors import ConfigError
from hwsnn.tasks import events as E
from hwsnn.tasks.datasets import load_dataset
from hwsnn.tasks.events import (EVENT_DTYPE, EventDataset, EventParams, encode_events, event_counts,
                                events_to_raster, pixel_thresholds, read_nmnist, read_nmnist_folder, saccade_path,
                                simulate_events, write_nmnist)

QUIET = dict(noise_rate=0.0, jitter=0.0, threshold_mismatch=0.0, refractory=0.0)
"""A noise-free, jitter-free, mismatch-free sensor without refractory period."""


def _digits(n=50):
    from sklearn.datasets import load_digits

    return load_digits().data[:n].reshape(-1, 8, 8) / 16.0


def _per_pixel(ev, w):
    """{pixel: times} in event order."""
    out: dict[int, list[float]] = {}
    for x, y, t in zip(ev["x"], ev["y"], ev["t"]):
        out.setdefault(int(y) * w + int(x), []).append(float(t))
    return out


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("changes,field", [
    ({"noise_rate": -1.0}, "noise_rate"),
    ({"jitter": -1e-3}, "jitter"),
    ({"refractory": 2.0}, "refractory"),
    ({"threshold_on": 0.0}, "threshold_on"),
    ({"threshold_mismatch": 0.5}, "threshold_mismatch"),
    ({"saccade_duration": 0.0005}, "sim_dt"),  # sim_dt (1 ms) must be <= saccade_duration
    ({"amplitude": True}, "amplitude"),
    ({"nois_rate": 1.0}, "nois_rate"),
])
def test_params_errors_name_the_field(changes, field):
    with pytest.raises(ConfigError) as e:
        EventParams(**changes)
    assert e.value.field == field
    with pytest.raises(ConfigError) as e:  # inside a run config: the full path
        load_config(None, {f"task.events.{k}": v for k, v in changes.items()})
    assert e.value.field == f"task.events.{field}"


def test_task_fields_errors():
    with pytest.raises(ConfigError) as e:
        load_config(None, {"task.test_delay": -1.0})
    assert e.value.field == "task.test_delay"
    with pytest.raises(ConfigError) as e:
        load_config(None, {"task.dataset": "event_cifar"})
    assert e.value.field == "task.dataset"
    cfg = load_config(None, {"task.dataset": "event_digits", "task.events.noise_rate": 3.0})
    assert cfg.task.events.noise_rate == 3.0 and cfg.task.test_delay == 0.0


def test_saccade_path_is_a_closed_equilateral_triangle():
    p = EventParams(amplitude=2.0, saccade_duration=0.05)
    times, off = saccade_path(p)
    np.testing.assert_allclose(times, [0, 0.05, 0.1, 0.15])
    assert np.array_equal(off[0], [0, 0]) and np.array_equal(off[-1], [0, 0])
    sides = np.linalg.norm(np.diff(off, axis=0), axis=1)
    np.testing.assert_allclose(sides, [2.0, 2.0, 2.0], rtol=1e-12)
    assert p.duration == pytest.approx(0.15)


# ---------------------------------------------------------------------------------------------- noise
def test_static_uniform_image_gives_only_poisson_noise():
    """No motion, uniform image: every event is noise; count ~ Poisson(rate * D * pixels), polarity
    ~ Binomial(N, 1/2), times uniform on [0, D]."""
    rate, dur, shape = 5.0, 1.0, (32, 32)
    p = EventParams(**{**QUIET, "noise_rate": rate, "saccade_duration": dur / 3})
    path = (np.array([0.0, dur]), np.zeros((2, 2)))
    ev = simulate_events(np.full(shape, 0.5), p, seed=4, recording=2, path=path)
    lam = rate * dur * shape[0] * shape[1]
    n = ev.size
    assert abs(n - lam) < 4 * math.sqrt(lam)
    n_on = int(ev["p"].sum())
    assert abs(n_on - n / 2) < 4 * math.sqrt(n / 4)
    assert abs(ev["t"].mean() - dur / 2) < 4 * dur / math.sqrt(12 * n)
    assert ev["t"].min() >= 0 and ev["t"].max() <= dur and np.all(np.diff(ev["t"]) >= 0)
    # counts per pixel: Poisson, so variance ~ mean (index of dispersion within chi-square bounds)
    c = event_counts(ev, shape).sum(axis=0).ravel()
    k = c.size
    disp = c.var(ddof=1) * (k - 1) / c.mean()
    assert abs(disp - (k - 1)) < 5 * math.sqrt(2 * (k - 1))
    # no noise at all when the rate is 0
    assert simulate_events(np.full(shape, 0.5), p.replace(noise_rate=0.0), 4, 2, path=path).size == 0


def test_noise_with_refractory_period_is_a_dead_time_counter():
    """Noise with a non-paralysable dead time tau: a renewal process with intervals tau + Exp(rate),
    mean count per pixel D / (tau + 1/rate) (+ O(1) start-up term, far below the tolerance), and
    no two events of a pixel closer than tau."""
    rate, tau, dur, shape = 50.0, 5e-3, 1.0, (32, 32)
    p = EventParams(**{**QUIET, "noise_rate": rate, "refractory": tau, "saccade_duration": dur / 3})
    path = (np.array([0.0, dur]), np.zeros((2, 2)))
    ev = simulate_events(np.full(shape, 0.3), p, seed=1, recording=0, path=path)
    mu = tau + 1 / rate
    n_pix = shape[0] * shape[1]
    expected = n_pix * dur / mu
    sd = math.sqrt(n_pix * dur * (1 / rate) ** 2 / mu**3)
    assert abs(ev.size - expected) < 4 * sd + n_pix * 0.05
    for ts in _per_pixel(ev, shape[1]).values():
        assert np.all(np.diff(ts) >= tau * (1 - 1e-12))


# ---------------------------------------------------------------------------------------------- signal
EDGE = np.zeros((8, 8))
EDGE[:, 4:] = 1.0  # dark left half, bright right half


@pytest.mark.parametrize("shift", [1.0, 0.5])
def test_step_edge_moved_right_gives_off_events_on_the_edge_column_only(shift):
    """Moving the image right by ``shift`` px: column 4 sees I = 1 - shift * t / T (bilinear), every
    other column a constant.  OFF event m at R = (1 + eps) exp(-m c): t_m = T (1 + eps)(1 - exp(-m c))
    / shift, count floor(ln((1 + eps) / (1 - shift + eps)) / c)."""
    c, eps, T = 0.17, 0.1, 0.2
    p = EventParams(**{**QUIET, "threshold_on": c, "threshold_off": c, "log_eps": eps})
    ev = simulate_events(EDGE, p, path=(np.array([0.0, T]), np.array([[0.0, 0.0], [shift, 0.0]])))
    n = int(math.floor(math.log((1 + eps) / (1 - shift + eps)) / c))
    assert n >= 3
    assert set(ev["x"].tolist()) == {4} and np.all(ev["p"] == 0)
    assert ev.size == 8 * n
    for y in range(8):
        t = np.sort(ev["t"][ev["y"] == y])
        m = np.arange(1, n + 1)
        np.testing.assert_allclose(t, T * (1 + eps) * (1 - np.exp(-m * c)) / shift, rtol=0, atol=1e-12)


def test_step_edge_moved_left_gives_on_events_at_the_edge_and_off_events_at_the_border():
    """Moving left by 1 px: column 3 brightens (ON, I = t / T), column 7 sees the black outside of
    the image come in (OFF, I = 1 - t / T); nothing else."""
    c, eps, T = 0.17, 0.1, 0.2
    p = EventParams(**{**QUIET, "threshold_on": c, "threshold_off": c, "log_eps": eps})
    ev = simulate_events(EDGE, p, path=(np.array([0.0, T]), np.array([[0.0, 0.0], [-1.0, 0.0]])))
    n = int(math.floor(math.log((1 + eps) / eps) / c))
    on, off = ev[ev["p"] == 1], ev[ev["p"] == 0]
    assert set(on["x"].tolist()) == {3} and set(off["x"].tolist()) == {7}
    assert on.size == off.size == 8 * n
    m = np.arange(1, n + 1)
    np.testing.assert_allclose(np.sort(on["t"][on["y"] == 0]), T * eps * (np.exp(m * c) - 1), atol=1e-12)


def test_polarity_balance_over_the_saccade_triangle():
    """The motion returns to the start, so with no noise and no refractory period each pixel's
    log intensity ends where it began: with equal thresholds N_on == N_off exactly, with mismatch
    -c_on < N_on c_on - N_off c_off < c_off (the final level lies inside the pixel's band)."""
    imgs = _digits(40)
    p = EventParams(**QUIET)
    total = 0
    for i, img in enumerate(imgs):
        c = event_counts(simulate_events(img, p, 0, i), (8, 8))
        assert np.array_equal(c[1], c[0]), i
        total += c.sum()
    assert total > 40 * 200  # the digits do produce events
    pm = EventParams(**{**QUIET, "threshold_mismatch": 0.1, "threshold_off": 0.2})
    con, coff = pixel_thresholds(pm, (8, 8), 5)
    for i, img in enumerate(imgs):
        c = event_counts(simulate_events(img, pm, 5, i), (8, 8))
        net = c[1] * con - c[0] * coff
        assert np.all(net > -con - 1e-12) and np.all(net < coff + 1e-12), i
    # with a refractory period the changes during each reset are lost: balance within a tolerance
    pr = EventParams(**{**QUIET, "refractory": 1e-3})
    imb = np.concatenate([(lambda c: (c[1] - c[0]).ravel())(event_counts(simulate_events(img, pr, 0, i), (8, 8)))
                          for i, img in enumerate(imgs)])
    assert np.abs(imb).max() <= 3 and abs(imb.mean()) < 0.15


def test_refractory_period_is_respected_with_signal_and_noise():
    tau = 2e-3
    p = EventParams(refractory=tau, noise_rate=20.0, jitter=0.0, threshold_on=0.08, threshold_off=0.08)
    n_close = 0
    for i, img in enumerate(_digits(20)):
        ev = simulate_events(img, p, 3, i)
        assert ev.size > 100
        for ts in _per_pixel(ev, 8).values():
            d = np.diff(ts)
            assert np.all(d >= tau * (1 - 1e-12)), i
            n_close += int(np.sum(d < 1.5 * tau))
    assert n_close > 0  # the dead time is reached (it binds), not merely respected by sparse events
    # without it, events of one pixel come closer than tau
    p0 = p.replace(refractory=0.0)
    ev = simulate_events(_digits(1)[0], p0, 3, 0)
    assert min(np.diff(ts).min() for ts in _per_pixel(ev, 8).values() if len(ts) > 1) < tau


def test_jitter_is_gaussian_with_the_configured_sd():
    """Same seed and recording with and without jitter: the same events, each time moved by an
    independent N(0, sigma^2) error (events near the ends, reflected there, are left out)."""
    sigma = 2e-4
    base = EventParams(noise_rate=0.0, jitter=0.0, refractory=5e-3)  # 25 sigma between events of a pixel
    pj = base.replace(jitter=sigma)
    d = []
    for i, img in enumerate(_digits(30)):
        e0 = simulate_events(img, base, 7, i)
        e1 = simulate_events(img, pj, 7, i)
        assert e0.size == e1.size
        a, b = _per_pixel(e0, 8), _per_pixel(e1, 8)
        assert a.keys() == b.keys()
        for k in a:
            t0, t1 = np.array(a[k]), np.array(b[k])
            keep = (t0 > 6 * sigma) & (t0 < base.duration - 6 * sigma)
            d.append((t1 - t0)[keep])
        # polarity and pixel of every event unchanged
        assert sorted(zip(e0["x"], e0["y"], e0["p"])) == sorted(zip(e1["x"], e1["y"], e1["p"]))
    d = np.concatenate(d)
    n = d.size
    assert n > 5000
    assert abs(d.mean()) < 4 * sigma / math.sqrt(n)
    assert abs(d.std() / sigma - 1) < 4 / math.sqrt(2 * n)
    kurt = np.mean((d / d.std()) ** 4)
    assert abs(kurt - 3) < 4 * math.sqrt(24 / n)
    e = simulate_events(_digits(1)[0], pj.replace(jitter=0.05), 7, 0)  # large jitter: still in [0, D], sorted
    assert e["t"].min() >= 0 and e["t"].max() <= pj.duration and np.all(np.diff(e["t"]) >= 0)


def test_threshold_mismatch_statistics():
    """Truncated (+-3) normal spread: mean c, sd m c * 0.98658 (the sd of a standard normal truncated at
    +-3), every threshold within c (1 +- 3 m), ON and OFF independent; a pure function of the seed."""
    p = EventParams(threshold_on=0.2, threshold_off=0.1, threshold_mismatch=0.1)
    con, coff = pixel_thresholds(p, (200, 200), 9)
    n = con.size
    sd_trunc = math.sqrt(1 - 6 * math.exp(-4.5) / math.sqrt(2 * math.pi) / math.erf(3 / math.sqrt(2)))
    for c, nom in ((con, 0.2), (coff, 0.1)):
        z = (c / nom - 1) / 0.1
        assert abs(z.mean()) < 4 * sd_trunc / math.sqrt(n)
        assert abs(z.std() / sd_trunc - 1) < 4 / math.sqrt(2 * n)
        assert np.abs(z).max() <= 3.0 + 1e-12 and np.abs(z).max() > 2.5
    assert abs(np.corrcoef(con.ravel(), coff.ravel())[0, 1]) < 4 / math.sqrt(n)
    a, b = pixel_thresholds(p, (200, 200), 9)
    assert np.array_equal(a, con) and np.array_equal(b, coff)
    assert not np.array_equal(pixel_thresholds(p, (200, 200), 10)[0], con)
    # a smaller sensor draws the first pixels (row-major index) of the same pattern
    small = pixel_thresholds(p, (10, 20), 9)[0].ravel()
    np.testing.assert_array_equal(small, con.ravel()[:200])


def test_determinism_by_seed_and_recording():
    img = _digits(1)[0]
    p = EventParams(noise_rate=5.0)
    a = simulate_events(img, p, 11, 3)
    b = simulate_events(img, p, 11, 3)
    assert a.dtype == EVENT_DTYPE and a.tobytes() == b.tobytes()
    assert a.tobytes() != simulate_events(img, p, 12, 3).tobytes()
    assert a.tobytes() != simulate_events(img, p, 11, 4).tobytes()
    assert np.all(np.diff(a["t"]) >= 0)


def test_simulate_input_errors():
    p = EventParams()
    with pytest.raises(ConfigError) as e:
        simulate_events(np.full((4, 4), 2.0), p)
    assert e.value.field == "image"
    with pytest.raises(ConfigError) as e:
        simulate_events(np.zeros(4), p)
    assert e.value.field == "image"
    with pytest.raises(ConfigError) as e:
        simulate_events(np.zeros((4, 4)), p, seed=-1)
    assert e.value.field == "seed"
    with pytest.raises(ConfigError) as e:
        simulate_events(np.zeros((4, 4)), p, path=(np.array([0.1, 0.2]), np.zeros((2, 2))))
    assert e.value.field == "path"


# ---------------------------------------------------------------------------------------------- encoder
def _ev(rows):
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for k, (x, y, t, pol) in enumerate(rows):
        ev[k] = (x, y, t, pol)
    return ev


def test_encoder_closed_form():
    """Step floor(t / D * n) (t == D in the last step), channel y W + x (ON) or H W + y W + x (OFF)."""
    shape, n, dur = (2, 3), 10, 0.3
    ev = _ev([(0, 0, 0.0, 1), (2, 1, 0.0299, 0), (2, 1, 0.031, 0), (1, 0, 0.15, 1), (1, 0, 0.16, 1),
              (0, 1, 0.3, 0)])
    steps, ch, merged = encode_events(ev, shape, n, dur)
    pairs = sorted(zip(steps.tolist(), ch.tolist()))
    assert pairs == [(0, 0), (0, 6 + 5), (1, 6 + 5), (5, 1), (9, 6 + 3)]
    assert merged == 1  # the two ON events of pixel (1, 0) at 0.15 and 0.16 s share step 5
    r = events_to_raster(ev, shape, n, dur)
    assert r.shape == (n, 12) and r.dtype == bool and r.sum() == 5
    assert r[9, 9] and r[5, 1] and not r[5, 7]
    # the recording is scaled onto the window: twice the steps, (about) twice the step index
    s2, _, m2 = encode_events(ev, shape, 2 * n, dur)
    assert sorted(s2.tolist()) == [0, 1, 2, 10, 19] and m2 == 1  # 0.15 and 0.16 s: steps 10.0 and 10.67
    # default span: the latest event
    s3, _, _ = encode_events(ev[:5], shape, n)
    assert s3.max() == n - 1
    # never dropped silently: events outside [0, duration] are an error naming the field
    with pytest.raises(ConfigError) as e:
        encode_events(ev, shape, n, 0.2)
    assert e.value.field == "duration" and "1 of 6 events" in e.value.message
    with pytest.raises(ConfigError) as e:
        encode_events(ev, (1, 3), n, dur)
    assert e.value.field == "events"


def test_encoder_counts_match_the_events():
    img = _digits(1)[0]
    p = EventParams()
    ev = simulate_events(img, p, 0, 0)
    r = events_to_raster(ev, (8, 8), 700, p.duration)
    _, _, merged = encode_events(ev, (8, 8), 700, p.duration)
    c = event_counts(ev, (8, 8))
    assert r.sum() + merged == ev.size
    per_ch = np.concatenate([c[1].ravel(), c[0].ravel()])
    assert np.all(r.sum(axis=0) <= per_ch) and r.sum(axis=0).sum() == per_ch.sum() - merged


# ---------------------------------------------------------------------------------------------- N-MNIST files
def test_nmnist_hand_written_bytes(tmp_path):
    """40 bits per event: x (8), y (8), polarity (1), timestamp (23, microseconds), big-endian."""
    raw = bytes([0x03, 0x11, 0x81, 0x23, 0x45,    # x 3, y 17, ON, t 0x012345 = 74565 us
                 0xFF, 0x00, 0x7F, 0xFF, 0xFF,    # x 255, y 0, OFF, t 0x7FFFFF = 8388607 us
                 0x00, 0x21, 0x00, 0x00, 0x00])   # x 0, y 33, OFF, t 0
    f = tmp_path / "00001.bin"
    f.write_bytes(raw)
    ev = read_nmnist(f)
    assert ev.dtype == EVENT_DTYPE
    assert ev["x"].tolist() == [0, 3, 255] and ev["y"].tolist() == [33, 17, 0]  # sorted by time
    assert ev["p"].tolist() == [0, 1, 0]
    assert ev["t"].tolist() == [0.0, 74565e-6, 8388607e-6]
    g = tmp_path / "out.bin"
    write_nmnist(g, ev)
    assert g.read_bytes() == raw[10:] + raw[:10]  # the same events, written in time order


def test_nmnist_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    ev = np.zeros(500, EVENT_DTYPE)
    ev["x"] = rng.integers(0, 34, 500)
    ev["y"] = rng.integers(0, 34, 500)
    ev["p"] = rng.integers(0, 2, 500)
    ev["t"] = np.sort(rng.integers(0, 320_000, 500)) / 1e6  # microseconds, as the reader converts them
    f = tmp_path / "a.bin"
    write_nmnist(f, ev)
    assert f.stat().st_size == 5 * 500
    back = read_nmnist(f)
    assert back.tobytes() == ev.tobytes()
    # a simulated recording, rounded to microseconds by the format
    sim = simulate_events(_digits(1)[0], EventParams(), 0, 0)
    write_nmnist(f, sim)
    back = read_nmnist(f)
    assert np.array_equal(back[["x", "y", "p"]], sim[["x", "y", "p"]])
    assert np.abs(back["t"] - sim["t"]).max() <= 0.5e-6 + 1e-12
    # bad files: one clear error naming the file
    bad = tmp_path / "truncated.bin"
    bad.write_bytes(f.read_bytes()[:-2])
    with pytest.raises(ConfigError) as e:
        read_nmnist(bad)
    assert "truncated.bin" in str(e.value) and "5-byte" in str(e.value)
    with pytest.raises(ConfigError) as e:
        read_nmnist(tmp_path / "missing.bin")
    assert "missing.bin" in str(e.value)
    late = ev.copy()
    late["t"][-1] = 9.0
    with pytest.raises(ConfigError) as e:
        write_nmnist(tmp_path / "late.bin", late)
    assert e.value.field == "events" and not (tmp_path / "late.bin").exists()
    wide = ev.copy()
    wide["x"][0] = 300
    with pytest.raises(ConfigError):
        write_nmnist(tmp_path / "wide.bin", wide)
    # the dataset's folder layout
    for label, k in ((3, 0), (3, 1), (7, 2)):
        (tmp_path / "Test" / str(label)).mkdir(parents=True, exist_ok=True)
        write_nmnist(tmp_path / "Test" / str(label) / f"{k:05d}.bin", ev[k * 10:(k + 1) * 10])
    recs, labels = read_nmnist_folder(tmp_path / "Test")
    assert labels.tolist() == [3, 3, 7] and [r.size for r in recs] == [10, 10, 10]
    assert recs[2].tobytes() == ev[20:30].tobytes()
    with pytest.raises(ConfigError):
        read_nmnist_folder(tmp_path / "Train")


# ---------------------------------------------------------------------------------------------- datasets
def test_event_dataset_split_layout_and_cache(monkeypatch):
    static = load_dataset("digits", seed=2)
    p = EventParams(noise_rate=1.0)
    ds = load_dataset("event_digits", seed=2, events=p)
    assert isinstance(ds, EventDataset) and ds.name == "event_digits"
    assert ds.n_in == 128 and ds.image_shape == (16, 8) and ds.sensor_shape == (8, 8)
    assert np.array_equal(ds.y_train, static.y_train) and np.array_equal(ds.y_test, static.y_test)
    assert np.array_equal(ds.images_train.reshape(ds.n_train, -1), static.x_train)
    # a recording is simulate_events of its image with the dataset's seed and the image's id
    ev = ds.events("test", 4)
    assert ev.tobytes() == simulate_events(ds.images_test[4], p, 2, int(ds.ids_test[4])).tobytes()
    # encoding: made once, cached, equal to the direct encoder
    calls = []
    real = E.simulate_events
    monkeypatch.setattr(E, "simulate_events", lambda *a, **k: calls.append(1) or real(*a, **k))
    enc = ds.encoded("train", 200, 5)
    assert len(calls) == 5 and len(enc) == 5
    assert ds.encoded("train", 200, 3).ptr.tolist() == enc.ptr[:4].tolist() and len(calls) == 5
    ds.encoded("train", 200, 7)
    assert len(calls) == 7  # extends the cache by the two missing recordings only
    np.testing.assert_array_equal(enc.raster(1), events_to_raster(ds.events("train", 1), (8, 8), 200, p.duration))
    assert enc.n_events[1] == ds.events("train", 1).size
    # x: per-channel event counts (ON plane, then OFF plane)
    c = event_counts(ds.events("train", 0), (8, 8))
    np.testing.assert_array_equal(ds.x_train[0], np.concatenate([c[1].ravel(), c[0].ravel()]))
    with pytest.raises(ConfigError) as e:
        load_dataset("event_digits", events={"noise_rate": 1})
    assert e.value.field == "events"


def test_event_mnist_is_the_mnist_split():
    ds = load_dataset("event_mnist", seed=0)
    assert ds.n_in == 2 * 784 and ds.n_train == 8000 and ds.n_test == 2000
    ev = ds.events("train", 0)
    assert ev.size > 50 and ev["x"].max() < 28 and ev["y"].max() < 28


# ---------------------------------------------------------------------------------------------- training
def test_training_on_event_digits_presents_rasters_and_learns(monkeypatch):
    from hwsnn.engine.layer import LayerNetwork
    from hwsnn.tasks.wta import train_and_evaluate

    def no_poisson(self, *a, **k):
        raise AssertionError("the event path must not use Poisson presentation")

    monkeypatch.setattr(LayerNetwork, "present", no_poisson)
    calls = []
    real = E.simulate_events
    monkeypatch.setattr(E, "simulate_events", lambda *a, **k: calls.append(1) or real(*a, **k))
    cfg = load_config(None, {"network.n_exc": 30, "network.efficacy": 3.0, "task.dataset": "event_digits"})
    ds = load_dataset("event_digits", seed=0, events=cfg.task.events)
    r = train_and_evaluate(cfg, ds, "ideal", 0, 2, n_train=250, n_test=100)
    assert len(calls) == 350  # each recording made once, for both epochs and the labelling and test passes
    assert r["samples"] == 500 and r["network"].n_in == 128
    assert r["accuracy"] > 0.3  # chance: 0.1 (seeds 0, 1, 2 reach 0.39, 0.44, 0.37)


def test_hwsnn_run_event_digits_end_to_end(tmp_path):
    from hwsnn.cli import main

    out = tmp_path / "run"
    rc = main(["run", "event_digits", "--set", "task.epochs=1", "--n-train", "100", "--n-test", "50",
               "--seed", "0", "--baseline", "none", "--n-exc", "20", "--synapse", "ideal", "--out", str(out),
               "--no-progress", "--set", "task.events.noise_rate=1.0"])
    assert rc == 0
    import json

    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"] == "event_digits" and m["config"]["task"]["events"]["noise_rate"] == 1.0
    assert m["sizes"]["n_in"] == 128
    assert (out / "receptive_fields.png").stat().st_size > 1000


# ---------------------------------------------------------------------------------------------- test_delay
DRIFT = {"synapse.device.params.d2d": 0.0, "synapse.device.params.c2c_mult": 0.0, "synapse.device.params.c2c_add": 0.0,
         "synapse.device.params.read_noise": 0.0, "synapse.device.params.st_amp": 0.0,
         "synapse.device.params.drift_nu_mean": 0.05, "synapse.device.params.drift_nu_std": 0.0,
         "synapse.device.params.drift_t0": 1.0, "synapse.device.params.drift_g_rest": 0.0,
         "synapse.device.params.p_stuck_min": 0.0, "synapse.device.params.p_stuck_max": 0.0,
         "network.n_exc": 10}


def test_wait_applies_the_closed_form_drift_factor():
    """Devices programmed at t = 0 (partner devices fully reset), read after D seconds:
    gL(D) = gL (1 + D / t0)^-nu, so every weight is scaled by that factor."""
    from hwsnn.engine.layer import LayerNetwork
    from hwsnn.tasks.wta import wait

    cfg = load_config(None, DRIFT)
    net = LayerNetwork(cfg, 64, seed=3, backend="crossbar")
    assert net.xb.time == 0.0
    nu = net.xb.array.nu  # the devices store their exponent in float32: 0.05 to 7 digits
    assert np.all(nu == nu.flat[0]) and nu.flat[0] == pytest.approx(0.05, rel=1e-7)
    nu = float(nu.flat[0])
    w0 = net.weights()
    gain0 = net._gain.copy()
    wait(net, 99.0)
    assert net.xb.time == 99.0
    np.testing.assert_allclose(net.weights(), w0 * (1 + 99.0 / 1.0) ** -nu, rtol=1e-12, atol=1e-15)
    # the column gain is re-measured (it compensates the columns' lost conductance)
    np.testing.assert_allclose(net._gain, gain0 * (1 + 99.0) ** nu, rtol=1e-12)
    for backend in ("ideal", "integer"):  # no clock: no effect
        n2 = LayerNetwork(cfg, 64, seed=3, backend=backend)
        w = n2.weights()
        wait(n2, 99.0)
        assert np.array_equal(n2.weights(), w)
    with pytest.raises(ConfigError) as e:
        wait(net, -1.0)
    assert e.value.field == "test_delay"


def test_test_delay_in_training_runs():
    """The crossbar clock after a run is (presentations) x (t_present + t_rest) + test_delay; the final
    weights (read at the last refresh) differ by the drift factor of the extra delay; ideal and
    integer runs are unchanged."""
    from hwsnn.tasks.wta import train_and_evaluate

    cfg = load_config(None, DRIFT)
    ds = load_dataset("digits", seed=0)
    t_s = cfg.schedule.n_total * cfg.schedule.dt
    # epochs = 0: no writes; the 20 labelling + test presentations end with a full refresh (every 10)
    r0 = train_and_evaluate(cfg, ds, "crossbar", 0, 0, n_train=12, n_test=8)
    r1 = train_and_evaluate(cfg, ds, "crossbar", 0, 0, n_train=12, n_test=8, test_delay=500.0)
    assert r0["network"].xb.time == pytest.approx(20 * t_s, abs=1e-9)
    assert r1["network"].xb.time == pytest.approx(20 * t_s + 500.0, abs=1e-9)
    tr = 20 * t_s
    nu = float(r0["network"].xb.array.nu.flat[0])
    factor = ((1 + (tr + 500.0)) / (1 + tr)) ** -nu
    np.testing.assert_allclose(r1["weights"], r0["weights"] * factor, rtol=1e-12, atol=1e-15)
    # with training (curve "online" and "test"): the clock closed form, and a delay changes the result
    for curve in ("online", "test"):
        a = train_and_evaluate(cfg, ds, "crossbar", 0, 1, n_train=12, n_test=8, curve=curve, curve_points=2)
        b = train_and_evaluate(cfg, ds, "crossbar", 0, 1, n_train=12, n_test=8, curve=curve, curve_points=2,
                               test_delay=1e4)
        n_pres = 12 + (2 if curve == "test" else 1) * 20
        assert a["network"].xb.time == pytest.approx(n_pres * t_s, abs=1e-9)
        assert b["network"].xb.time == pytest.approx(n_pres * t_s + 1e4, abs=1e-9)
        assert b["weights"].sum() < a["weights"].sum()  # the delay's drift lowered the conductances
    for backend in ("ideal", "integer"):
        a = train_and_evaluate(cfg, ds, backend, 0, 1, n_train=12, n_test=8)
        b = train_and_evaluate(cfg, ds, backend, 0, 1, n_train=12, n_test=8, test_delay=1e4)
        assert a["accuracy"] == b["accuracy"] and np.array_equal(a["weights"], b["weights"])
        assert np.array_equal(a["confusion"], b["confusion"])
