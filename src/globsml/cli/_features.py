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
    parser.add_argument("--ebv", type=float, default=0.0, metavar="X",
                        help="Galactic E(B-V) for the extinction correction (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Compute and write the table; return 0."""
    from .._errors import GlobsmlError
    from .._io import atomic_path
    from ..features import directory_features

    if not args.ebv >= 0:
        raise GlobsmlError(f"--ebv must be a non-negative number, got {args.ebv}")
    table = directory_features(args.image_dir, ebv=args.ebv, progress=not args.no_progress)
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    print(f"{len(table)} sources of {table['galaxy'].nunique()} galaxies -> {args.out}")
    return 0
