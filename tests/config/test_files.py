"""File-level failures: one ConfigError("config", ...) naming the file and what is wrong."""

from __future__ import annotations

import pytest

from hwsnn.config import load_config, load_config_with_notes, parse_assignment, preset_path
from hwsnn.errors import ConfigError


def _err(path) -> ConfigError:
    with pytest.raises(ConfigError) as ei:
        load_config(path)
    assert ei.value.field == "config"
    assert "\n" not in str(ei.value)
    return ei.value


def test_missing_file(tmp_path):
    e = _err(tmp_path / "nope.toml")
    assert "file not found" in e.message and "nope.toml" in e.message


def test_directory(tmp_path):
    e = _err(tmp_path)
    assert "directory" in e.message


def test_non_utf8(tmp_path):
    p = tmp_path / "latin1.toml"
    p.write_bytes('[task]\ndataset = "digits"  # caf\u00e9\n'.encode("latin-1"))
    e = _err(p)
    assert "latin1.toml" in e.message and "not UTF-8" in e.message
    assert "0xe9" in e.message and "line 2" in e.message and "column 26" in e.message


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf[network]\nn_exc = 12\n")
    assert load_config(p).network.n_exc == 12


def test_invalid_toml(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[network]\nn_exc = = 3\n", encoding="utf-8")
    e = _err(p)
    assert "broken.toml" in e.message and "not valid TOML" in e.message and "line 2" in e.message


def test_wrong_shape_in_a_file(tmp_path):
    p = tmp_path / "shape.toml"
    p.write_text("task = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    assert str(ei.value) == "task: must be a table, got 5"


def test_shipped_presets_load_without_notes():
    for name in ("default", "mnist100", "mnist400"):
        cfg, notes = load_config_with_notes(preset_path(name))
        assert notes == [] and cfg.task.dataset == ("digits" if name == "default" else "mnist")
    with pytest.raises(ConfigError) as ei:
        preset_path("mnist9000")
    assert "mnist100" in ei.value.message


def test_parse_assignment():
    assert parse_assignment("synapse.crossbar.io.adc_bits=8") == ("synapse.crossbar.io.adc_bits", 8)
    assert parse_assignment("task.seeds = [1, 2]") == ("task.seeds", [1, 2])
    assert parse_assignment("synapse.device.preset=ideal") == ("synapse.device.preset", "ideal")
    assert parse_assignment("rules[0].nu_post=1e-2") == ("rules[0].nu_post", 0.01)
    with pytest.raises(ConfigError):
        parse_assignment("no_equals_sign")
