"""Run configuration of the learning engine: typed sections, one validation layer, TOML in and out.

>>> from hwsnn.config import load_config, dump_toml
>>> cfg = load_config(None, {"network.n_exc": 25, "synapse.crossbar.io.adc_bits": 8})
>>> cfg.network.n_exc, cfg.synapse.crossbar.io.adc_bits, cfg.schedule.dt
(25, 8, 0.0005)

* :class:`RunConfig` and its sections (:mod:`hwsnn.config.schema`) -- SI units throughout;
* :func:`load_config` / :func:`parse_config` -- a file (or the embedded default) / a parsed TOML
  document to a validated config; every mistake is one :class:`hwsnn.errors.ConfigError` whose
  ``field`` is the dotted path (``synapse.crossbar.io.adc_bits``, ``rules[1].tau_pre``);
* :func:`load_config_with_notes` / :func:`parse_config_with_notes` -- the same plus the list of
  deprecation notes (legacy ``[run]`` + ``[network]`` files, old names) for the CLI to print;
* :func:`dump_toml` -- the fully resolved config as TOML that :func:`load_config` accepts back;
* :func:`config_reference_markdown` -- the Markdown reference of every section and field.

The package imports its submodules lazily: :mod:`hwsnn.config.errors` and
:mod:`hwsnn.config.types` are leaves that model modules elsewhere (``hwsnn.crossbar.config``) use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RunConfig": "schema", "TaskSection": "schema", "NetworkSection": "schema", "HomeostasisSection": "schema",
    "ScheduleSection": "schema", "SynapseSection": "schema", "IntegerSection": "schema",
    "DeviceSection": "schema", "WriteBackSection": "schema", "BACKENDS": "schema",
    "load_config": "loader", "load_config_with_notes": "loader", "parse_config": "loader",
    "parse_config_with_notes": "loader", "dump_toml": "loader", "to_plain": "loader", "apply_overrides": "loader",
    "parse_assignment": "loader", "preset_path": "loader", "list_config_presets": "loader",
    "read_toml": "loader",
    "is_legacy": "legacy", "convert_legacy": "legacy",
    "config_reference_markdown": "reference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'hwsnn.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hwsnn.config.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
