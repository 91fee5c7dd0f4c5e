"""The ``globsml`` command line: a thin layer over the library.

Each subcommand lives in its own module ``_<name>.py`` that defines
``register(subparsers)``; the parser it adds sets ``func`` to a function
taking the parsed arguments and returning an exit code.
"""

import argparse
import importlib
import sys

from .._errors import GlobsmlError
from .._version import __version__

__all__ = ["main", "build_parser"]

#: Subcommand modules, in the order ``globsml --help`` lists them.
COMMANDS = ("validate", "fetch", "features", "extract", "mock", "benchmark", "train", "predict", "detect", "completeness",
            "explain")


def build_parser():
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="globsml",
        description="Find extragalactic globular clusters in HST images with machine learning.",
    )
    parser.add_argument("--version", action="version", version=f"globsml {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}._{name}").register(subparsers)
    return parser


def _one_line(exc):
    return " ".join(str(exc).split())


def main(argv=None):
    """Run the command line; return the exit code.

    User mistakes (:class:`globsml.GlobsmlError`) and refused file
    operations (``OSError``: permission denied, is a directory, no space
    left) print one line on stderr and exit with 2; an interruption exits
    with 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except GlobsmlError as exc:
        print(f"globsml {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # permission denied, is a directory, disk full...: the path says which
        where = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        reason = exc.strerror or type(exc).__name__
        print(f"globsml {args.command}: error: {where + ': ' if where else ''}{reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"globsml {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
