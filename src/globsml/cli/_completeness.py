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
            "errors, against magnitude, colour, size and local background) and <galaxy>_completeness.png. "
            "With --catalogue (a candidate catalogue of the same model, from predict or detect): also the "
            "completeness-corrected GC luminosity function of its candidates, <galaxy>_lf.csv (raw and "
            "corrected numbers per magnitude bin, with Poisson and binomial errors propagated) and "
            "<galaxy>_lf.png (the raw and the corrected one side by side)."
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
    parser.add_argument("--catalogue", metavar="FILE", default=None,
                        help="candidate catalogue (csv, ecsv, fits, votable, parquet) with m4_g: write its "
                             "completeness-corrected luminosity function per galaxy; its threshold is the "
                             "default --threshold")
    parser.add_argument("--lf-bins", type=int, default=8, metavar="N",
                        help="magnitude bins of the luminosity function over the injected range (default 8)")
    parser.add_argument("--min-completeness", type=float, default=0.2, metavar="C",
                        help="bins less complete than C are not corrected (default 0.2)")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Inject, recover, write the tables and the figure per galaxy."""
    from pathlib import Path

    import matplotlib.pyplot as plt
    import pandas as pd

    from .._errors import GlobsmlError
    from .._io import atomic_path
    from ..data import image_files, read_cutouts
    from ..inference import (COMPLETENESS_VARIABLES, completeness_curve, injection_recovery, load_bundle,
                             plot_completeness)

    if args.n < 1:
        raise GlobsmlError(f"--n must be at least 1, got {args.n}")
    if args.lf_bins < 1:
        raise GlobsmlError(f"--lf-bins must be at least 1, got {args.lf_bins}")
    if not 0 <= args.min_completeness < 1:
        raise GlobsmlError(f"--min-completeness must be in [0, 1), got {args.min_completeness}")
    bundle = load_bundle(args.model)
    candidates = None
    if args.catalogue is not None:
        candidates, args.threshold = _candidates(args.catalogue, bundle, args.threshold)
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
        plt.close(fig)
        written.append(out / f"{galaxy}_completeness.png")
        if candidates is not None:
            written += _luminosity_function(candidates, results, galaxy, out, args, bundle.name)
        print(f"{galaxy}: {int(results['recovered'].sum())} of {len(results)} recovered as GC candidates, "
              f"{int(results['detected'].sum())} detected")
        for path in written:
            print(f"  {path}")
    return 0


def _candidates(path, bundle, threshold):
    """The GC candidates of a catalogue (galaxy, m4_g) and the threshold to measure completeness at."""
    import sys

    import numpy as np

    from .._errors import GlobsmlError
    from ..inference import LF_MAGNITUDE, catalogue_dataframe, read_catalogue

    table = read_catalogue(path, as_table=True)
    meta, frame = dict(table.meta), catalogue_dataframe(table)
    missing = [c for c in ("galaxy", "is_gc", LF_MAGNITUDE) if c not in frame.columns]
    if missing:
        raise GlobsmlError(f"{path}: the catalogue has no column {', '.join(missing)} (a luminosity function needs "
                           f"the candidates' {LF_MAGNITUDE}; predict copies it from the input table)")
    made_at = meta.get("THRESH")
    if made_at is not None:
        if threshold is None:
            threshold = float(made_at)
        elif not np.isclose(float(threshold), float(made_at)):
            raise GlobsmlError(f"--threshold {threshold:g} differs from the catalogue's threshold {float(made_at):g}: "
                               "the completeness must be that of the catalogue's own selection")
    digest = (bundle.manifest or {}).get("digest")
    if meta.get("BUNDLE") not in (None, "unsaved") and digest and meta["BUNDLE"] != digest:
        print(f"warning: {path} was made by another model ({meta.get('MODEL', '?')}, bundle {meta['BUNDLE']}) "
              f"than --model ({bundle.name}); its completeness is that of --model", file=sys.stderr)
    return frame.loc[frame["is_gc"].to_numpy(dtype=bool), ["galaxy", LF_MAGNITUDE]], threshold


def _luminosity_function(candidates, results, galaxy, out, args, model):
    """Write ``<galaxy>_lf.csv`` and ``<galaxy>_lf.png``; return their paths."""
    import matplotlib.pyplot as plt

    from .._io import atomic_path
    from ..inference import LF_MAGNITUDE, corrected_luminosity_function, plot_luminosity_function

    mags = candidates.loc[candidates["galaxy"] == galaxy, LF_MAGNITUDE].to_numpy(dtype=float)
    lf = corrected_luminosity_function(mags, results, bins=args.lf_bins, min_completeness=args.min_completeness)
    with atomic_path(out / f"{galaxy}_lf.csv") as tmp:
        lf.to_csv(tmp, index=False)
    fig = plot_luminosity_function(lf, title=f"{galaxy}: {len(mags)} candidates of {model}, corrected")
    with atomic_path(out / f"{galaxy}_lf.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    used = lf["used"].to_numpy(dtype=bool)
    print(f"{galaxy}: luminosity function of {len(mags)} candidates, {float(lf['n_corrected'][used].sum()):.0f} "
          f"after the completeness correction in the {int(used.sum())} bins at least "
          f"{args.min_completeness:g} complete (magnitudes shifted by {-lf.attrs['offset']:+.2f} mag to intrinsic "
          f"total g; {lf.attrs['outside']} candidates outside the injected magnitudes are not counted)")
    return [out / f"{galaxy}_lf.csv", out / f"{galaxy}_lf.png"]
