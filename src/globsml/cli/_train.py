"""``globsml train``: fit a model under a set-up and save it as a bundle."""

from pathlib import Path

from ._help import ONE_MODEL_SETUPS_PLACEHOLDER, RegistryHelpFormatter

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a model under a set-up and save a bundle for `globsml predict`",
        description=(
            "Fit a registered model on the training part of a set-up (validation part for early "
            "stopping where the model uses one), evaluate it on the test part and "
            "save a bundle: the fitted model with its preprocessing (skops / CatBoost / torch state, "
            "never a pickle), the feature list, the training data's description, the validation "
            "metrics, the threshold and the globsml version, with sha256 hashes of every member. "
            "OUT ending in .zip gives one zip file, otherwise a directory."
        ),
        formatter_class=RegistryHelpFormatter,
    )
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="labelled data directory (table with pGC); with --teacher, any data the teacher "
                             "reads, labelled or not (cut-outs alone for a published network)")
    parser.add_argument("--model", required=True, metavar="NAME",
                        help="registry name (forest, hgb, catboost, cnn, ...; catboost-fast: the fast path)")
    parser.add_argument("--setup", required=True, metavar="SETUP", help=ONE_MODEL_SETUPS_PLACEHOLDER)
    parser.add_argument("--out", required=True, metavar="BUNDLE", help="bundle directory or .zip file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and the split (default 0)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold stored in the bundle: p_gc > X is a candidate (default 0.5)")
    parser.add_argument("--fit-threshold", metavar="COUNTS", default=None,
                        help="fit the bundle's threshold instead: the one whose per-galaxy numbers of "
                             "candidates best reproduce known numbers of GCs of --data's galaxies, each "
                             "galaxy predicted by the same training without it (4 folds of galaxies). "
                             "COUNTS: a CSV table galaxy,n_gcs, or 'published' (the publication's numbers)")
    parser.add_argument("--quick", action="store_true", help="the model's fast profile (fewer trees / epochs)")
    parser.add_argument("--adapt-to", metavar="TARGET", default=None,
                        help="unlabelled target data (a directory of <galaxy>_images.fits cut-outs, a data "
                             "directory or a table): fit the model adapted to it (tabular models); the "
                             "bundle records the target")
    parser.add_argument("--adapt", metavar="METHODS", default="weights",
                        help="with --adapt-to: comma-separated adaptations, 'weights' (importance weights "
                             "from a domain classifier) and/or 'self-training' (the target's confident "
                             "predictions as labels); default: weights")
    parser.add_argument("--ebv", type=float, default=None,
                        help="E(B-V) for features measured on the target's cut-outs (default: the feature code's)")
    parser.add_argument("--teacher", metavar="BUNDLE", default=None,
                        help="a bundle or published network (published-cnn-virgo2fornax, "
                             "published-cnn-fornax2virgo) whose p_gc on --data are the labels: the tabular "
                             "model is fitted to them (distillation); the data's own labels are not used, "
                             "and the test metrics and the --fdr calibration are against the teacher's "
                             "decisions")
    parser.add_argument("--data-ebv", type=float, default=None,
                        help="with --teacher: E(B-V) for features measured on --data's cut-outs "
                             "(default: the feature code's)")
    parser.add_argument("--calibration-fraction", type=float, default=None, metavar="F",
                        help="fraction of the training part held out as the calibration data of "
                             "`predict --fdr` (default 0.1; 0: none)")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Train, save and print the validation metrics."""
    from .._checks import check_threshold
    from .._errors import GlobsmlError
    from .._paths import check_output_dir, check_output_file, input_files, is_inside
    from ..adapt import ADAPTATIONS
    from ..data import GC_THRESHOLD, read_galaxy_counts
    from ..inference import check_bundle_target, train_bundle

    # before minutes of training: the options, where the bundle goes and what it would replace
    if args.fit_threshold is not None and args.threshold is not None:
        raise GlobsmlError("give --threshold or --fit-threshold, not both")
    threshold = GC_THRESHOLD if args.threshold is None else check_threshold(args.threshold)
    counts = None if args.fit_threshold is None else read_galaxy_counts(args.fit_threshold)
    adaptation = tuple(m.strip() for m in args.adapt.split(",") if m.strip())
    unknown = sorted(set(adaptation) - set(ADAPTATIONS))
    if unknown or not adaptation:
        raise GlobsmlError(f"--adapt: unknown adaptation {', '.join(unknown) or '(none given)'}; "
                           f"known: {', '.join(ADAPTATIONS)}")
    if args.data_ebv is not None and args.teacher is None:
        raise GlobsmlError("--data-ebv sets the E(B-V) of features measured for --teacher; give --teacher too")
    check_bundle_target(args.out)
    # what the command reads; a teacher or counts given by name ("published...") is no file here
    sources = [Path(p) for p in (args.data, args.adapt_to, args.teacher, args.fit_threshold)
               if p is not None and Path(p).exists()]
    if str(args.out).lower().endswith(".zip"):
        check_output_file(args.out, inputs=input_files(*sources), overwrite=True, kind="bundle")
    else:
        check_output_dir(args.out)
        for source in sources:
            if is_inside(source, args.out):
                raise GlobsmlError(f"--out {args.out}: holds {source}, an input of this command; "
                                   "refusing to write the bundle over it")
    bundle = train_bundle(args.data, args.model, setup=args.setup, seed=args.seed, out=args.out,
                          threshold=threshold, quick=args.quick, progress=True, fit_threshold=counts,
                          adapt_to=args.adapt_to, adaptation=adaptation, ebv=args.ebv,
                          teacher=args.teacher, data_ebv=args.data_ebv,
                          **({} if args.calibration_fraction is None
                             else {"calibration_fraction": args.calibration_fraction}))
    pooled = bundle.metrics.get("pooled", {})
    shown = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in pooled.items())
    print(f"metrics on the test part of {bundle.training['setup']}: {shown}")
    adapted = bundle.training.get("adaptation")
    if adapted:
        auc = adapted.get("domain_auc")
        print(f"adapted to {adapted['target']} ({adapted['n_target']} sources, {adapted['galaxies']} galaxies) by "
              f"{', '.join(adapted['methods'])}" + (f"; domain classifier ROC AUC {auc:.3f}" if auc is not None else ""))
    fitted = bundle.training.get("threshold_fit")
    if fitted:
        print(f"threshold {fitted['threshold']:.2f}: the one that best reproduces the numbers of GCs of "
              f"{fitted['galaxies']} galaxies, each predicted without it (median relative count error "
              f"{fitted['median_abs_rel_count_error']:.3f})")
    taught = bundle.training.get("teacher")
    if taught:
        print(f"labels: p_gc of the teacher {taught['name']} on {bundle.training['data']} "
              f"(mean {taught['mean_p_gc']}); the metrics above are against its decisions")
    print(f"bundle written to {bundle.path}")
    return 0
