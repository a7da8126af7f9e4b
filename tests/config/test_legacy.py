"""Legacy ``[run]`` + ``[network]`` configs (the old flat names, ms / mV) load into the new schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsnn.config import load_config, load_config_with_notes, parse_config, parse_config_with_notes, preset_path
from hwsnn.errors import ConfigError

LEGACY_DIR = Path(__file__).resolve().parent / "legacy_files"
"""Copies of the legacy-format configs shipped before the typed config (``[run]`` + ``[network]``)."""


@pytest.mark.parametrize("folder", [LEGACY_DIR], ids=["copies"])
@pytest.mark.parametrize("name", ["default", "mnist100", "mnist400"])
def test_legacy_file_equals_new_preset(name, folder):
    if not (folder / f"{name}.toml").is_file():
        pytest.skip(f"{folder / name}.toml is gone")
    legacy, notes = load_config_with_notes(folder / f"{name}.toml")
    new, new_notes = load_config_with_notes(preset_path(name))
    assert legacy == new
    assert new_notes == []
    assert notes and "legacy" in notes[0]


def test_default_is_the_new_default_preset():
    assert load_config() == load_config(preset_path("default"))
    cfg = load_config()
    assert cfg.task.seeds == (0, 1, 2) and cfg.synapse.backend == "crossbar" and cfg.task.baseline == "ideal"


LEGACY = {
    "run": {"dataset": "mnist", "synapse": "int8", "baseline": "none", "seeds": [3, 4], "epochs": 2, "n_train": 50,
            "n_test": 20, "curve": "test", "curve_points": 2, "kmeans": False},
    "network": {
        "n_exc": 30, "dt": 1.0, "t_present": 200.0, "t_rest": 50, "max_rate": 63.75, "rerun_min_spikes": 2,
        "rerun_rate_step": 10.0, "rerun_max": 3, "fast_forward": False,
        "tau_m": 50.0, "v_rest": -70.0, "v_reset": -66.0, "v_thresh": -50.0, "theta_offset": 10.0, "refrac_exc": 4.0,
        "e_exc": 5.0, "e_inh": -90.0, "tau_ge": 2.0, "tau_gi": 3.0,
        "tau_m_inh": 12.0, "v_rest_inh": -61.0, "v_reset_inh": -46.0, "v_thresh_inh": -41.0, "refrac_inh": 3.0,
        "tau_ge_inh": 1.5,
        "theta_init": 15.0, "theta_plus": 0.1, "tau_theta": 2e6, "norm_per_input": 0.2,
        "efficacy": 1.5, "inhibition": "population", "w_inh_total": 100.0, "w_ei": 9.0, "w_ie": 16.0, "w_max": 0.9,
        "w_init_max": 0.25,
        "nu_pre": 2e-4, "nu_post": 0.03, "crossbar_nu_post": 0.3, "tau_pre": 10.0, "tau_post1": 15.0,
        "tau_post2": 30.0,
        "q_bits": 6, "trace_bits": 5, "device_preset": "ideal", "device_options": {"read_noise": 0.02},
        "crossbar_options": {"io": {"adc_bits": 6}, "update": {"verify_tol": 0.05}},
        "crossbar_refresh": 7, "write_every": 5, "renorm_every": 11, "crossbar_norm": "both", "column_gain": False,
        "normalize_long_term": False,
    },
}


def test_every_legacy_field_converts_with_units():
    cfg, notes = parse_config_with_notes(LEGACY)
    t, n, s, h, nr, r, sy = cfg.task, cfg.network, cfg.schedule, cfg.homeostasis, cfg.neuron, cfg.rules[0], cfg.synapse
    assert (t.dataset, t.baseline, t.seeds, t.epochs, t.n_train, t.n_test, t.curve, t.curve_points, t.kmeans) == \
        ("mnist", "none", (3, 4), 2, 50, 20, "test", 2, False)
    # ms -> s
    assert (s.dt, s.t_present, s.t_rest) == (0.001, 0.2, 0.05)
    assert (s.max_rate, s.rerun_min_spikes, s.rerun_rate_step, s.rerun_max, s.fast_forward) == \
        (63.75, 2, 10.0, 3, False)
    assert (nr.tau_m, nr.refractory, nr.tau_ge, nr.tau_gi) == (0.05, 0.004, 0.002, 0.003)
    # mV -> V
    assert (nr.v_rest, nr.v_reset, nr.v_thresh, nr.theta_offset, nr.e_exc, nr.e_inh) == \
        (-0.07, -0.066, -0.05, 0.01, 0.005, -0.09)
    i = nr.inhibitory
    assert (i.tau_m, i.v_rest, i.v_reset, i.v_thresh, i.refractory, i.tau_ge) == \
        (0.012, -0.061, -0.046, -0.041, 0.003, 0.0015)
    assert (h.theta_init, h.theta_plus, h.tau_theta, h.norm_per_input) == (0.015, 1e-4, 2e3, 0.2)
    assert (n.n_exc, n.efficacy, n.inhibition, n.w_inh_total, n.w_ei, n.w_ie, n.w_max, n.w_init_max) == \
        (30, 1.5, "population", 100.0, 9.0, 16.0, 0.9, 0.25)
    assert r.kind == "triplet_stdp" and len(cfg.rules) == 1
    assert (r.nu_pre, r.nu_post, r.nu_post_crossbar, r.tau_pre, r.tau_post1, r.tau_post2) == \
        (2e-4, 0.03, 0.3, 0.01, 0.015, 0.03)
    assert sy.backend == "integer" and (sy.integer.w_bits, sy.integer.x_bits) == (6, 5)
    assert sy.device.preset == "ideal" and sy.device.params == {"read_noise": 0.02}
    assert sy.device.resolve().read_noise == 0.02 and sy.device.resolve().d2d == 0.0
    assert sy.crossbar.io.adc_bits == 6 and sy.crossbar.update.verify_tol == 0.05
    w = sy.write_back
    assert (w.refresh, w.every, w.renorm_every, w.norm, w.column_gain, w.long_term) == (7, 5, 11, "both", False, False)
    assert any("int8" in x for x in notes)
    assert any("network.theta_plus -> homeostasis.theta_plus (mV -> V)" in x for x in notes)


def test_theta_units_of_the_shipped_files():
    cfg = load_config(LEGACY_DIR / "default.toml")
    assert cfg.homeostasis.theta_plus == 5e-5 and cfg.homeostasis.tau_theta == 1e4
    assert cfg.homeostasis.theta_init == 0.020 and cfg.schedule.dt == 5e-4


@pytest.mark.parametrize("key, value, new", [("adc_bits", 8, "synapse.crossbar.io.adc_bits"),
                                             ("read_noise", 0.0, "synapse.device.params.read_noise")])
def test_removed_legacy_fields_name_the_new_field(key, value, new):
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {}, "network": {key: value}})
    assert ei.value.field == f"network.{key}" and ei.value.message == f"removed; use {new}"


def test_legacy_errors():
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {"epocs": 3}})
    assert ei.value.field == "run.epocs" and "epochs" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {}, "network": {"dt": -1.0}})
    assert ei.value.field == "schedule.dt" and "legacy network.dt (in ms)" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {}, "network": {"dt": "fast"}})
    assert ei.value.field == "network.dt" and "must be a number" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {}, "task": {}})
    assert ei.value.field == "task" and "--print-config" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": 3})
    assert ei.value.field == "run"
    with pytest.raises(ConfigError) as ei:
        parse_config({"run": {"dataset": "mnist"}, "network": {"n_in": 100}})
    assert ei.value.field == "network.n_in" and "784" in ei.value.message
    assert parse_config({"run": {"dataset": "mnist"}, "network": {"n_in": 784}}).task.dataset == "mnist"


def test_legacy_override_paths():
    cfg, notes = load_config_with_notes(None, {"run.epochs": 1, "network.t_present": 100.0, "network.n_exc": 9})
    assert cfg.task.epochs == 1 and cfg.schedule.t_present == 0.1 and cfg.network.n_exc == 9
    assert "override run.epochs is now task.epochs" in notes
    with pytest.raises(ConfigError) as ei:
        load_config(None, {"network.adc_bits": 4})
    assert ei.value.message == "removed; use synapse.crossbar.io.adc_bits"


def test_legacy_tables_are_fully_mapped():
    from hwsnn.config.legacy import NETWORK_DEFAULTS, NETWORK_FIELDS, REMOVED, RUN_DEFAULTS, RUN_FIELDS

    # every legacy [network] field is converted, refused with its new name (REMOVED), or n_in
    assert set(NETWORK_DEFAULTS) == set(NETWORK_FIELDS) | set(REMOVED) | {"n_in"}
    assert not set(NETWORK_FIELDS) & set(REMOVED)
    assert set(RUN_DEFAULTS) == set(RUN_FIELDS)
    assert set(LEGACY["network"]) == set(NETWORK_FIELDS) and set(LEGACY["run"]) == set(RUN_FIELDS)


def test_legacy_defaults_equal_new_defaults():
    """Each legacy default, converted, is the new schema's default (a legacy file that leaves a
    field out means the same as a new file that leaves it out)."""
    from hwsnn.config.legacy import NETWORK_DEFAULTS, NETWORK_FIELDS, RUN_DEFAULTS

    full = {"run": dict(RUN_DEFAULTS), "network": {k: v for k, v in NETWORK_DEFAULTS.items() if k in NETWORK_FIELDS}}
    assert parse_config(full) == parse_config({})
    # n_in = 64 (the default) is accepted for the default dataset; the removed overrides' defaults
    # ("take the crossbar's / device's own") are what the new schema does when they are left out
    assert parse_config({"run": {}, "network": {"n_in": NETWORK_DEFAULTS["n_in"]}}) == parse_config({})
