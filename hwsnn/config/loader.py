"""Reading, validating and writing run configs.

* :func:`load_config` / :func:`load_config_with_notes` -- a TOML file (or the embedded default,
  ``hwsnn/configs/default.toml``) plus dotted overrides -> :class:`RunConfig`;
* :func:`parse_config` / :func:`parse_config_with_notes` -- the same from a parsed document;
* :func:`dump_toml` -- the fully resolved config as TOML that the loader accepts back.

Every user mistake is one :class:`hwsnn.errors.ConfigError`: ``field`` is the dotted path
(``synapse.crossbar.io.adc_bits``, ``rules[1].tau_pre``, ``network``), or ``"config"`` for a file
that cannot be read (missing, a directory, not UTF-8, not TOML -- with line and column).

**Deprecation notes.**  Legacy ``[run]`` + ``[network]`` files (ms/mV, the old flat names), old
names (``int8``) and legacy override paths (``run.epochs``) are accepted and converted; the
``*_with_notes`` functions return ``(config, notes)`` where ``notes`` is a list of one-line strings
for the CLI to print (``load_config`` drops them).

**None in TOML.**  TOML has no null: a field whose value is None (``synapse.crossbar.io.adc_bits``
= ideal ADC, ``mapping.levels``, ``io.adc_range``, ``update.dw_step``) is written by leaving the
key out, and every field that may be None defaults to None, so leaving it out reads back as None.
"""

from __future__ import annotations

import copy
import dataclasses
try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel

from hwsnn.config import legacy
from hwsnn.config.errors import show_value, validate_into
from hwsnn.config.schema import BACKEND_ALIASES, NetworkSection, RunConfig
from hwsnn.errors import ConfigError

__all__ = ["load_config", "load_config_with_notes", "parse_config", "parse_config_with_notes", "dump_toml",
           "to_plain", "apply_overrides", "parse_assignment", "read_toml", "preset_path", "list_config_presets",
           "default_config_text"]

_DEFAULT_RULES = [{"kind": "triplet_stdp"}]


# ---------------------------------------------------------------------------------------------- files
def list_config_presets() -> list[str]:
    """Names of the shipped configs (``hwsnn/configs/<name>.toml``)."""
    d = resources.files("hwsnn").joinpath("configs")
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """Path of the shipped config ``name`` (``default``, ``mnist100``, ``mnist400``)."""
    stem = name[:-5] if name.endswith(".toml") else name
    p = resources.files("hwsnn").joinpath("configs", f"{stem}.toml")
    if not p.is_file():
        raise ConfigError("config", f"no shipped config {name!r} (known: {', '.join(list_config_presets())})")
    return Path(str(p))


