"""The config reference, generated from the config models (so it cannot drift from the code).

``python -m hwsnn.config.reference > docs/config.md`` writes it; :func:`config_reference_markdown`
returns it.  Every section and field of :class:`hwsnn.config.RunConfig` is listed with its TOML
path, type, default, constraints and docstring, including every registered neuron model and rule
kind and the device parameters (:class:`hwsnn.devices.DeviceParams`) overridable under
``synapse.device.params``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import typing
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hwsnn.config.errors import _unwrap, fields_of

__all__ = ["config_reference_markdown"]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(tp)[0])
    if origin is Literal:
        return " \\| ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in typing.get_args(tp))
    if origin in (typing.Union, __import__("types").UnionType):
        return " or ".join(_type_name(a) if a is not type(None) else "none (leave out)" for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if origin is tuple and len(typing.get_args(tp)) == 2 and typing.get_args(tp)[1] is not Ellipsis:
            return "[" + ", ".join(_type_name(a) for a in args) + "]"
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "table"
    if isinstance(tp, type):
        if fields_of(tp) is not None:
            return "table"
        return {"float": "number", "int": "integer", "bool": "boolean", "str": "string"}.get(tp.__name__, tp.__name__)
    return str(tp)


def _constraints(fi: FieldInfo) -> str:
    out = []

    def collect(meta):
        for m in meta:
            if isinstance(m, at.Ge):
                out.append(f">= {m.ge}")
            elif isinstance(m, at.Gt):
                out.append(f"> {m.gt}")
            elif isinstance(m, at.Le):
                out.append(f"<= {m.le}")
            elif isinstance(m, at.Lt):
                out.append(f"< {m.lt}")
            elif isinstance(m, at.MinLen):
                out.append(f"at least {m.min_length} item(s)")
            elif isinstance(m, FieldInfo):
                collect(m.metadata)

    collect(fi.metadata)
    tp = fi.annotation
    for arg in _walk_args(tp):
        if typing.get_origin(arg) is typing.Annotated:
            collect(typing.get_args(arg)[1:])
    return ", ".join(dict.fromkeys(out))


def _walk_args(tp):
    yield tp
    for a in typing.get_args(tp):
        if a is not Ellipsis and not isinstance(a, (str, int, float)):
            yield from _walk_args(a)


def _fmt_default(v: Any) -> str:
    if v is PydanticUndefined:
        return "required"
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if isinstance(v, str):
        return f'`"{v}"`'
    if isinstance(v, (BaseModel,)) or dataclasses.is_dataclass(v):
        return "(table)"
    if isinstance(v, tuple):
        if v and all(isinstance(x, BaseModel) for x in v):
            return "[" + ", ".join(f'`{getattr(x, "kind", type(x).__name__)}`' for x in v) + "]"
        return "`[" + ", ".join(repr(x) for x in v) + "]`"
    if isinstance(v, dict):
        return "`{}`" if not v else f"`{v}`"
    return f"`{v!r}`"


def _doc(fi: FieldInfo | None, fallback: str = "") -> str:
    text = (fi.description if fi is not None else None) or fallback
    return " ".join(text.split()).replace("|", "\\|")


def _table(path: str, cls: Any, skip_nested: bool = True) -> tuple[list[str], list[tuple[str, Any]]]:
    """Rows of a field table plus the nested sections to document after it."""
    rows = ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    nested = []
    for name, fi in fields_of(cls).items():
        tp = _unwrap(fi.annotation)
        if fields_of(tp) is not None and skip_nested:
            nested.append((f"{path}.{name}", tp))
            rows.append(f"| `{name}` | table | see `{path}.{name}` below | | {_doc(fi)} |")
            continue
        fallback = "Selects this entry (the registry name)." if name in ("model", "kind") else ""
        rows.append(f"| `{name}` | {_type_name(fi.annotation)} | {_fmt_default(fi.default)} | {_constraints(fi)} "
                    f"| {_doc(fi, fallback)} |")
    return rows, nested


def _class_doc(cls: Any) -> str:
    return textwrap.dedent(inspect.getdoc(cls) or "").strip()


def _section(path: str, cls: Any, level: int = 2, title: str | None = None) -> list[str]:
    out = [f"{'#' * level} {title or f'`{path}`'}", "", _class_doc(cls), ""]
    rows, nested = _table(path, cls)
    out += rows + [""]
    for sub, tp in nested:
        out += _section(sub, tp, level + 1)
    return out


def _attribute_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a plain dataclass (a string literal right after the field)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # pragma: no cover - source not available
        return {}
    body = tree.body[0].body
    docs = {}
    for a, b in zip(body, body[1:]):
        if isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name) and isinstance(b, ast.Expr) \
                and isinstance(b.value, ast.Constant) and isinstance(b.value.value, str):
            docs[a.target.id] = " ".join(b.value.value.split())
    return docs


def _device_params() -> list[str]:
    from hwsnn.devices.params import DeviceParams
    from hwsnn.devices.presets import list_presets, preset_doc

    out = ["### `synapse.device.params`", "",
           "Overrides of :class:`hwsnn.devices.DeviceParams` fields on top of the preset or file (SI units). "
           "Defaults below are the `sto` preset.", "",
           "| field | type | default (`sto`) | description |", "|---|---|---|---|"]
    docs = _attribute_docs(DeviceParams)
    base = DeviceParams()
    for f in dataclasses.fields(DeviceParams):
        t = {"float": "number", "int": "integer", "str": "string"}.get(str(f.type), str(f.type))
        doc = docs.get(f.name, "").replace("|", "/")
        out.append(f"| `{f.name}` | {t} | {_fmt_default(getattr(base, f.name))} | {doc} |")
    out += ["", "Presets (`synapse.device.preset`):", ""]
    out += [f"* `{n}` -- {preset_doc(n).splitlines()[0]}" for n in list_presets()]
    return out + [""]


def config_reference_markdown(builtin_only: bool = True) -> str:
    """Markdown reference of every config section and field, generated from the models.

    ``builtin_only``: document only the neuron models and rules shipped with hwsnn (not ones a
    user's code registered in this process)."""
    from hwsnn.config.schema import RunConfig
    from hwsnn.engine import contract

    def _ours(cls) -> bool:
        return not builtin_only or cls.__module__.startswith("hwsnn.")

    def neuron_models() -> list[str]:
        return [m for m in contract.neuron_models() if _ours(contract.neuron_class(m))]

    def rule_kinds() -> list[str]:
        return [k for k in contract.rule_kinds() if _ours(contract.rule_class(k))]

    neuron_class, rule_class = contract.neuron_class, contract.rule_class

    out = ["# hwsnn run configuration reference", "",
           "Generated from the config models (`hwsnn.config.config_reference_markdown()`); do not edit by hand.", "",
           "Units are SI throughout: seconds, volts, hertz, siemens; weights are dimensionless.  A field left out of "
           "a file takes its default; a field whose default is *none* is set by writing it and unset by leaving it "
           "out (TOML has no null).  Errors name the dotted path of the offending value, e.g. "
           "`synapse.crossbar.io.adc_bits: must be >= 1, got 0`.", ""]
    order = list(RunConfig.model_fields)
    for name in order:
        fi = RunConfig.model_fields[name]
        if name == "neuron":
            out += ["## `neuron`", "", _doc(fi), "",
                    "Registered models: " + ", ".join(f"`{m}`" for m in neuron_models()) + ".", ""]
            for m in neuron_models():
                cls = neuron_class(m)
                out += _section("neuron", cls, 3, f'`neuron` with `model = "{m}"` ({cls.__name__})')
            continue
        if name == "rules":
            out += ["## `rules`", "", _doc(fi), "",
                    "```toml\n[[rules]]\nkind = \"triplet_stdp\"\nnu_post = 0.02\n```", "",
                    "Registered kinds: " + ", ".join(f"`{k}`" for k in rule_kinds()) + ".", ""]
            for k in rule_kinds():
                cls = rule_class(k)
                out += _section("rules[]", cls, 3, f'`[[rules]]` with `kind = "{k}"` ({cls.__name__})')
            continue
        cls = _unwrap(fi.annotation)
        section = _section(name, cls)
        if name == "synapse":
            # document device params right after synapse.device
            idx = next(i for i, line in enumerate(section) if line.startswith("### `synapse.crossbar`"))
            section[idx:idx] = _device_params()
        out += section
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(config_reference_markdown())
