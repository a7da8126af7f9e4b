"""User-facing errors.

Every mistake a user can make (bad config field, unknown preset, wrong shape, missing file) is
raised as :class:`HwsnnError` or a subclass.  The command line catches these and prints one line
naming the offending field; it never shows a traceback for them.
"""

from __future__ import annotations

__all__ = ["HwsnnError", "ConfigError", "ToolMissingError", "ToolFailedError", "is_interrupt"]


class HwsnnError(Exception):
    """Base class of errors caused by user input or the environment, not by a bug."""


class ConfigError(HwsnnError, ValueError):
    """A configuration value is invalid.

    Parameters
    ----------
    field : str
        Dotted name of the offending field, e.g. ``"device.g_min"``.
    message : str
        What is wrong and, where possible, what is expected.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ToolMissingError(HwsnnError):
    """An external tool (simulator, synthesiser) is not installed or not usable."""


class ToolFailedError(HwsnnError):
    """An external tool (simulator, synthesiser) was found but failed to do its job (e.g. a
    simulator build that exits non-zero); the message says where its log is."""


def is_interrupt(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a Ctrl-C, directly or as the cause of another error.

    A Ctrl-C that arrives inside a compiled function (e.g. while Numba loads its cache) surfaces
    as ``SystemError: ... returned a result with an exception set`` with the
    ``KeyboardInterrupt`` as its cause or context; it is still an interrupt, not a failure.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
