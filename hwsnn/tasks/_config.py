"""Dataclass configs loaded from dictionaries/TOML with validation naming the dotted field."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from hwsnn.errors import ConfigError

__all__ = ["from_dict", "check_range", "check_choice", "to_dict"]


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp, field: str):
    """Check/convert a TOML value to the annotated type ``tp``."""
    origin = typing.get_origin(tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(field, f"must be true or false, not {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(field, f"must be an integer, not {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(field, f"must be a number, not {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(field, f"must be finite, not {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(field, f"must be a string, not {value!r}")
        return value
    if origin in (list, tuple):
        (inner,) = typing.get_args(tp)[:1]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(field, f"must be a list, not {value!r}")
        return [_coerce(v, inner, f"{field}[{k}]") for k, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(field, f"must be a table, not {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, field)
    raise ConfigError(field, f"unsupported type {_type_name(tp)}")


def from_dict(cls, data: Any, prefix: str = ""):
    """Build dataclass ``cls`` from a mapping; unknown keys or bad values raise ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(prefix or cls.__name__, f"must be a table, not {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in names:
            raise ConfigError(dotted, f"unknown field (known: {', '.join(sorted(names))})")
        kwargs[key] = _coerce(value, hints[key], dotted)
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate(prefix)
    return obj


def to_dict(obj) -> dict:
    """Plain nested dict of a dataclass (for config echo in results)."""
    return dataclasses.asdict(obj)


def check_range(value, field: str, lo=None, hi=None, *, lo_open=False, hi_open=False) -> None:
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ConfigError(field, f"must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise ConfigError(field, f"must be {'<' if hi_open else '<='} {hi}, got {value!r}")


def check_choice(value, field: str, choices) -> None:
    if value not in choices:
        raise ConfigError(field, f"must be one of {list(choices)}, got {value!r}")
