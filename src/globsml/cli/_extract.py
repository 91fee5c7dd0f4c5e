"""``globsml extract``: detect and measure sources on a pair of full HST frames."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``extract`` subcommand."""
    parser = subparsers.add_parser(
        "extract",
        help="detect sources on full g/z HST frames: published table and cut-outs",
        description=(
            "Run the published feature extraction on a pair of aligned full frames (F475W and "
            "F850LP FITS images with WCS): background subtraction, detection with deblending, "
            "edge removal, g/z cross-match, aperture photometry, magnitudes, segmentation "
            "morphology and 20x20 cut-outs. Writes DIR/<galaxy>_sources.csv and "
            "DIR/ImageData/<galaxy>_images.fits in the published format."
        ),
    )
    parser.add_argument("g_image", metavar="G.fits", help="F475W (g) image")
    parser.add_argument("z_image", metavar="Z.fits", help="F850LP (z) image, on the same pixel grid")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--galaxy", default=None, metavar="NAME",
                        help="galaxy name (default: the g file name up to its first '_' or '.')")
    parser.add_argument("--ebv", type=float, default=0.0, metavar="X",
                        help="Galactic E(B-V) for the extinction correction (default 0)")
    parser.add_argument("--n-sigma", type=float, default=None, metavar="N",
                        help="detection threshold in units of the background noise")
    parser.add_argument("--no-deblend", action="store_true", help="do not deblend overlapping sources")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Extract and write the table and cut-outs; return 0."""
    import re
    from pathlib import Path

    from .._checks import check_file_name, check_positive
    from .._errors import GlobsmlError
    from .._io import atomic_path
    from .._paths import check_output_dir
    from ..data import write_cutouts
    from ..data._schema import IMAGE_DIRNAME, IMAGE_SUFFIX
    from ..features import FRAME_DEFAULTS, extract_sources, read_frame

    if not args.ebv >= 0:
        raise GlobsmlError(f"--ebv must be a non-negative number, got {args.ebv}")
    if args.n_sigma is not None:
        check_positive(args.n_sigma, "--n-sigma")
    galaxy = check_file_name(args.galaxy or re.split(r"[_.]", Path(args.g_image).name)[0], "galaxy name")
    check_output_dir(args.out)
    g, _, wcs = read_frame(args.g_image)
    z, _, _ = read_frame(args.z_image)
    print(f"{galaxy}: detecting sources on {g.shape[1]}x{g.shape[0]} pixel frames ...")
    table, cutouts = extract_sources(
        g, z, wcs=wcs, ebv=args.ebv, galaxy=galaxy, deblend=not args.no_deblend,
        n_sigma=FRAME_DEFAULTS["n_sigma"] if args.n_sigma is None else args.n_sigma, progress=True,
    )
    out = Path(args.out)
    write_cutouts(out / IMAGE_DIRNAME / f"{galaxy}{IMAGE_SUFFIX}", cutouts)
    with atomic_path(out / f"{galaxy}_sources.csv") as tmp:
        table.to_csv(tmp, index=False)
    print(f"{galaxy}: {len(table)} sources -> {out / f'{galaxy}_sources.csv'}, "
          f"{out / IMAGE_DIRNAME / f'{galaxy}{IMAGE_SUFFIX}'}")
    return 0
