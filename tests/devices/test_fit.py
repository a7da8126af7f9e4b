"""Fitting recovers known parameters from synthetic measurements; CSV parsing and errors."""

import json

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


# ---------------------------------------------------------------------------------------------
# Round trip through the output of `hwsnn device curve`: curve_data(preset) -> fit_curve -> the
# preset, within the tolerances below, or the field is reported as not identifiable with a reason.
# Tolerances (relative "rel", absolute "abs") are what the protocol determines: 32 devices, 8 of
# them recorded (d2d, drift spread), one pulse train each.
from hwsnn.devices import get_preset  # noqa: E402
from hwsnn.devices.curves import curve_data  # noqa: E402
from hwsnn.devices.fit import CURVE_NOT_IDENTIFIED, fit_curve  # noqa: E402

ROUND_TRIP = {
    "sto": {"g_min": ("rel", 0.12), "g_max": ("rel", 0.05), "p_max": ("rel", 0.15), "p_max_down": ("rel", 0.15),
            "nl_ltp": ("abs", 0.4), "nl_ltd": ("abs", 0.4), "st_amp": ("rel", 0.2), "st_max": ("rel", 0.35),
            "st_tau": ("rel", 0.25), "drift_nu_mean": ("abs", 0.008), "drift_nu_std": ("abs", 0.006),
            "d2d": ("abs", 0.04), "read_noise": ("rel", 0.1), "c2c_add": ("rel", 0.25), "c2c_mult": ("abs", 0.1)},
    "ideal": {"g_min": ("rel", 1e-3), "g_max": ("rel", 1e-3), "p_max": ("rel", 1e-3), "p_max_down": ("rel", 1e-3),
              "nl_ltp": ("abs", 0.01), "nl_ltd": ("abs", 0.01), "st_amp": ("abs", 1e-6), "drift_nu_mean": ("abs", 1e-6),
              "drift_nu_std": ("abs", 1e-6), "d2d": ("abs", 1e-6), "read_noise": ("abs", 1e-6),
              "c2c_add": ("abs", 1e-4), "c2c_mult": ("abs", 1e-3)},
    # c2c_add sqrt(P / devices) = 0.07: the law and volatile fields are reported as not identifiable
    "neurosim_agsi": {"g_min": ("rel", 0.02), "g_max": ("rel", 0.05), "c2c_add": ("rel", 0.2), "c2c_mult": ("abs", 0.25),
                      "drift_nu_mean": ("abs", 1e-6), "drift_nu_std": ("abs", 1e-6), "d2d": ("abs", 1e-6),
                      "read_noise": ("abs", 1e-6)},
    "aihwkit_pcm": {"g_min": ("abs", 1e-12), "g_max": ("rel", 0.01), "p_max": ("rel", 0.02), "p_max_down": ("rel", 0.02),
                    "st_amp": ("abs", 1e-6), "c2c_mult": ("abs", 1e-3), "c2c_add": ("abs", 1e-3)},
    "aihwkit_softbounds_pmax": {"g_min": ("abs", 0.02), "g_max": ("rel", 0.06), "p_max": ("rel", 0.2),
                                "p_max_down": ("rel", 0.2), "nl_ltp": ("abs", 0.3), "nl_ltd": ("abs", 0.3),
                                "st_amp": ("abs", 1e-6), "c2c_mult": ("rel", 0.3), "c2c_add": ("abs", 1e-3),
                                "read_noise": ("abs", 1e-6), "drift_nu_mean": ("abs", 1e-6),
                                "drift_nu_std": ("abs", 1e-6)},
}
# fields the curve protocol does not exercise at all (energy, faults, meta-plasticity, law shapes
# of the other update models, read time of the pcm1f model)
NOT_EXERCISED = {"update_model", "law_gamma_up", "law_gamma_down", "exp_A_up", "exp_A_down", "exp_gamma_up",
                 "exp_gamma_down", "exp_a", "exp_b", "levels", "st_kappa", "st_bias", "consol_rate", "consol_theta",
                 "drift_model", "drift_g_rest", "read_noise_model", "t_read", "p_stuck_min", "p_stuck_max",
                 "p_stuck_random", "write_voltage", "pulse_width", "line_cap", "p_max_ltd", "d2d_tau"}


def _close(got, want, kind, tol):
    return abs(got - want) <= (tol * abs(want) if kind == "rel" else tol)


@pytest.mark.parametrize("name", [n if n != "aihwkit_softbounds_pmax" else pytest.param(n, marks=pytest.mark.slow)
                                  for n in ROUND_TRIP])
def test_curve_fit_round_trip_every_preset(name):
    truth = get_preset(name)
    data = json.loads(json.dumps(curve_data(truth, seed=0)))  # as written by `hwsnn device curve`
    data.pop("params", None)  # (the CLI adds the parameters; the fit must not see them)
    # the base supplies the model choices only: its numeric fields are deliberately wrong
    base = DeviceParams(update_model=truth.update_model, drift_model=truth.drift_model,
                        read_noise_model=truth.read_noise_model, drift_t0=truth.drift_t0,
                        drift_g_rest=truth.drift_g_rest, g_min=7e-3, g_max=9e-3, p_max=555.0, nl_ltp=5.5,
                        nl_ltd=5.5, st_amp=0.033, st_max=0.77, st_tau=77.0, c2c_mult=0.77, c2c_add=0.077,
                        d2d=0.77, drift_nu_mean=0.077, drift_nu_std=0.077, read_noise=0.077)
    p, rep = fit_curve(data, base=base)
    tol = ROUND_TRIP[name]
    for field, (kind, t) in tol.items():
        got, want = getattr(p, field), getattr(truth, field)
        assert _close(got, want, kind, t), (name, field, got, want)
    # every other field is either not exercised by the protocol or reported with a reason
    for f in DeviceParams.__dataclass_fields__:
        if f in tol or f in NOT_EXERCISED or f == "drift_t0":
            continue
        assert f in rep["not_identified"] and rep["not_identified"][f], (name, f)
    assert set(CURVE_NOT_IDENTIFIED) - set(rep["fitted"]) <= set(rep["not_identified"])


def test_curve_fit_volatile_part_matters():
    # the case: the STO curve fitted without modelling the volatile build-up (the CSV
    # method on the same train) lands far from the preset; the curve fit does not
    truth = get_preset("sto")
    data = curve_data(truth, seed=1)
    P = data["pulses"]
    x = np.arange(P + 1, dtype=float)
    csv_like = {"ltp": {f"d{k}": (x, np.array(g[:P + 1])) for k, g in enumerate(data["ltp_ltd"]["g_devices"])},
                "ltd": {f"d{k}": (x, np.array(g[P:])) for k, g in enumerate(data["ltp_ltd"]["g_devices"])}}
    naive, _ = fit_device(csv_like, base=truth)
    assert not _close(naive.p_max, truth.p_max, "rel", 0.3) or not _close(naive.nl_ltp, truth.nl_ltp, "abs", 1.0)
    p, _ = fit_curve(data, base=truth)
    assert _close(p.p_max, truth.p_max, "rel", 0.15) and _close(p.nl_ltp, truth.nl_ltp, "abs", 0.4)
