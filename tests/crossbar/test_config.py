"""Config validation: every bad value raises ConfigError naming its dotted field."""

from __future__ import annotations

import dataclasses

import pytest

from hwsnn.crossbar import Crossbar, CrossbarConfig, IOConfig, MappingConfig, UpdateConfig
from hwsnn.devices import get_preset
from hwsnn.errors import ConfigError


def test_defaults_are_valid():
    c = CrossbarConfig()
    assert c.mapping.scheme == "differential" and (c.mapping.w_min, c.mapping.w_max) == (0.0, 1.0)
    assert c.io.dac_bits == 1 and c.io.ir_drop is False


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [
        (IOConfig, {"adc_bits": 0}, "io.adc_bits"),
        (IOConfig, {"adc_bits": -3}, "io.adc_bits"),
        (IOConfig, {"adc_bits": 2.5}, "io.adc_bits"),
        (IOConfig, {"dac_bits": 0}, "io.dac_bits"),
        (IOConfig, {"r_wire": -1.0}, "io.r_wire"),
        (IOConfig, {"r_wire": float("nan")}, "io.r_wire"),
        (IOConfig, {"v_read": 0.0}, "io.v_read"),
        (IOConfig, {"out_noise": -0.1}, "io.out_noise"),
        (IOConfig, {"adc_range": (1.0, 1.0)}, "io.adc_range"),
        (IOConfig, {"adc_range": (0.0,)}, "io.adc_range"),
        (IOConfig, {"adc_clip": "wrap"}, "io.adc_clip"),
        (IOConfig, {"read_noise": "none"}, "io.read_noise"),
        (IOConfig, {"ir_drop": 1}, "io.ir_drop"),
        (MappingConfig, {"scheme": "single"}, "mapping.scheme"),
        (MappingConfig, {"w_min": 0.1}, "mapping.w_min"),
        (MappingConfig, {"w_min": -1.0, "w_max": -0.5}, "mapping.w_max"),
        (MappingConfig, {"w_max": 0.0}, "mapping.w_max"),
        (MappingConfig, {"levels": 1}, "mapping.levels"),
        (UpdateConfig, {"verify_tol": 0.0}, "update.verify_tol"),
        (UpdateConfig, {"verify_max_iter": 0}, "update.verify_max_iter"),
        (UpdateConfig, {"dw_step": -0.01}, "update.dw_step"),
        (UpdateConfig, {"depress": "both"}, "update.depress"),
        (UpdateConfig, {"pulse_scheme": "diagonal"}, "update.pulse_scheme"),
        (UpdateConfig, {"verify_wait": -1.0}, "update.verify_wait"),
    ],
)
def test_bad_field_names_itself(cls, kwargs, field):
    with pytest.raises(ConfigError) as ei:
        cls(**kwargs)
    assert ei.value.field == field


def test_replace_revalidates():
    with pytest.raises(ConfigError, match="io.adc_bits"):
        dataclasses.replace(IOConfig(), adc_bits=0)


def test_from_dict_roundtrip_and_unknown_keys():
    c = CrossbarConfig(io=IOConfig(adc_bits=6, adc_range=(-2.0, 3.0)), mapping=MappingConfig(scheme="reference"))
    assert CrossbarConfig.from_dict(c.as_dict()) == c
    with pytest.raises(ConfigError) as ei:
        CrossbarConfig.from_dict({"io": {"adc_bitz": 3}})
    assert ei.value.field == "io.adc_bitz"
    with pytest.raises(ConfigError) as ei:
        CrossbarConfig.from_dict({"periphery": {}})
    assert ei.value.field == "periphery"
    with pytest.raises(ConfigError) as ei:
        CrossbarConfig.from_dict({"io": {"adc_bits": 0}})
    assert ei.value.field == "io.adc_bits"


@pytest.mark.parametrize(
    "kwargs, field",
    [({"n_in": 0}, "n_in"), ({"n_out": -1}, "n_out"), ({"n_in": 2.0}, "n_in"), ({"config": {"io": {}}}, "config"),
     ({"seed": -1}, "seed"), ({"device": 3}, "device")],
)
def test_crossbar_constructor_errors(kwargs, field):
    args = {"device": get_preset("ideal"), "n_in": 3, "n_out": 2, **kwargs}
    with pytest.raises(ConfigError) as ei:
        Crossbar(args.pop("device"), args.pop("n_in"), args.pop("n_out"), **args)
    assert ei.value.field == field


def test_unknown_preset_name_is_config_error():
    with pytest.raises(ConfigError):
        Crossbar("no-such-device", 2, 2)


def test_still_dataclasses_with_plain_defaults():
    """The pydantic conversion keeps the dataclass API the rest of the code uses."""
    for cls in (MappingConfig, IOConfig, UpdateConfig, CrossbarConfig):
        assert dataclasses.is_dataclass(cls)
    io = {f.name: f.default for f in dataclasses.fields(IOConfig)}
    assert io["adc_bits"] is None and io["dac_bits"] == 1 and io["v_read"] == 0.1 and io["ir_max_iter"] == 10000
    c = CrossbarConfig()
    assert dataclasses.asdict(c)["io"]["adc_clip"] == "saturate"
    assert hash(c) == hash(CrossbarConfig()) and c == CrossbarConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.io.adc_bits = 3  # type: ignore[misc]


def test_replace_method_and_nested_dataclasses_replace():
    c = CrossbarConfig()
    d = dataclasses.replace(c, mapping=dataclasses.replace(c.mapping, w_min=-1.0, w_max=2.0))
    assert d.mapping.w_span == 2.0 and d.io == c.io
    assert c.replace(io=c.io.replace(adc_bits=5)).io.adc_bits == 5
    with pytest.raises(ConfigError) as ei:
        c.mapping.replace(w_min=-1.0, w_max=-2.0)
    assert ei.value.field == "mapping.w_max"


def test_types_are_strict_and_messages_one_line():
    cases = [(IOConfig, {"v_read": "0.1"}, "io.v_read", "must be a number"),
             (IOConfig, {"dac_bits": True}, "io.dac_bits", "must be an integer"),
             (IOConfig, {"adc_bits": 31}, "io.adc_bits", "must be <= 30, got 31"),
             (UpdateConfig, {"stochastic_rounding": "yes"}, "update.stochastic_rounding", "must be true or false"),
             (MappingConfig, {"levels": 2.0}, "mapping.levels", "must be an integer")]
    for cls, kw, field, msg in cases:
        with pytest.raises(ConfigError) as ei:
            cls(**kw)
        assert ei.value.field == field and msg in ei.value.message and "\n" not in str(ei.value)
    assert IOConfig(v_read=1).v_read == 1.0 and isinstance(IOConfig(v_read=1).v_read, float)


def test_from_dict_accepts_toml_lists_and_rejects_non_tables():
    c = CrossbarConfig.from_dict({"io": {"adc_range": [0, 4]}})
    assert c.io.adc_range == (0.0, 4.0)
    with pytest.raises(ConfigError) as ei:
        CrossbarConfig.from_dict([1, 2])
    assert ei.value.field == "crossbar"
    with pytest.raises(ConfigError) as ei:
        CrossbarConfig.from_dict({"io": 3})
    assert ei.value.field == "io" and "must be a table" in ei.value.message
    assert IOConfig.from_dict({"adc_bits": 4}) == IOConfig(adc_bits=4)
