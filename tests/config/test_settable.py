"""Every crossbar and device option can be set from TOML (issue #14: no option out of reach)."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
import tomli_w

from hwsnn.config import parse_config
from hwsnn.crossbar import CrossbarConfig
from hwsnn.devices.params import DeviceParams

# a valid non-default value for every field
CROSSBAR = {
    "mapping": {"scheme": "reference", "w_min": -0.5, "w_max": 2.0, "levels": 16},
    "io": {"dac_bits": 4, "v_read": 0.2, "read_noise": "device", "out_noise": 0.01, "adc_bits": 7,
           "adc_range": [-3.0, 9.0], "adc_clip": "none", "ir_drop": True, "r_wire": 3.5, "ir_tol": 1e-6,
           "ir_max_iter": 99},
    "update": {"dw_step": 0.02, "stochastic_rounding": False, "depress": "set_minus", "pulse_scheme": "column",
               "verify_tol": 0.05, "verify_max_iter": 7, "verify_wait": 0.5},
}


def test_every_crossbar_field_settable_from_toml():
    for sec, cls in (("mapping", "MappingConfig"), ("io", "IOConfig"), ("update", "UpdateConfig")):
        names = {f.name for f in dataclasses.fields(getattr(CrossbarConfig(), sec))}
        assert names == set(CROSSBAR[sec]), f"{cls}: test table out of date"
    text = tomli_w.dumps({"synapse": {"crossbar": CROSSBAR}})
    xb = parse_config(tomllib.loads(text)).synapse.crossbar
    default = CrossbarConfig()
    for sec, fields in CROSSBAR.items():
        for name, value in fields.items():
            got = getattr(getattr(xb, sec), name)
            assert got == (tuple(value) if isinstance(value, list) else value), f"{sec}.{name}"
            assert got != getattr(getattr(default, sec), name), f"{sec}.{name} is the default"


def _nondefault(f: dataclasses.Field, v):
    if f.name in ("update_model",):
        return "linear"
    if f.name == "drift_model":
        return "pcm"
    if f.name == "read_noise_model":
        return "pcm1f"
    if f.name == "levels":
        return 32
    if f.name in ("g_min",):
        return 1e-9
    if f.name in ("consol_rate", "drift_g_rest", "p_stuck_min", "p_stuck_max", "p_stuck_random"):
        return 0.1
    if f.name == "st_amp":
        return 0.03
    if f.name in ("nl_ltp", "nl_ltd"):
        return 3.0
    return float(v) * 1.5 if v else 0.25


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(DeviceParams)])
def test_every_device_field_settable_from_toml(field):
    f = next(x for x in dataclasses.fields(DeviceParams) if x.name == field)
    value = _nondefault(f, getattr(DeviceParams(), field))
    text = tomli_w.dumps({"synapse": {"device": {"params": {field: value}}}})
    got = getattr(parse_config(tomllib.loads(text)).synapse.device.resolve(), field)
    assert got == value and got != getattr(DeviceParams(), field)
