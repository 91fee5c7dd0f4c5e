"""``globsml features``: the published feature table computed from cut-outs alone."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``features`` subcommand."""
    parser = subparsers.add_parser(
        "features",
        help="compute the published features from cut-outs (images-only data)",
        description=(
            "Compute the published photometric and morphological features (m3/m4/m5, CI, colour, "
            "segmentation morphology, fwhm) from the 20x20 g/z cut-outs of every galaxy in IMAGEDIR "
            "(a directory of <galaxy>_images.fits files, or a data directory with ImageData/), and "
            "write one table in the published feature-table format. Positions are in cut-out pixels "
            "and sky coordinates are empty (cut-outs have no WCS)."
        ),
    )
    parser.add_argument("image_dir", metavar="IMAGEDIR", help="directory of <galaxy>_images.fits cut-out files")
    parser.add_argument("--out", required=True, metavar="TABLE.csv", help="output CSV table")
    parser.add_argument("--ebv", default="0", metavar="X|FILE.csv",
                        help="Galactic E(B-V) for the extinction correction: one number for all galaxies "
                             "(default 0), or a CSV file with columns galaxy,ebv (galaxies not in it get 0)")
    parser.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT even when it is not a feature table written by globsml (never an input)")
    parser.set_defaults(func=run)
    return parser


def _ebv(value):
    """A number, or a galaxy -> E(B-V) mapping read from a CSV file."""
    from pathlib import Path

    import pandas as pd

    from .._errors import GlobsmlError

    try:
        ebv = float(value)
    except ValueError:
        path = Path(value)
        if not path.is_file():
            raise GlobsmlError(f"--ebv: {value!r} is neither a number nor an existing CSV file") from None
        try:
            table = pd.read_csv(path)
        except Exception as exc:
            raise GlobsmlError(f"--ebv: {path}: unreadable CSV ({exc})") from None
        missing = {"galaxy", "ebv"} - set(table.columns)
        if missing:
            raise GlobsmlError(f"--ebv: {path}: missing column(s) {sorted(missing)}; expected galaxy,ebv")
        values = pd.to_numeric(table["ebv"], errors="coerce")
        bad = ~(values >= 0)
        if bad.any():
            row = table.loc[bad].iloc[0]
            raise GlobsmlError(f"--ebv: {path}: galaxy {row['galaxy']}: ebv {row['ebv']!r} is not a non-negative number")
        return dict(zip(table["galaxy"].astype(str), values.astype(float)))
    if not ebv >= 0:
        raise GlobsmlError(f"--ebv must be a non-negative number, got {value}")
    return ebv


def _is_feature_table(path):
    """A table of features alone (what this command writes), not a labelled one."""
    from .._paths import file_columns
    from ..data import FEATURES

    columns = set(file_columns(path) or ())
    return set(FEATURES) <= columns and "pGC" not in columns


def run(args):
    """Compute and write the table; return 0."""
    from .._io import atomic_path
    from .._paths import check_output_file, input_files
    from ..features import directory_features

    ebv = _ebv(args.ebv)
    check_output_file(args.out, suffixes={".csv"}, inputs=input_files(args.image_dir, args.ebv),
                      own=_is_feature_table, overwrite=args.overwrite, kind="feature table")
    table = directory_features(args.image_dir, ebv=ebv, progress=not args.no_progress)
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    print(f"{len(table)} sources of {table['galaxy'].nunique()} galaxies -> {args.out}")
    return 0
