"""``globsml mock DIR``: make the mock survey in the published format."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``mock`` subcommand."""
    parser = subparsers.add_parser(
        "mock",
        help="make the mock survey (141 galaxies, published format)",
        description=(
            "Make the mock survey: ACS_sources_original.csv and ImageData/<galaxy>_images.fits "
            "in the published format, with the published galaxies and numbers of sources and GCs. "
            "Sources are rendered as images (PSF-convolved King GCs, stars, background galaxies, "
            "host light, noise calibrated on the real cut-outs); the table is measured on the "
            "cut-outs; labels are catalogue-like (pGC); a realism critic calibrated on the real "
            "cut-outs keeps the rendered sources most like real ones. Same seed, identical files. An interrupted "
            "run continues when rerun with the same arguments."
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="output directory (made if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="shrink every galaxy's numbers of sources and GCs by this factor in (0, 1] "
                             "(default 1: the full 84,929 sources)")
    parser.add_argument("--no-critic", action="store_true",
                        help="the renderer's sources as drawn, without the realism critic (faster)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args):
    """Make the mock survey; print where it is."""
    from ..mock import make_mock_survey

    path = make_mock_survey(args.directory, seed=args.seed, scale=args.scale, progress=not args.quiet,
                            critic=not args.no_critic)
    print(path)
    return 0
