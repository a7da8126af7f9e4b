"""The pre-engine run configs: ``[run]`` + ``[network]`` tables with the old flat names in ms/mV.

:func:`convert_legacy` maps such a document onto the new schema (:mod:`hwsnn.config.schema`),
converting units (ms -> s, mV -> V, by decimal arithmetic on the value as written, so
``theta_plus = 0.05`` becomes exactly ``5e-05``) and names (:data:`RUN_FIELDS`,
:data:`NETWORK_FIELDS`).  A legacy field with no new home (:data:`REMOVED`) fails with a message
naming the field to use instead.  The conversion returns deprecation notes for the CLI to print.
:data:`RUN_DEFAULTS` and :data:`NETWORK_DEFAULTS` record what a legacy file meant by leaving a
field out; each converts to the new schema's default, so both formats mean the same by omission.

In a new-format document, a ``[network]`` key that is an old name fails with its new name
(:func:`check_new_format`).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hwsnn.config.errors import show_value
from hwsnn.errors import ConfigError

__all__ = ["RUN_FIELDS", "NETWORK_FIELDS", "REMOVED", "RUN_DEFAULTS", "NETWORK_DEFAULTS", "is_legacy", "convert_legacy", "check_new_format",
           "set_path", "split_path"]

NEW_SECTIONS = ("task", "network", "neuron", "homeostasis", "schedule", "rules", "synapse")

# legacy name -> (new dotted path, unit of the legacy value: "ms", "mV" or "" = unchanged)
RUN_FIELDS: dict[str, tuple[str, str]] = {
    "dataset": ("task.dataset", ""),
    "synapse": ("synapse.backend", ""),
    "baseline": ("task.baseline", ""),
    "seeds": ("task.seeds", ""),
    "epochs": ("task.epochs", ""),
    "curve": ("task.curve", ""),
    "curve_points": ("task.curve_points", ""),
    "n_train": ("task.n_train", ""),
    "n_test": ("task.n_test", ""),
    "kmeans": ("task.kmeans", ""),
}
"""``[run]`` fields of the legacy format."""

NETWORK_FIELDS: dict[str, tuple[str, str]] = {
    "n_exc": ("network.n_exc", ""),
    "dt": ("schedule.dt", "ms"),
    "t_present": ("schedule.t_present", "ms"),
    "t_rest": ("schedule.t_rest", "ms"),
    "max_rate": ("schedule.max_rate", ""),
    "rerun_min_spikes": ("schedule.rerun_min_spikes", ""),
    "rerun_rate_step": ("schedule.rerun_rate_step", ""),
    "rerun_max": ("schedule.rerun_max", ""),
    "fast_forward": ("schedule.fast_forward", ""),
    "tau_m": ("neuron.tau_m", "ms"),
    "v_rest": ("neuron.v_rest", "mV"),
    "v_reset": ("neuron.v_reset", "mV"),
    "v_thresh": ("neuron.v_thresh", "mV"),
    "theta_offset": ("neuron.theta_offset", "mV"),
    "refrac_exc": ("neuron.refractory", "ms"),
    "e_exc": ("neuron.e_exc", "mV"),
    "e_inh": ("neuron.e_inh", "mV"),
    "tau_ge": ("neuron.tau_ge", "ms"),
    "tau_gi": ("neuron.tau_gi", "ms"),
    "tau_m_inh": ("neuron.inhibitory.tau_m", "ms"),
    "v_rest_inh": ("neuron.inhibitory.v_rest", "mV"),
    "v_reset_inh": ("neuron.inhibitory.v_reset", "mV"),
    "v_thresh_inh": ("neuron.inhibitory.v_thresh", "mV"),
    "refrac_inh": ("neuron.inhibitory.refractory", "ms"),
    "tau_ge_inh": ("neuron.inhibitory.tau_ge", "ms"),
    "theta_init": ("homeostasis.theta_init", "mV"),
    "theta_plus": ("homeostasis.theta_plus", "mV"),
    "tau_theta": ("homeostasis.tau_theta", "ms"),
    "norm_per_input": ("homeostasis.norm_per_input", ""),
    "efficacy": ("network.efficacy", ""),
    "inhibition": ("network.inhibition", ""),
    "w_inh_total": ("network.w_inh_total", ""),
    "w_ei": ("network.w_ei", ""),
    "w_ie": ("network.w_ie", ""),
    "w_max": ("network.w_max", ""),
    "w_init_max": ("network.w_init_max", ""),
    "nu_pre": ("rules[0].nu_pre", ""),
    "nu_post": ("rules[0].nu_post", ""),
    "crossbar_nu_post": ("rules[0].nu_post_crossbar", ""),
    "tau_pre": ("rules[0].tau_pre", "ms"),
    "tau_post1": ("rules[0].tau_post1", "ms"),
    "tau_post2": ("rules[0].tau_post2", "ms"),
    "q_bits": ("synapse.integer.w_bits", ""),
    "trace_bits": ("synapse.integer.x_bits", ""),
    "device_preset": ("synapse.device.preset", ""),
    "device_options": ("synapse.device.params", ""),
    "crossbar_options": ("synapse.crossbar", ""),
    "crossbar_refresh": ("synapse.write_back.refresh", ""),
    "write_every": ("synapse.write_back.every", ""),
    "renorm_every": ("synapse.write_back.renorm_every", ""),
    "crossbar_norm": ("synapse.write_back.norm", ""),
    "column_gain": ("synapse.write_back.column_gain", ""),
    "normalize_long_term": ("synapse.write_back.long_term", ""),
}
"""``[network]`` fields of the legacy format."""

REMOVED: dict[str, str] = {
    "adc_bits": "synapse.crossbar.io.adc_bits",
    "read_noise": "synapse.device.params.read_noise",
}
"""Legacy ``[network]`` overrides with no new home: the crossbar's ``io`` and the device's read noise
are the only source now."""

RUN_DEFAULTS: dict[str, Any] = {
    "dataset": "digits", "synapse": "crossbar", "baseline": "ideal", "seeds": [0], "epochs": 3, "curve": "online",
    "curve_points": 4, "n_train": 0, "n_test": 0, "kmeans": True,
}
"""Defaults of the legacy ``[run]`` table (a field a legacy file leaves out had this value)."""

NETWORK_DEFAULTS: dict[str, Any] = {
    "n_in": 64, "n_exc": 100, "dt": 0.5, "t_present": 350.0, "t_rest": 150.0, "max_rate": 127.5,
    "rerun_min_spikes": 5, "rerun_rate_step": 31.875, "rerun_max": 10,
    "tau_m": 100.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -52.0, "theta_offset": 20.0, "theta_init": 20.0,
    "theta_plus": 0.05, "tau_theta": 1e7, "refrac_exc": 5.0, "e_exc": 0.0, "e_inh": -100.0, "tau_ge": 1.0,
    "tau_gi": 2.0, "efficacy": 2.0,
    "inhibition": "direct", "w_inh_total": 3000.0, "w_ei": 10.4, "w_ie": 17.0, "tau_m_inh": 10.0, "v_rest_inh": -60.0,
    "v_reset_inh": -45.0, "v_thresh_inh": -40.0, "refrac_inh": 2.0, "tau_ge_inh": 1.0,
    "nu_pre": 1e-4, "nu_post": 0.02, "tau_pre": 20.0, "tau_post1": 20.0, "tau_post2": 40.0, "w_max": 1.0,
    "w_init_max": 0.3, "norm_per_input": 0.3,
    "q_bits": 8, "trace_bits": 8,
    "device_preset": "sto", "device_options": {}, "crossbar_options": {}, "adc_bits": 0, "read_noise": -1.0,
    "crossbar_refresh": 10, "write_every": 1, "renorm_every": 50, "crossbar_nu_post": 0.15, "crossbar_norm": "down",
    "column_gain": True, "normalize_long_term": True, "fast_forward": True,
}
"""Defaults of the legacy ``[network]`` table, in its units (ms, mV, Hz; ``n_in`` followed the
dataset, ``adc_bits = 0`` / ``read_noise = -1`` meant "the crossbar's / device's own")."""

_INPUTS = {"digits": 64, "mnist": 784}
_NEW_UNIT = {"ms": "s", "mV": "V"}


def split_path(dotted: str) -> list[str | int]:
    """``"rules[0].nu_post"`` -> ``["rules", 0, "nu_post"]`` (raises ConfigError on a malformed path)."""
    parts: list[str | int] = []
    for chunk in str(dotted).split("."):
        name, _, rest = chunk.partition("[")
        if not name and not parts:
            raise ConfigError(dotted, "malformed path (expected section.field, e.g. network.n_exc)")
        if name:
            parts.append(name)
        while rest:
            idx, sep, rest = rest.partition("]")
            if not sep or not idx.isdigit() or (rest and not rest.startswith("[")):
                raise ConfigError(dotted, "malformed path (list index like rules[0])")
            parts.append(int(idx))
            rest = rest[1:]
        if not name and not chunk.startswith("["):
            raise ConfigError(dotted, "malformed path (empty name)")
    if not parts:
        raise ConfigError(str(dotted), "malformed path (empty)")
    return parts


def set_path(data: dict, dotted: str, value: Any, default_rules: list | None = None) -> None:
    """Set ``value`` at a dotted path (``a.b``, ``rules[0].x``) in a nested dict, creating tables.

    A missing ``rules`` list is created as ``default_rules`` (the default rule list) before indexing.
    """
    parts = split_path(dotted)
    cur: Any = data
    done = ""
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(cur, list):
                raise ConfigError(done, f"must be a list to index [{part}], got {show_value(cur)}")
            if part >= len(cur):
                raise ConfigError(f"{done}[{part}]", f"no such item ({done} has {len(cur)})")
            done = f"{done}[{part}]"
            if last:
                cur[part] = value
            else:
                cur = cur[part]
            continue
        if not isinstance(cur, dict):
            raise ConfigError(done or "config", f"must be a table, got {show_value(cur)}")
        done = f"{done}.{part}" if done else part
        if last:
            cur[part] = value
            break
        if part not in cur:
            nxt = parts[k + 1]
            if isinstance(nxt, int):
                if part == "rules" and default_rules is not None:
                    cur[part] = [dict(r) for r in default_rules]
                else:
                    raise ConfigError(done, "is not set, so it has no items to index")
            else:
                cur[part] = {}
        cur = cur[part]


def is_legacy(data: Any) -> bool:
    """True for a ``[run]`` + ``[network]`` document with the old flat names."""
    if not isinstance(data, dict):
        return False
    if "run" in data:
        return True
    net = data.get("network")
    if not isinstance(net, dict):
        return False
    from hwsnn.config.schema import NetworkSection

    new_names = set(NetworkSection.model_fields)
    old_only = [k for k in net if k not in new_names and (k in NETWORK_FIELDS or k in REMOVED or k == "n_in")]
    others = [k for k in data if k != "network"]
    return bool(old_only) and not others


def _convert_unit(value: Any, unit: str, where: str) -> Any:
    if not unit:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(where, f"must be a number ({unit}), got {show_value(value)}")
    if not math.isfinite(value):
        return float(value)  # rejected by the schema
    return float(Decimal(repr(float(value))) / Decimal(1000))


def convert_legacy(data: dict) -> tuple[dict, list[str], dict[str, str]]:
    """A legacy document -> ``(new-format dict, deprecation notes, {new path: legacy path})``."""
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    renamed: list[str] = []
    for key in data:
        if key not in ("run", "network"):
            raise ConfigError(key, "a legacy config ([run] + [network] tables) cannot mix in new sections; "
                                   "convert it with `hwsnn run CONFIG --print-config`")
    default_rules = [{"kind": "triplet_stdp"}]
    for table, fields in (("run", RUN_FIELDS), ("network", NETWORK_FIELDS)):
        sec = data.get(table, {})
        if not isinstance(sec, dict):
            raise ConfigError(table, f"must be a table, got {show_value(sec)}")
        for k, v in sec.items():
            where = f"{table}.{k}"
            if table == "network" and k in REMOVED:
                raise ConfigError(where, f"removed; use {REMOVED[k]}")
            if table == "network" and k == "n_in":
                ds = data.get("run", {}).get("dataset", "digits") if isinstance(data.get("run"), dict) else "digits"
                want = _INPUTS.get(ds)
                if v not in (64, want):
                    raise ConfigError(where, f"removed: the number of inputs follows task.dataset "
                                             f"({want} for {ds!r}), got {show_value(v)}")
                continue
            if k not in fields:
                raise ConfigError(where, f"unknown field {k!r} (known: {', '.join(sorted(fields))})")
            new, unit = fields[k]
            set_path(out, new, _convert_unit(v, unit, where), default_rules)
            origin[new] = where + (f" (in {unit})" if unit else "")
            if new != where:
                renamed.append(f"{where} -> {new}" + (f" ({unit} -> {_NEW_UNIT[unit]})" if unit else ""))
    if "rules" in out:
        out["rules"][0].setdefault("kind", "triplet_stdp")
    notes = ["legacy config format ([run] + [network], units ms/mV) converted to the new schema; "
             "`hwsnn run CONFIG --print-config` writes it in the new format"]
    if renamed:
        notes.append("renamed: " + ", ".join(renamed))
    return out, notes, origin


def check_new_format(data: dict) -> None:
    """In a new-format document, an old ``[network]`` name fails with its new name."""
    net = data.get("network")
    if not isinstance(net, dict):
        return
    from hwsnn.config.schema import NetworkSection

    new_names = set(NetworkSection.model_fields)
    for k in net:
        if k in new_names:
            continue
        if k in REMOVED:
            raise ConfigError(f"network.{k}", f"removed; use {REMOVED[k]}")
        if k in NETWORK_FIELDS:
            new, unit = NETWORK_FIELDS[k]
            raise ConfigError(f"network.{k}", f"renamed; use {new}"
                                              + (f" (in {_NEW_UNIT[unit]}, not {unit})" if unit else ""))
        if k == "n_in":
            raise ConfigError("network.n_in", "removed: the number of inputs follows task.dataset")