def default_config_text() -> str:
    """The embedded default config (TOML text, new format)."""
    return preset_path("default").read_text(encoding="utf-8")


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read and parse a TOML file; every failure is ``ConfigError("config", ...)`` naming the file."""
    p = Path(path)
    if not p.exists():
        raise ConfigError("config", f"file not found: {path}")
    if p.is_dir():
        raise ConfigError("config", f"{path} is a directory, not a TOML file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError("config", f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, "
                                    f"column {col}); save it as UTF-8") from None
    return _loads(text.removeprefix("\ufeff"), str(path))


def _loads(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{where} is not valid TOML: {str(exc).splitlines()[0]}") from None


# ---------------------------------------------------------------------------------------------- overrides
def parse_assignment(text: str) -> tuple[str, Any]:
    """``"synapse.crossbar.io.adc_bits=8"`` -> ``("synapse.crossbar.io.adc_bits", 8)``; the value is
    read as a TOML value (``8``, ``0.1``, ``true``, ``"sto"``, ``[0, 1]``), else taken as a string."""
    path, sep, value = str(text).partition("=")
    path, value = path.strip(), value.strip()
    if not sep or not path:
        raise ConfigError("--set", f"expected PATH=VALUE (e.g. network.n_exc=25), got {text!r}")
    legacy.split_path(path)
    try:
        return path, tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return path, value


def _legacy_override(path: str, value: Any, notes: list[str]) -> tuple[str, Any]:
    parts = legacy.split_path(path)
    if len(parts) != 2 or not isinstance(parts[1], str):
        return path, value
    table, name = parts
    if table == "run" and name in legacy.RUN_FIELDS:
        new, unit = legacy.RUN_FIELDS[name]
    elif table == "network" and name not in NetworkSection.model_fields and name in legacy.NETWORK_FIELDS:
        new, unit = legacy.NETWORK_FIELDS[name]
    elif table == "network" and name in legacy.REMOVED:
        raise ConfigError(path, f"removed; use {legacy.REMOVED[name]}")
    else:
        return path, value
    notes.append(f"override {path} is now {new}" + (f" (converted from {unit})" if unit else ""))
    return new, legacy._convert_unit(value, unit, path)


def apply_overrides(data: dict, overrides: dict[str, Any] | None, notes: list[str] | None = None) -> dict:
    """A copy of the (new-format) document ``data`` with dotted overrides set (``rules[0].nu_post``
    indexes the rule list, created as the default list when the document has none)."""
    data = copy.deepcopy(data)
    notes = notes if notes is not None else []
    for path, value in (overrides or {}).items():
        path, value = _legacy_override(str(path), value, notes)
        legacy.set_path(data, path, value, _DEFAULT_RULES)
    return data


# ---------------------------------------------------------------------------------------------- parse
def _resolve_device_file(data: dict, base_dir: Path | None) -> None:
    if base_dir is None:
        return
    dev = data.get("synapse", {}).get("device") if isinstance(data.get("synapse"), dict) else None
    f = dev.get("file") if isinstance(dev, dict) else None
    if isinstance(f, str) and f and not Path(f).is_absolute():
        dev["file"] = str((base_dir / f).resolve())


def _alias_notes(data: dict, notes: list[str]) -> None:
    for sec, key in (("synapse", "backend"), ("task", "baseline")):
        table = data.get(sec)
        v = table.get(key) if isinstance(table, dict) else None
        if isinstance(v, str) and v in BACKEND_ALIASES:
            notes.append(f"{sec}.{key}: {v!r} is now called {BACKEND_ALIASES[v]!r}")


def parse_config_with_notes(data: Any, overrides: dict[str, Any] | None = None, *,
                            base_dir: str | Path | None = None) -> tuple[RunConfig, list[str]]:
    """Validate a parsed TOML document (new or legacy format) -> ``(RunConfig, notes)``.

    ``overrides`` (dotted paths, new names) are applied after a legacy document is converted;
    ``base_dir`` is the folder relative ``synapse.device.file`` paths are taken from.
    """
    if not isinstance(data, dict):
        raise ConfigError("config", f"must be a TOML table, got {show_value(data)}")
    notes: list[str] = []
    origin: dict[str, str] = {}
    if legacy.is_legacy(data):
        data, lnotes, origin = legacy.convert_legacy(data)
        notes += lnotes
    else:
        legacy.check_new_format(data)
        data = copy.deepcopy(data)
    _resolve_device_file(data, Path(base_dir) if base_dir is not None else None)
    data = apply_overrides(data, overrides, notes)
    _alias_notes(data, notes)
    try:
        cfg = validate_into(RunConfig, data)
    except ConfigError as exc:
        src = next((origin[p] for p in sorted(origin, key=len, reverse=True)
                    if exc.field == p or exc.field.startswith(p + ".") or exc.field.startswith(p + "[")), None)
        if src is None:
            raise
        raise ConfigError(exc.field, f"{exc.message} (from legacy {src})") from None
    return cfg, notes


def parse_config(data: Any, overrides: dict[str, Any] | None = None) -> RunConfig:
    """:func:`parse_config_with_notes` without the notes."""
    return parse_config_with_notes(data, overrides)[0]


def load_config_with_notes(path: str | Path | None = None,
                           overrides: dict[str, Any] | None = None) -> tuple[RunConfig, list[str]]:
    """Load a TOML config file (None: the embedded default) with dotted overrides
    (``{"network.n_exc": 25, "synapse.crossbar.io.adc_bits": 8, "rules[0].nu_post": 0.1}``)
    -> ``(RunConfig, deprecation notes)``."""
    if path is None:
        data, base = _loads(default_config_text(), "default config"), None
    else:
        data, base = read_toml(path), Path(path).resolve().parent
    return parse_config_with_notes(data, overrides, base_dir=base)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """:func:`load_config_with_notes` without the notes."""
    return load_config_with_notes(path, overrides)[0]


# ---------------------------------------------------------------------------------------------- dump
def to_plain(obj: Any) -> Any:
    """Nested plain data (dicts, lists, scalars) of a config; None-valued fields are left out."""
    if isinstance(obj, BaseModel):
        return {k: to_plain(getattr(obj, k)) for k in type(obj).model_fields if getattr(obj, k) is not None}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if getattr(obj, f.name) is not None}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, Path):
        return str(obj)
    return obj


_HEADER = """\
# hwsnn run configuration, fully resolved (every field, defaults included).
# Units: seconds, volts, hertz; weights are dimensionless.  Run it with `hwsnn run FILE`.
# A field whose value is None (e.g. synapse.crossbar.io.adc_bits: ideal ADC) is left out.
# Field reference: `hwsnn.config.config_reference_markdown()`.

"""


def dump_toml(cfg: RunConfig, *, device_comment: bool = True) -> str:
    """The fully resolved config as TOML (with a comment header) that :func:`parse_config` /
    :func:`load_config` accept back as an equal config.  With ``device_comment`` the resolved device
    parameters are appended as comments (informational only)."""
    if not isinstance(cfg, RunConfig):
        raise TypeError(f"dump_toml needs a RunConfig, got {type(cfg).__name__}")
    text = _HEADER + tomli_w.dumps(to_plain(cfg))
    if device_comment:
        dev = cfg.synapse.device
        src = f"file {dev.file}" if dev.file else f"preset {dev.preset!r}"
        lines = [f"# Resolved device parameters ({src} + synapse.device.params), for reference only:"]
        for k, v in dataclasses.asdict(dev.resolve()).items():
            lines.append(f"#   {k} = {tomli_w.dumps({'v': v})[4:].strip()}")
        text += "\n" + "\n".join(lines) + "\n"
    return text
