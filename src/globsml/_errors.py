"""Exceptions that carry a message meant for a person, not a traceback."""

__all__ = ["GlobsmlError", "DataFormatError"]


class GlobsmlError(ValueError):
    """A user-facing error: bad input, a missing file, a refused bundle.

    A :class:`ValueError`, so that code (and scikit-learn's checks) that
    expect bad input to raise one catch it.

    The command line prints its message on one line and exits non-zero,
    without a traceback.
    """


class DataFormatError(GlobsmlError):
    """A file does not follow the published data format."""
