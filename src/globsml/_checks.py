"""Checks of user-given values, made where a command or function starts, before any work."""

import math

from ._errors import GlobsmlError

__all__ = ["check_threshold", "check_positive", "check_file_name"]


def check_threshold(value, what="threshold"):
    """``value`` as a float in [0, 1]; a clear error for anything else (NaN, inf, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GlobsmlError(f"{what} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= number <= 1.0:  # False for NaN too
        raise GlobsmlError(f"{what} must lie in [0, 1], got {value}")
    return number


def check_positive(value, what):
    """``value`` as a finite float > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GlobsmlError(f"{what} must be a positive number, got {value!r}") from None
    if not (number > 0 and math.isfinite(number)):
        raise GlobsmlError(f"{what} must be a positive number, got {value}")
    return number


def check_file_name(name, what):
    """A name that becomes (part of) a file name in an output directory: plain, not hidden, no path separators."""
    text = str(name)
    if not text.strip() or "/" in text or "\\" in text or "\0" in text or text in (".", "..") or text.startswith("."):
        raise GlobsmlError(f"{what} {text!r} cannot name a file (empty, hidden, or holds a path separator)")
    return text
