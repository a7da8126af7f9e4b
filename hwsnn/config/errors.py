"""One translation of pydantic validation errors into :class:`hwsnn.errors.ConfigError`.

Every config model is validated by pydantic; this module turns the *first* error of a
``pydantic.ValidationError`` into one ``ConfigError(field, message)`` whose ``field`` is the dotted
path of the offending value (``synapse.crossbar.io.adc_bits``, ``rules[1].tau_pre``) and whose
message is one short line (``must be >= 1, got 0``).  A ``ConfigError`` raised inside a validator
carries a path *relative* to the model being validated; it is appended to pydantic's location.

Leaf module: it imports pydantic and :mod:`hwsnn.errors` only, so that model modules anywhere in
the package (``hwsnn.crossbar.config``) can use it without import cycles.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from hwsnn.errors import ConfigError

__all__ = ["join_path", "loc_path", "config_error", "validate_into", "fields_of", "show_value"]


def join_path(prefix: str, sub: str) -> str:
    """``join_path("rules", "[1].tau_pre") == "rules[1].tau_pre"``; empty parts are dropped."""
    if not prefix:
        return sub
    if not sub:
        return prefix
    return prefix + sub if sub.startswith("[") else f"{prefix}.{sub}"


def loc_path(loc: Iterable[Any]) -> str:
    """A pydantic location tuple as a dotted path (list indices in brackets)."""
    out = ""
    for part in loc:
        out = join_path(out, f"[{part}]" if isinstance(part, int) else str(part))
    return out


def show_value(v: Any) -> str:
    """A short, TOML-flavoured rendering of an offending input value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "a table"
    if dataclasses.is_dataclass(v) or isinstance(v, BaseModel):
        return f"a {type(v).__name__}"
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` from an annotation."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def fields_of(tp: Any) -> dict[str, Any] | None:
    """``{name: FieldInfo}`` of a pydantic model or pydantic dataclass (None for anything else)."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return dict(tp.model_fields)
    f = getattr(tp, "__pydantic_fields__", None)
    return dict(f) if isinstance(f, dict) else None


def _annotation_at(root: Any, loc: tuple) -> Any:
    tp = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            args = typing.get_args(tp)
            if typing.get_origin(tp) not in (list, tuple) or not args:
                return None
            tp = args[0]
        else:
            fields = fields_of(tp)
            if fields is None or part not in fields:
                return None
            tp = fields[part].annotation
    return tp


_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be finite",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dataclass_type": "must be a table",
    "dataclass_exact_type": "must be a table",
    "dict_type": "must be a table",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "missing": "is required",
    "missing_keyword_only_argument": "is required",
}


def _known(root: Any, parent: tuple) -> list[str]:
    fields = fields_of(_annotation_at(root, parent)) if root is not None else None
    return sorted(fields) if fields else []


def config_error(exc: ValidationError, root: Any = None, prefix: str = "", *, top: bool = True) -> ConfigError:
    """The first error of ``exc`` as a one-line :class:`ConfigError`.

    ``root`` is the model class that was validated (it lets an unknown-field error list the known
    fields); ``prefix`` is the dotted path of that model in the whole config.  ``top=False`` (inside
    a validator, where the error's path is relative) leaves an error of the model as a whole with
    an empty path instead of ``"config"``.
    """
    err = _config_error(exc, root, prefix)
    if top and not err.field:
        return ConfigError("config", err.message)
    return err


def _config_error(exc: ValidationError, root: Any, prefix: str) -> ConfigError:
    errors = exc.errors(include_url=False)
    if not errors:  # pragma: no cover - pydantic never raises an empty ValidationError
        return ConfigError(prefix, "invalid")
    err = errors[0]
    loc = tuple(err.get("loc", ()))
    typ = err.get("type", "")
    ctx = err.get("ctx") or {}
    inp = err.get("input")
    path = join_path(prefix, loc_path(loc))
    got = f", got {show_value(inp)}"
    if typ in ("value_error", "assertion_error") and isinstance(ctx.get("error"), BaseException):
        inner = ctx["error"]
        if isinstance(inner, ConfigError):
            return ConfigError(join_path(path, inner.field), inner.message)
        return ConfigError(path, str(inner).splitlines()[0] if str(inner) else type(inner).__name__)
    if typ in ("extra_forbidden", "unexpected_keyword_argument"):
        name = loc[-1] if loc else "?"
        known = _known(root, loc[:-1])
        what = "section" if not loc[:-1] and not prefix and root is not None and _all_sections(root) else "field"
        return ConfigError(path, f"unknown {what} {name!r}" + (f" (known: {', '.join(known)})" if known else ""))
    if typ == "unexpected_positional_argument":
        return ConfigError(path, "takes keyword arguments only")
    if typ == "greater_than_equal":
        return ConfigError(path, f"must be >= {ctx.get('ge')}{got}")
    if typ == "greater_than":
        return ConfigError(path, f"must be > {ctx.get('gt')}{got}")
    if typ == "less_than_equal":
        return ConfigError(path, f"must be <= {ctx.get('le')}{got}")
    if typ == "less_than":
        return ConfigError(path, f"must be < {ctx.get('lt')}{got}")
    if typ == "literal_error":
        return ConfigError(path, f"must be one of {ctx.get('expected')}{got}")
    if typ == "too_short":
        n = ctx.get("min_length")
        return ConfigError(path, "must not be empty" if n == 1 else f"must have at least {n} items{got}")
    if typ == "too_long":
        return ConfigError(path, f"must have at most {ctx.get('max_length')} items{got}")
    if typ in ("missing", "missing_keyword_only_argument"):
        return ConfigError(path, "is required")
    if typ in _MESSAGES:
        return ConfigError(path, _MESSAGES[typ] + got)
    msg = str(err.get("msg", "invalid")).splitlines()[0]
    return ConfigError(path, msg[:1].lower() + msg[1:] + got)


def _all_sections(root: Any) -> bool:
    fields = fields_of(root)
    return bool(fields) and all(fields_of(f.annotation) is not None
                                or typing.get_origin(_unwrap(f.annotation)) in (list, tuple)
                                for f in fields.values())


def validate_into(cls: Any, data: Any, prefix: str = "", context: dict | None = None):
    """Validate ``data`` (a mapping) into the pydantic model or dataclass ``cls``; errors become
    one :class:`ConfigError` under ``prefix``."""
    try:
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            return cls.model_validate(data, context=context)
        return cls.__pydantic_validator__.validate_python(data, context=context)
    except ValidationError as exc:
        raise config_error(exc, cls, prefix) from None
