"""``globsml completeness``: injection-recovery of artificial GCs through detection, features and model."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``completeness`` subcommand."""
    parser = subparsers.add_parser(
        "completeness",
        help="measure the completeness of the candidate catalogue by injecting artificial GCs",
        description=(
            "Inject artificial GCs rendered by the mock survey's physics (King profiles through the PSF at the "
            "galaxy's distance, uniform in magnitude and colour, log-uniform in size) into a galaxy's cut-outs "
            "(their own central source replaced by their sky), run the same detection, features and model as "
            "on real sources, and write per galaxy: <galaxy>_injections.csv (every artificial GC), "
            "<galaxy>_completeness.csv (fraction detected and recovered as GC candidates, with binomial "
            "errors, against magnitude, colour, size and local background) and <galaxy>_completeness.png."
        ),
    )
    parser.add_argument("--model", required=True, metavar="BUNDLE", help="bundle, or a published network's name")
    parser.add_argument("--images", required=True, metavar="DIR", help="cut-out directory (<galaxy>_images.fits)")
    parser.add_argument("--galaxy", required=True, nargs="+", metavar="G", help="galaxy or galaxies")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--n", type=int, default=1000, help="artificial GCs per galaxy (default 1000)")
    parser.add_argument("--ebv", type=float, default=0.0, help="Galactic E(B-V) (default 0)")
    parser.add_argument("--mag-range", type=float, nargs=2, default=None, metavar=("BRIGHT", "FAINT"),
                        help="intrinsic g magnitudes (default: the GC luminosity function's turnover +-3 mag)")
    parser.add_argument("--threshold", type=float, default=None, metavar="X",
                        help="p_gc > X is a candidate (default: the bundle's threshold)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Inject, recover, write the tables and the figure per galaxy."""
    from pathlib import Path

    import pandas as pd

    from .._errors import GlobsmlError
    from .._io import atomic_path
    from ..data import image_files, read_cutouts
    from ..inference import (COMPLETENESS_VARIABLES, completeness_curve, injection_recovery, load_bundle,
                             plot_completeness)

    if args.n < 1:
        raise GlobsmlError(f"--n must be at least 1, got {args.n}")
    bundle = load_bundle(args.model)
    files = image_files(args.images)
    missing = [g for g in args.galaxy if g not in files]
    if missing:
        raise GlobsmlError(f"{args.images}: no cut-out file for galaxy {', '.join(missing)} "
                           f"(expected <galaxy>_images.fits)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for galaxy in args.galaxy:
        results = injection_recovery(bundle, read_cutouts(files[galaxy]), galaxy=galaxy, n=args.n, ebv=args.ebv,
                                     threshold=args.threshold, seed=args.seed, mag_range=args.mag_range)
        curves = pd.concat(
            [completeness_curve(results, by, column=column).assign(variable=by, stage=column)
             for by in COMPLETENESS_VARIABLES for column in ("detected", "recovered")],
            ignore_index=True,
        )
        written = []
        for name, frame in ((f"{galaxy}_injections.csv", results), (f"{galaxy}_completeness.csv", curves)):
            with atomic_path(out / name) as tmp:
                frame.to_csv(tmp, index=False)
            written.append(out / name)
        fig = plot_completeness(results, title=f"{galaxy}: {args.n} artificial GCs, model {bundle.name}")
        with atomic_path(out / f"{galaxy}_completeness.png") as tmp:
            fig.savefig(tmp, dpi=110)
        written.append(out / f"{galaxy}_completeness.png")
        print(f"{galaxy}: {int(results['recovered'].sum())} of {len(results)} recovered as GC candidates, "
              f"{int(results['detected'].sum())} detected")
        for path in written:
            print(f"  {path}")
    return 0
