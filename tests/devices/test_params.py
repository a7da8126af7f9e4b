"""DeviceParams validation, the NeuroSim NL label, presets."""

import dataclasses
import json
import math

import pytest

from hwsnn.devices import DeviceParams, a_to_nl, get_preset, list_presets, nl_to_a, preset_doc
from hwsnn.errors import ConfigError

# A/Pmax for NeuroSim labels (Pmax = 100), read off NeuroSim's getParamA table
NEUROSIM_TABLE = [(0.5, 2.520), (1, 1.252), (1.75, 0.702), (2, 0.609), (2.4, 0.499), (3, 0.387), (4.88, 0.200)]


@pytest.mark.parametrize("nl,a_ref", NEUROSIM_TABLE)
def test_nl_label_matches_neurosim_table(nl, a_ref):
    assert nl_to_a(nl) == pytest.approx(a_ref, rel=0.02)


@pytest.mark.parametrize("nl,a_ref", NEUROSIM_TABLE)
def test_nl_label_first_last_step_ratio(nl, a_ref):
    # NeuroSim table: first/last step ratio = exp((Pmax-1)/A) for Pmax = 100
    a = nl_to_a(nl) * 100
    ratio = math.exp(99 / a)
    assert ratio == pytest.approx(math.exp(99 / (a_ref * 100)), rel=0.08)


def test_nl_roundtrip_and_linear_limit():
    for nl in [0.01, 0.3, 1.0, 2.0, 5.0, 9.0]:
        assert a_to_nl(nl_to_a(nl)) == pytest.approx(nl, rel=1e-9)
    assert math.isinf(nl_to_a(0.0)) and a_to_nl(math.inf) == 0.0


@pytest.mark.parametrize(
    "field,value",
    [
        ("g_min", 50e-9),  # >= g_max
        ("g_min", -1e-9),
        ("c2c_mult", -0.1),
        ("c2c_add", -1.0),
        ("read_noise", -0.01),
        ("d2d", -0.1),
        ("drift_nu_std", -1.0),
        ("p_max", 0.0),
        ("st_tau", 0.0),
        ("g_max", float("nan")),
        ("read_noise", float("inf")),
        ("levels", 1),
        ("levels", 2.5),
        ("update_model", "bogus"),
        ("drift_model", "x"),
        ("read_noise_model", "y"),
        ("p_stuck_min", 0.8),
        ("st_amp", 0.9),
        ("c2c_mult", "big"),
        ("nl_ltp", 12.0),
    ],
)
def test_bad_parameters_raise_config_error_naming_the_field(field, value):
    kwargs = {field: value}
    if field == "p_stuck_min":
        kwargs["p_stuck_max"] = 0.5
    with pytest.raises(ConfigError) as ei:
        DeviceParams(**kwargs)
    assert ei.value.field == field
    assert field in str(ei.value)


def test_frozen_and_replace_validates():
    p = get_preset("sto")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.g_min = 1.0
    with pytest.raises(ConfigError, match="g_min"):
        dataclasses.replace(p, g_min=p.g_max)
    q = p.replace(read_noise=0.05)
    assert q.read_noise == 0.05 and p.read_noise == 0.01


def test_from_dict_and_json(tmp_path):
    p = get_preset("neurosim_agsi")
    f = tmp_path / "p.json"
    f.write_text(json.dumps(p.as_dict()))
    assert DeviceParams.from_json(f) == p
    f.write_text(json.dumps({"params": {"g_max": 1e-7}}))
    assert DeviceParams.from_json(f).g_max == 1e-7
    with pytest.raises(ConfigError) as ei:
        DeviceParams.from_dict({"gmax": 1.0})
    assert ei.value.field == "gmax"
    f.write_text("{not json")
    with pytest.raises(ConfigError, match="params"):
        DeviceParams.from_json(f)
    with pytest.raises(ConfigError, match="not found"):
        DeviceParams.from_json(tmp_path / "missing.json")


def test_presets_named_after_sources():
    names = list_presets()
    assert {"sto", "ideal", "neurosim_agsi", "aihwkit_pcm"} <= set(names)
    for n in names:
        assert isinstance(get_preset(n), DeviceParams)
        assert "Source" in preset_doc(n)
    assert "[CAL]" in preset_doc("sto")
    with pytest.raises(ConfigError) as ei:
        get_preset("nope")
    assert ei.value.field == "preset" and "nope" in str(ei.value)


def test_neurosim_preset_values():
    p = get_preset("neurosim_agsi")
    assert (p.g_min, p.g_max, p.p_max, p.p_max_down, p.nl_ltp, p.nl_ltd) == (3.0769e-9, 3.8462e-8, 97, 100, 2.4, 4.88)
    assert p.c2c_add == 0.035 and p.d2d == 0 and p.read_noise == 0
