"""Every invalid config is one ConfigError naming the dotted path, with a one-line human message."""

from __future__ import annotations

import pytest

from hwsnn.config import RunConfig, load_config, parse_config
from hwsnn.errors import ConfigError

CASES = [
    # (document, field, message or None (only the field is checked), substrings of the message)
    ({"synapse": {"crossbar": {"io": {"adc_bits": 0}}}}, "synapse.crossbar.io.adc_bits", "must be >= 1, got 0", ()),
    ({"synapse": {"crossbar": {"io": {"adc_range": [2.0, 1.0]}}}}, "synapse.crossbar.io.adc_range", None, ("lo < hi",)),
    ({"synapse": {"crossbar": {"mapping": {"scheme": "single"}}}}, "synapse.crossbar.mapping.scheme", None,
     ("must be one of", "'differential'", "got 'single'")),
    ({"synapse": {"crossbar": {"periphery": {}}}}, "synapse.crossbar.periphery", None,
     ("unknown field 'periphery'", "io")),
    ({"synapse": {"device": {"params": {"nu_mean": 0.1}}}}, "synapse.device.params.nu_mean", None,
     ("unknown field 'nu_mean'", "known:", "drift_nu_mean", "g_min")),
    ({"synapse": {"device": {"params": {"g_min": 1e-6}}}}, "synapse.device.params.g_min", None, ("g_max",)),
    ({"synapse": {"device": {"params": {"update_model": "magic"}}}}, "synapse.device.params.update_model", None,
     ("magic",)),
    ({"synapse": {"device": {"preset": "unobtainium"}}}, "synapse.device.preset", None, ("unobtainium", "sto")),
    ({"synapse": {"backend": "analog"}}, "synapse.backend", None, ("'crossbar'", "got 'analog'")),
    ({"synapse": {"integer": {"w_bits": 1}}}, "synapse.integer.w_bits", "must be >= 2, got 1", ()),
    ({"synapse": {"write_back": {"every": 0}}}, "synapse.write_back.every", "must be >= 1, got 0", ()),
    ({"rules": [{"kind": "triplet_stdp"}, {"kind": "triplet_stdp", "tau_pre": 0.0}]}, "rules[1].tau_pre",
     "must be > 0.0, got 0.0", ()),
    ({"rules": [{"kind": "triplet_stdp", "nu_mean": 1.0}]}, "rules[0].nu_mean", None, ("unknown field", "nu_pre")),
    ({"rules": [{"kind": "no_such_rule"}]}, "rules[0].kind", None, ("no_such_rule", "triplet_stdp")),
    ({"rules": [{"nu_pre": 0.1}]}, "rules[0].kind", None, ("required", "triplet_stdp")),
    ({"rules": [5]}, "rules[0]", None, ("must be a table",)),
    ({"rules": [{"kind": ["triplet_stdp"]}]}, "rules[0].kind", "must be a string, got ['triplet_stdp']", ()),
    ({"neuron": {"model": {}}}, "neuron.model", "must be a string, got a table", ()),
    ({"epochs": 3}, "epochs", None, ("unknown section 'epochs'",)),
    ({"rules": {"kind": "triplet_stdp"}}, "rules", None, ("must be a list",)),
    ({"network": 5}, "network", "must be a table, got 5", ()),
    ({"synapse": {"crossbar": 3}}, "synapse.crossbar", "must be a table, got 3", ()),
    ({"netwrk": {"n_exc": 3}}, "netwrk", None, ("unknown section 'netwrk'", "network", "synapse")),
    ({"network": {"n_exc": 0}}, "network.n_exc", "must be >= 1, got 0", ()),
    ({"network": {"n_exc": True}}, "network.n_exc", "must be an integer, got true", ()),
    ({"network": {"n_exc": 2.5}}, "network.n_exc", "must be an integer, got 2.5", ()),
    ({"network": {"efficacy": "2"}}, "network.efficacy", "must be a number, got '2'", ()),
    ({"network": {"efficacy": float("nan")}}, "network.efficacy", "must be finite, got nan", ()),
    ({"network": {"w_init_max": 2.0}}, "network.w_init_max", None, ("w_max",)),
    ({"neuron": {"tau_m": -0.1}}, "neuron.tau_m", "must be > 0.0, got -0.1", ()),
    ({"neuron": {"model": "hodgkin_huxley"}}, "neuron.model", None, ("hodgkin_huxley", "diehl_cook")),
    ({"neuron": {"inhibitory": {"tau_m": 0.0}}}, "neuron.inhibitory.tau_m", None, ("> 0",)),
    ({"neuron": {"v_reset": -0.04}}, "neuron.v_reset", None, ("v_thresh",)),
    ({"neuron": 7}, "neuron", "must be a table, got 7", ()),
    ({"neuron": {"tau_m": "0.1"}}, "neuron.tau_m", "must be a number, got '0.1'", ()),
    ({"neuron": {"inhibitory": {"tau_m": True}}}, "neuron.inhibitory.tau_m", "must be a number, got true", ()),
    ({"rules": [{"kind": "triplet_stdp", "nu_pre": True}]}, "rules[0].nu_pre", "must be a number, got true", ()),
    ({"synergy": {"eta": True}}, "synergy.eta", "must be a number, got true", ()),
    ({"synergy": {"lambdas": [1.0, 1.0]}}, "synergy.lambdas", None, ("one value per rule",)),
    ({"homeostasis": {"norm_per_input": 1.5}}, "homeostasis.norm_per_input", None, ("network.w_max",)),
    ({"schedule": {"t_present": 1e-4}}, "schedule.t_present", None, ("dt",)),
    ({"schedule": {"dt": 1e-3, "max_rate": 1500.0}}, "schedule.max_rate", None, ("1/dt", "1000")),
    ({"schedule": {"fast_forward": 1}}, "schedule.fast_forward", "must be true or false, got 1", ()),
    ({"task": {"seeds": []}}, "task.seeds", "must not be empty", ()),
    ({"task": {"seeds": [1, 1]}}, "task.seeds", None, ("repeat",)),
    ({"task": {"seeds": [0, -1]}}, "task.seeds[1]", "must be >= 0, got -1", ()),
    ({"task": {"dataset": "cifar"}}, "task.dataset", None, ("'digits'", "'mnist'")),
    ({"task": {}, "network": {"nu_pre": 1e-4}}, "network.nu_pre", "renamed; use rules[0].nu_pre", ()),
    ({"task": {}, "network": {"tau_m": 100.0}}, "network.tau_m", None, ("neuron.tau_m", "in s, not ms")),
    ({"task": {}, "network": {"adc_bits": 8}}, "network.adc_bits", "removed; use synapse.crossbar.io.adc_bits", ()),
]


