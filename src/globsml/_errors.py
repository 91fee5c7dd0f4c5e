"""Exceptions that carry a message meant for a person, not a traceback."""

__all__ = ["GlobsmlError", "DataFormatError"]


class GlobsmlError(ValueError):
    """A user-facing error: bad input, a missing file, a refused bundle.

    A ``ValueError``, so that code catching bad values catches it too. The
    command line prints its message on one line and exits non-zero,
    without a traceback.
    """


class DataFormatError(GlobsmlError):
    """A file does not follow the published data format."""
