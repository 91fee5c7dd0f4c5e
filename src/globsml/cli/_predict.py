"""``globsml predict``: a candidate catalogue from a bundle, in memory or on Dask."""

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``predict`` subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="write a GC candidate catalogue (p_gc, is_gc) from a trained bundle",
        description=(
            "Predict p_gc for every source and write a catalogue: galaxy, ID, p_gc, p_gc_std (the "
            "spread over the model's members), is_gc (p_gc > threshold), and the input's position and "
            "photometry columns, with units, the sky position and the provenance; ECSV, FITS, VOTable, "
            "Parquet or CSV by the extension of OUT. --fdr ALPHA chooses the threshold that keeps the "
            "false discovery rate at or below ALPHA (conformal p-values against the bundle's "
            "calibration data, Benjamini-Hochberg) and warns when the input looks unlike them. Input: a data directory (labelled: the metrics are printed too), a "
            "table alone, or cut-outs alone (features are computed from them for tabular bundles). "
            "With --engine dask, TABLE or IMAGES is a partitioned catalogue (a directory of Parquet "
            "files, with NAME.npy cut-out stacks beside them) and OUT a directory that receives one "
            "Parquet file per partition; a rerun resumes."
        ),
    )
    parser.add_argument("--model", required=True, metavar="BUNDLE",
                        help="bundle directory or .zip, or a published network: "
                             "published-cnn-virgo2fornax, published-cnn-fornax2virgo")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="DIR", help="data directory (table and/or ImageData/)")
    source.add_argument("--table", metavar="T", help="source table (.csv; a Parquet directory with --engine dask)")
    source.add_argument("--images", metavar="DIR", help="cut-out directory (<galaxy>_images.fits; "
                                                       "Parquet + .npy stacks with --engine dask)")
    parser.add_argument("--out", required=True, metavar="CAT",
                        help="catalogue file (.ecsv, .fits, .vot, .parquet, .csv) "
                             "or, with --engine dask, a directory")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--threshold", type=float, default=None, metavar="X",
                           help="p_gc > X is a candidate (default: the bundle's threshold)")
    selection.add_argument("--fdr", type=float, default=None, metavar="ALPHA",
                           help="choose the threshold that keeps the false discovery rate <= ALPHA")
    parser.add_argument("--regions", metavar="REG", default=None,
                        help="also write a ds9 region file (.reg) of the candidates (needs regions)")
    parser.add_argument("--ebv", type=float, default=None,
                        help="E(B-V) for features computed from cut-outs (default: the feature code's)")
    parser.add_argument("--mc-passes", type=int, default=None, metavar="N",
                        help="MC-dropout passes of a network that averages them (published CNN: 200)")
    parser.add_argument("--counts", action="store_true",
                        help="print the number of GCs per galaxy: candidates above the threshold, and the "
                             "expected number (sum of p_gc) with its 90%% interval")
    parser.add_argument("--engine", choices=("memory", "dask"), default="memory",
                        help="memory (default) or dask: partition by partition on a dask.distributed cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT even when it is not a catalogue written by globsml (never an input)")
    parser.set_defaults(func=run)
    return parser


def _is_catalogue(path):
    from .._paths import file_columns

    return {"p_gc", "is_gc"} <= set(file_columns(path) or ())


def _check_out(args):
    """Refuse, before the bundle is read, an output that cannot or must not be written."""
    from pathlib import Path

    from .._errors import GlobsmlError
    from .._paths import check_output_dir, check_output_file, input_files, is_inside
    from ..inference import CATALOGUE_FORMATS

    source = args.data or args.table or args.images
    if args.engine == "dask":
        if args.data is not None:
            raise GlobsmlError("--engine dask reads a partitioned catalogue: give --table DIR or --images DIR")
        check_output_dir(args.out)
        if source is not None and Path(source).exists() and (is_inside(args.out, source) or is_inside(source, args.out)):
            raise GlobsmlError(f"--out {args.out}: overlaps the input {source}; give a directory of its own")
        return
    model = args.model if Path(args.model).exists() else None
    check_output_file(args.out, suffixes=CATALOGUE_FORMATS, inputs=input_files(source, model), own=_is_catalogue,
                      overwrite=args.overwrite, kind="catalogue")


def run(args):
    """Predict and write the catalogue; print counts (and metrics when labelled)."""
    import sys
    import warnings

    import numpy as np

    from .._errors import GlobsmlError
    from ..inference import CalibrationShiftWarning
    from ..inference import catalogue_dataframe, catalogue_metrics, load_bundle, predict_catalogue, predict_partitions

    _check_out(args)
    bundle = load_bundle(args.model)
    if args.mc_passes is not None:
        bundle.set_mc_passes(args.mc_passes)
    if args.engine == "dask":
        if args.fdr is not None or args.regions is not None:
            raise GlobsmlError("--fdr and --regions need the whole catalogue: use --engine memory")
        summary = predict_partitions(bundle, args.table or args.images, out=args.out, engine="dask",
                                     scheduler=args.scheduler, n_workers=args.workers,
                                     threshold=args.threshold, ebv=args.ebv)
        print(f"{summary['n_candidates']} candidates among {summary['n_sources']} sources "
              f"({summary['n_partitions']} partitions, {summary['n_skipped']} already done) -> {summary['out']}")
        return 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalibrationShiftWarning)
        cat = predict_catalogue(bundle, data=args.data, table=args.table, images=args.images,
                                threshold=args.threshold, fdr=args.fdr, ebv=args.ebv, out=args.out, as_table=True,
                                progress=True)
    for warning in caught:
        if issubclass(warning.category, CalibrationShiftWarning):
            print(f"globsml predict: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    threshold = cat.meta["THRESH"]
    chosen = f" (threshold {threshold:.4f}, chosen for FDR <= {args.fdr:g})" if args.fdr is not None else ""
    print(f"{int(cat['is_gc'].sum())} candidates among {len(cat)} sources{chosen} -> {args.out}")
    if args.counts:
        from ..adapt import galaxy_counts

        counts = galaxy_counts(np.asarray(cat["p_gc"], dtype=float), np.asarray(cat["galaxy"]), threshold=threshold)
        print("GCs per galaxy (expected = sum of p_gc, 90% interval from the sources' own uncertainty):")
        print(counts.reset_index().to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        band = _count_error_band(bundle)
        if band is not None and threshold == band[0]:  # measured at the bundle's fitted threshold only
            print(f"the model's own error, measured on {band[1]} galaxies of its training data, each predicted "
                  f"without it: n_candidates within {100 * band[2]:.0f} % of the known number for half of them, "
                  f"within {100 * band[3]:.0f} % for 90 % (new images may stray further)")
    if args.regions is not None:
        from ..inference import write_regions

        print(f"region file -> {write_regions(cat, args.regions)}")
    metrics = catalogue_metrics(catalogue_dataframe(cat), threshold=threshold)
    if metrics is not None:
        pooled = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.pooled.items())
        print(f"metrics (pooled): {pooled}")
        if len(metrics.per_galaxy):
            print(metrics.per_galaxy.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _count_error_band(bundle):
    """(threshold, galaxies, 50th and 90th percentile of the relative count error) that
    ``train --fit-threshold`` measured, or None; a bundle from elsewhere may hold anything there."""
    fitted = (bundle.training or {}).get("threshold_fit")
    try:
        spread = fitted["abs_rel_count_error_percentiles"]
        return float(fitted["threshold"]), int(fitted["galaxies"]), float(spread["50"]), float(spread["90"])
    except (TypeError, KeyError, ValueError):
        return None