@pytest.mark.parametrize("doc, field, message, parts", CASES, ids=[c[1] for c in CASES])
def test_error_names_dotted_path(doc, field, message, parts):
    with pytest.raises(ConfigError) as ei:
        parse_config(doc)
    err = ei.value
    assert err.field == field, str(err)
    if message is not None:
        assert err.message == message
    for p in parts:
        assert p in err.message, err.message
    text = str(err)
    assert "\n" not in text and "pydantic" not in text.lower() and "Input should" not in text
    assert text == f"{field}: {err.message}"


def test_override_paths_and_errors():
    cfg = load_config(None, {"network.n_exc": 25, "synapse.crossbar.io.adc_bits": 8, "rules[0].nu_post": 0.1,
                             "synapse.device.params.read_noise": 0.0})
    assert cfg.network.n_exc == 25 and cfg.synapse.crossbar.io.adc_bits == 8
    assert cfg.rules[0].nu_post == 0.1 and cfg.synapse.device.resolve().read_noise == 0.0
    # the default file sets nu_pre; the override leaves the rest of the rule alone
    assert cfg.rules[0].nu_pre == 1e-4 and cfg.rules[0].nu_post_crossbar == 0.15
    for ov, field in [({"synapse.crossbar.io.adc_bits": 0}, "synapse.crossbar.io.adc_bits"),
                      ({"rules[3].nu_post": 0.1}, "rules[3]"),
                      ({"network.n_exc.x": 1}, "network.n_exc"),
                      ({"rules[x].nu_post": 1}, "rules[x].nu_post")]:
        with pytest.raises(ConfigError) as ei:
            load_config(None, ov)
        assert ei.value.field == field, str(ei.value)


def test_override_creates_default_rule_list():
    cfg = parse_config({}, {"rules[0].tau_pre": 0.01})
    assert cfg.rules[0].kind == "triplet_stdp" and cfg.rules[0].tau_pre == 0.01 and len(cfg.rules) == 1


def test_python_construction_and_replace():
    cfg = RunConfig()
    assert cfg.synapse.device.resolve().g_min == 3e-9
    c2 = cfg.replace(network={"n_exc": 7})
    assert c2.network.n_exc == 7 and c2.rules == cfg.rules and c2.synapse == cfg.synapse
    with pytest.raises(ConfigError) as ei:
        cfg.replace(network={"n_exc": 0})
    assert ei.value.field == "network.n_exc"
    with pytest.raises(ConfigError) as ei:
        cfg.network.replace(w_init_max=5.0)
    assert ei.value.field == "w_init_max"
    assert cfg.crossbar is cfg.synapse.crossbar and cfg.device == cfg.synapse.device.resolve()
    assert cfg.synapse.integer.format().w_bits == 8


def test_frozen():
    cfg = RunConfig()
    with pytest.raises(Exception):
        cfg.network.n_exc = 3  # type: ignore[misc]
    with pytest.raises(Exception):
        cfg.synapse.crossbar.io.adc_bits = 3  # type: ignore[misc]


def test_int8_alias_gives_a_note():
    from hwsnn.config import parse_config_with_notes

    cfg, notes = parse_config_with_notes({"synapse": {"backend": "int8"}, "task": {"baseline": "int8"}})
    assert cfg.synapse.backend == "integer" and cfg.task.baseline == "integer"
    assert any("synapse.backend" in n and "integer" in n for n in notes)
    assert any("task.baseline" in n for n in notes)
    assert parse_config_with_notes({})[1] == []


def test_python_construction_raises_config_error():
    from hwsnn.config import NetworkSection

    with pytest.raises(ConfigError) as ei:
        NetworkSection(n_exc=0)
    assert str(ei.value) == "n_exc: must be >= 1, got 0"
    with pytest.raises(ConfigError) as ei:
        RunConfig(synapse={"crossbar": {"io": {"adc_bits": 0}}})
    assert str(ei.value) == "synapse.crossbar.io.adc_bits: must be >= 1, got 0"
    with pytest.raises(ConfigError) as ei:
        RunConfig(rules=[{"kind": "triplet_stdp"}, {"kind": "triplet_stdp", "nu_pre": -1.0}])
    assert ei.value.field == "rules[1].nu_pre"


def test_hash_and_with_overrides():
    a, b = load_config(), load_config()
    assert a == b and hash(a) == hash(b)
    c = a.with_overrides({"synapse.device.params.read_noise": 0.0, "network.n_exc": 10})
    assert c != a and c.network.n_exc == 10 and c.synapse.device.resolve().read_noise == 0.0
    assert c.task == a.task and c.rules == a.rules
    assert len({a, b, c}) == 2
