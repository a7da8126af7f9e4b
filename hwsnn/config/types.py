"""Scalar types shared by the config models (leaf module: imports nothing of hwsnn but errors).

TOML gives ``int``, ``float``, ``bool`` and ``str`` values; the config accepts them only where they
mean what they say: a number field accepts an integer or a float but not ``true`` or ``"1"``, an
integer field rejects ``2.0``, a boolean field rejects ``1``.  Non-finite floats (TOML ``inf`` and
``nan``) are rejected by the models' ``allow_inf_nan=False``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Strict

__all__ = ["Float", "Int", "Bool", "Str", "MODEL_CONFIG"]

Float = Annotated[float, Strict()]
"""A number (an integer is converted to float; booleans and strings are rejected)."""
Int = Annotated[int, Strict()]
"""An integer (floats, booleans and strings are rejected)."""
Bool = Annotated[bool, Strict()]
"""``true`` or ``false`` only."""
Str = Annotated[str, Strict()]
"""A string."""

MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True, validate_default=True,
                          allow_inf_nan=False)
"""The model config of every config section (the same as :class:`hwsnn.engine.contract.Params`)."""
