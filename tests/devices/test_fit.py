"""Fitting recovers known parameters from synthetic measurements; CSV parsing and errors."""

import numpy as np
import pytest

from hwsnn.devices import DeviceParams
from hwsnn.devices.fit import fit_device, load_csv, synthetic_dataset, write_csv
from hwsnn.errors import ConfigError

TRUTH = DeviceParams(
    d2d=0.0, st_amp=0.0, nl_ltp=2.0, nl_ltd=3.0, p_max=100, c2c_mult=0.3, c2c_add=0.003,
    drift_nu_mean=0.02, drift_nu_std=0.01, read_noise=0.02,
)
FITTED = ["g_min", "g_max", "p_max", "nl_ltp", "nl_ltd", "c2c_mult", "c2c_add", "drift_nu_mean", "drift_nu_std", "read_noise"]


def as_data(rows):
    d = {e: {} for e in ("ltp", "ltd", "retention", "read")}
    for e, dev, x, g in rows:
        d[e].setdefault(dev, []).append((x, g))
    return {e: {k: (np.array(v)[:, 0], np.array(v)[:, 1]) for k, v in dd.items()} for e, dd in d.items()}


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_dataset(TRUTH, n_devices=256, retention_devices=2000, read_devices=200, n_reads=50, seed=2)


def test_fit_recovers_known_parameters_within_5_percent(synthetic):
    p, rep = fit_device(as_data(synthetic), base=DeviceParams())
    for f in FITTED:
        assert getattr(p, f) == pytest.approx(getattr(TRUTH, f), rel=0.05), f
    assert p.p_max_down == pytest.approx(TRUTH.p_max_down, rel=0.05)
    assert rep["ltp"]["steps_used"] > 1000 and rep["retention"]["devices"] >= 1990  # a few devices land on g_min after the programming event


def test_fit_detects_a_different_device(synthetic):
    # mutant check: data from a different device must not fit the truth within 5 %
    other = TRUTH.replace(nl_ltp=3.0, c2c_mult=0.1, drift_nu_mean=0.04, read_noise=0.01)
    p, _ = fit_device(as_data(synthetic_dataset(other, n_devices=64, retention_devices=200, read_devices=50, seed=3)))
    for f in ["nl_ltp", "c2c_mult", "drift_nu_mean", "read_noise"]:
        assert getattr(p, f) != pytest.approx(getattr(TRUTH, f), rel=0.05), f
        assert getattr(p, f) == pytest.approx(getattr(other, f), rel=0.15), f


def test_csv_roundtrip_and_partial_experiments(tmp_path):
    rows = synthetic_dataset(TRUTH, n_devices=0, read_devices=20, n_reads=30, seed=4)
    f = write_csv(tmp_path / "reads.csv", rows)
    data = load_csv(f)
    assert len(data["read"]) == 20 and not data["ltp"]
    p, rep = fit_device(data, base=DeviceParams())
    assert set(rep["fitted"]) == {"read_noise"} and p.p_max == DeviceParams().p_max
    assert p.read_noise == pytest.approx(0.02, rel=0.15)


@pytest.mark.parametrize(
    "text,field",
    [
        ("experiment,device,x\nltp,a,0\n", "DATA"),
        ("experiment,device,x,g\nfoo,a,0,1e-9\n", "experiment"),
        ("experiment,device,x,g\nltp,a,zero,1e-9\n", "x"),
        ("experiment,device,x,g\nltp,a,0,nan\n", "g"),
        ("experiment,device,x,g\n", "DATA"),
        ("experiment,device,x,g\nltp,a,0,1e-9\nltp,a,1,2e-9\n", "DATA"),  # too few steps
    ],
)
def test_bad_csv_raises_config_error(tmp_path, text, field):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(ConfigError) as ei:
        fit_device(load_csv(f))
    assert ei.value.field == field


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        load_csv("/nonexistent/data.csv")
