"""Open registries (a rule defined here is selectable from TOML) and the generated reference."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Literal

import pytest
from pydantic import Field

from hwsnn.config import RunConfig, config_reference_markdown, dump_toml, parse_config
from hwsnn.config.errors import fields_of
from hwsnn.engine import contract
from hwsnn.engine.contract import Rule, TraceSpec, register_rule
from hwsnn.errors import ConfigError


@pytest.fixture
def hebb_rule():
    @register_rule
    class TestHebb(Rule):
        """A test-only Hebbian rule: ``dw = eta * x_pre`` on a postsynaptic spike."""

        kind: Literal["test_hebb"] = "test_hebb"
        eta: float = Field(0.5, gt=0)
        """Learning rate (weight units)."""
        tau: float = Field(0.02, gt=0)
        """Trace time constant (s)."""
        cap: float | None = None
        """Optional weight cap (None = no cap); None must round-trip through TOML (by omission)."""

        def traces(self):
            return (TraceSpec("pre", self.tau),)

    yield TestHebb
    contract._RULES.pop("test_hebb", None)


TOML = """
[[rules]]
kind = "triplet_stdp"
nu_post = 0.01

[[rules]]
kind = "test_hebb"
eta = 0.25
"""


def test_rule_defined_in_a_test_is_selectable_from_toml(hebb_rule):
    cfg = parse_config(tomllib.loads(TOML))
    assert [r.kind for r in cfg.rules] == ["triplet_stdp", "test_hebb"]
    assert isinstance(cfg.rules[1], hebb_rule) and cfg.rules[1].eta == 0.25 and cfg.rules[1].tau == 0.02
    assert cfg.rules[1].cap is None
    assert parse_config(tomllib.loads(dump_toml(cfg))) == cfg
    capped = cfg.with_overrides({"rules[1].cap": 0.5})
    assert capped.rules[1].cap == 0.5 and parse_config(tomllib.loads(dump_toml(capped))) == capped
    with pytest.raises(ConfigError) as ei:
        parse_config(tomllib.loads(TOML.replace("eta = 0.25", "eta = -1.0")))
    assert str(ei.value) == "rules[1].eta: must be > 0.0, got -1.0"
    with pytest.raises(ConfigError) as ei:
        parse_config(tomllib.loads(TOML.replace("eta = 0.25", "etta = 0.25")))
    assert ei.value.field == "rules[1].etta" and "eta" in ei.value.message
    assert "test_hebb" in config_reference_markdown(builtin_only=False)
    assert "test_hebb" not in config_reference_markdown()  # docs/config.md lists the shipped rules only


def test_rule_not_registered_is_unknown():
    with pytest.raises(ConfigError) as ei:
        parse_config(tomllib.loads(TOML))
    assert ei.value.field == "rules[1].kind" and "test_hebb" in ei.value.message


def test_reference_lists_every_section_and_field():
    md = config_reference_markdown()
    from hwsnn.devices.params import DeviceParams
    from hwsnn.engine.contract import neuron_class, neuron_models, rule_class, rule_kinds

    def check(path, tp):
        for name, fi in fields_of(tp).items():
            assert f"| `{name}` |" in md, f"{path}.{name}"
            if fi.description:
                assert " ".join(fi.description.split())[:40].replace("|", "\\|") in md, f"{path}.{name}"
            sub = fields_of(fi.annotation)
            if sub is not None and name not in ("neuron",):
                check(f"{path}.{name}", fi.annotation)

    sections = [s for s in RunConfig.model_fields if s not in ("neuron", "rules")]
    assert {"task", "network", "homeostasis", "schedule", "synapse"} <= set(sections)
    for section in sections:
        assert f"## `{section}`" in md
        check(section, RunConfig.model_fields[section].annotation)
    for sub in ("synapse.integer", "synapse.device", "synapse.device.params", "synapse.crossbar",
                "synapse.crossbar.mapping", "synapse.crossbar.io", "synapse.crossbar.update", "synapse.write_back"):
        assert f"`{sub}`" in md
    shipped = lambda cls: cls.__module__.startswith("hwsnn.")  # noqa: E731  (tests may register their own)
    for m in neuron_models():
        if shipped(neuron_class(m)):
            assert f'`model = "{m}"`' in md
            check("neuron", neuron_class(m))
    for k in rule_kinds():
        if shipped(rule_class(k)):
            assert f'`kind = "{k}"`' in md
            check("rules", rule_class(k))
    for f in dataclasses.fields(DeviceParams):
        assert f"| `{f.name}` |" in md
    # constraints and defaults come from the models
    assert "| `adc_bits` | integer or none (leave out) | none | >= 1, <= 30 |" in md
    assert "| `dt` | number | `0.0005` | > 0, <= 0.01 | Time step (s). |" in md
