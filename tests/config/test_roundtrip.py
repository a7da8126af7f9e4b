"""dump_toml -> parse gives back an equal config; None values round-trip by omission."""

from __future__ import annotations

import dataclasses
import tomllib
import typing

import pytest

from hwsnn.config import RunConfig, dump_toml, load_config, parse_config
from hwsnn.config.errors import fields_of
from hwsnn.devices import get_preset
from hwsnn.io import write_json


def _fit_file(tmp_path):
    """A parameter file as ``hwsnn device fit`` writes it (``write_json(dest, params.as_dict())``)."""
    params = get_preset("sto").replace(g_max=55e-9, p_max=80.0, nl_ltp=1.5)
    return write_json(tmp_path / "fit" / "device_params.json", params.as_dict()), params


def _nontrivial(tmp_path) -> dict:
    path, _ = _fit_file(tmp_path)
    return {
        "task": {"dataset": "mnist", "seeds": [5, 2], "epochs": 1, "baseline": "none", "curve": "test"},
        "network": {"n_exc": 40, "inhibition": "population", "w_max": 0.8, "w_init_max": 0.2},
        "neuron": {"model": "diehl_cook", "tau_m": 0.08, "inhibitory": {"v_thresh": -0.039}},
        "homeostasis": {"theta_plus": 7e-5, "norm_per_input": 0.0},
        "schedule": {"dt": 1e-3, "max_rate": 200.0, "fast_forward": False},
        "rules": [{"kind": "triplet_stdp", "nu_post": 0.05, "tau_pre": 0.015},
                  {"kind": "triplet_stdp", "nu_pre": 0.0, "nu_post": 0.001, "tau_post2": 0.1}],
        "synapse": {
            "backend": "crossbar",
            "integer": {"w_bits": 6},
            "device": {"file": str(path), "params": {"read_noise": 0.03, "levels": 32}},
            "crossbar": {"mapping": {"scheme": "reference", "levels": 64},
                         "io": {"adc_bits": 6, "adc_range": [-1.0, 12.5], "ir_drop": True, "r_wire": 2.0},
                         "update": {"dw_step": 0.01, "depress": "set_minus"}},
            "write_back": {"every": 4, "norm": "both"},
        },
    }


def test_default_round_trip():
    cfg = load_config()
    text = dump_toml(cfg)
    assert text.startswith("#")
    back = parse_config(tomllib.loads(text))
    assert back == cfg
    assert dump_toml(back) == text


def test_nontrivial_round_trip(tmp_path):
    cfg = parse_config(_nontrivial(tmp_path))
    assert cfg != RunConfig()
    assert cfg.synapse.crossbar.io.adc_bits == 6 and cfg.synapse.crossbar.io.adc_range == (-1.0, 12.5)
    assert len(cfg.rules) == 2 and cfg.rules[1].tau_post2 == 0.1
    text = dump_toml(cfg)
    back = parse_config(tomllib.loads(text))
    assert back == cfg
    assert back.synapse.device.resolve() == cfg.synapse.device.resolve()
    # and through a file in another folder (the device file path is absolute in the dump)
    out = tmp_path / "elsewhere" / "resolved.toml"
    out.parent.mkdir()
    out.write_text(text, encoding="utf-8")
    assert load_config(out) == cfg


def test_device_file_is_resolved_relative_to_the_config(tmp_path):
    path, params = _fit_file(tmp_path)
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text('[synapse.device]\nfile = "fit/device_params.json"\n[synapse.device.params]\nd2d = 0.0\n',
                        encoding="utf-8")
    cfg = load_config(cfg_file)
    assert cfg.synapse.device.resolve() == params.replace(d2d=0.0)
    assert cfg.synapse.device.resolve().g_max == 55e-9


def test_resolve_applies_preset_then_overrides():
    cfg = parse_config({"synapse": {"device": {"preset": "aihwkit_pcm", "params": {"drift_t0": 5.0}}}})
    assert cfg.synapse.device.resolve() == get_preset("aihwkit_pcm").replace(drift_t0=5.0)


def test_device_file_errors(tmp_path):
    from hwsnn.errors import ConfigError

    path, _ = _fit_file(tmp_path)
    with pytest.raises(ConfigError) as ei:
        parse_config({"synapse": {"device": {"file": str(path), "preset": "ideal"}}})
    assert ei.value.field == "synapse.device.file" and "not both" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        parse_config({"synapse": {"device": {"file": str(tmp_path / "nope.json")}}})
    assert ei.value.field == "synapse.device.file" and "not found" in ei.value.message
    bad = tmp_path / "bad.json"
    bad.write_text('{"g_min": 1.0, "g_max": 0.5}', encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        parse_config({"synapse": {"device": {"file": str(bad)}}})
    assert ei.value.field == "synapse.device.file" and "g_min" in ei.value.message and "bad.json" in ei.value.message


def test_dump_has_no_none_and_every_optional_defaults_to_none():
    """The documented None representation: an Optional field is left out, which reads back as None."""
    text = dump_toml(RunConfig())
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "None" not in body and "null" not in body
    assert "adc_bits" not in text.split("[synapse.crossbar.io]")[1].split("[")[0]

    seen = set()

    def walk(tp):
        fields = fields_of(tp)
        if not fields or tp in seen:
            return
        seen.add(tp)
        for name, fi in fields.items():
            if type(None) in typing.get_args(fi.annotation):
                assert fi.default is None, f"{tp.__name__}.{name}"
            walk(fi.annotation)
            for a in typing.get_args(fi.annotation):
                walk(a)

    from hwsnn.engine.contract import neuron_class, neuron_models, rule_class, rule_kinds

    walk(RunConfig)
    for m in neuron_models():
        walk(neuron_class(m))
    for k in rule_kinds():
        walk(rule_class(k))
    assert any(getattr(t, "__name__", "") == "IOConfig" for t in seen)


def test_to_plain_matches_dataclass_view():
    from hwsnn.config import to_plain

    cfg = RunConfig()
    plain = to_plain(cfg)
    assert plain["synapse"]["crossbar"]["io"] == {k: v for k, v in dataclasses.asdict(cfg.synapse.crossbar.io).items()
                                                  if v is not None}
    assert plain["rules"] == [cfg.rules[0].model_dump()]


def test_no_rules_round_trips():
    cfg = parse_config({"rules": []})
    assert cfg.rules == ()
    text = dump_toml(cfg)
    assert "rules = []" in text
    assert parse_config(tomllib.loads(text)) == cfg


def test_every_shipped_preset_loads_cleanly_and_round_trips():
    from hwsnn.config import list_config_presets, load_config_with_notes, preset_path

    names = list_config_presets()
    assert {"default", "mnist100", "mnist400"} <= set(names)
    for name in names:
        cfg, notes = load_config_with_notes(preset_path(name))
        assert notes == [], name
        assert parse_config(tomllib.loads(dump_toml(cfg))) == cfg, name
