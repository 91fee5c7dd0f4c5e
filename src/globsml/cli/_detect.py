"""``globsml detect``: g/z full frames in, sources, cut-outs and candidates out."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``detect`` subcommand."""
    parser = subparsers.add_parser(
        "detect",
        help="detect sources in a g/z frame pair and write sources, cut-outs and GC candidates",
        description=(
            "Detect sources in an F475W (g) and an F850LP (z) frame on one pixel grid, measure the "
            "published features, cut 20x20 cut-outs and predict p_gc with a bundle. OUT receives "
            "<galaxy>_sources.csv, ImageData/<galaxy>_images.fits and the candidate catalogue."
        ),
    )
    parser.add_argument("g_image", metavar="G.fits", help="F475W (g) frame")
    parser.add_argument("z_image", metavar="Z.fits", help="F850LP (z) frame")
    parser.add_argument("--model", required=True, metavar="BUNDLE", help="bundle, or a published network's name")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--galaxy", default=None, help="galaxy name (default: OBJECT header keyword or file name)")
    parser.add_argument("--ebv", type=float, default=0.0, help="Galactic E(B-V) (default 0)")
    parser.add_argument("--threshold", type=float, default=None, metavar="X",
                        help="p_gc > X is a candidate (default: the bundle's threshold)")
    parser.add_argument("--catalogue", default="candidates.csv", metavar="NAME",
                        help="catalogue file name in OUT; .csv, .fits or .parquet (default candidates.csv)")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Detect, predict, write; print what was written."""
    from ..inference import detect_candidates

    result = detect_candidates(args.g_image, args.z_image, bundle=args.model, out=args.out, galaxy=args.galaxy,
                               ebv=args.ebv, threshold=args.threshold, catalogue_name=args.catalogue)
    cat = result["catalogue_frame"]
    print(f"{len(cat)} sources, {int(cat['is_gc'].sum())} candidates")
    for key in ("sources", "cutouts", "catalogue"):
        print(f"{key}: {result[key]}")
    return 0
