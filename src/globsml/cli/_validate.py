"""``globsml validate``: check a data directory against the published format."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check a data directory (table and/or cut-outs) against the published format",
        description=(
            "Check a data directory in the published format: ACS_sources_original.csv and/or "
            "ImageData/<galaxy>_images.fits (also a directory of cut-outs alone, a directory "
            "holding one CSV table, or a CSV file). Prints what is there and exits 0, or prints "
            "one line per problem and exits 1. Exits 2 when PATH does not exist."
        ),
    )
    parser.add_argument("path", metavar="PATH", help="data directory, cut-out directory or CSV table")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only the problems, not the summary"
    )
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Validate ``args.path``; return 0 when it is fine, 1 when problems were found."""
    from ..data import validate

    report = validate(args.path)
    for line in report.problems:
        print(f"problem: {line}")
    if not args.quiet:
        print(report.summary())
    if not report.ok:
        print(f"{len(report.problems)} problem(s) found in {report.path}")
        return 1
    return 0
