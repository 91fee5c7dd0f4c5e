"""``globsml train``: fit a model under a set-up and save it as a bundle."""

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
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="labelled data directory (table with pGC)")
    parser.add_argument("--model", required=True, metavar="NAME",
                        help="registry name (forest, hgb, catboost, cnn, ...; catboost-fast: the fast path)")
    parser.add_argument("--setup", required=True, metavar="SETUP",
                        help="all2all (random 76:4:20 split), virgo2fornax or fornax2virgo "
                             "(train on one cluster, test on the other)")
    parser.add_argument("--out", required=True, metavar="BUNDLE", help="bundle directory or .zip file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and the split (default 0)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="decision threshold stored in the bundle: p_gc > X is a candidate (default 0.5)")
    parser.add_argument("--quick", action="store_true", help="the model's fast profile (fewer trees / epochs)")
    parser.add_argument("--calibration-fraction", type=float, default=None, metavar="F",
                        help="fraction of the training part held out as the calibration data of "
                             "`predict --fdr` (default 0.1; 0: none)")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Train, save and print the validation metrics."""
    from ..inference import train_bundle

    bundle = train_bundle(args.data, args.model, setup=args.setup, seed=args.seed, out=args.out,
                          threshold=args.threshold, quick=args.quick, progress=True,
                          **({} if args.calibration_fraction is None
                             else {"calibration_fraction": args.calibration_fraction}))
    pooled = bundle.metrics.get("pooled", {})
    shown = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in pooled.items())
    print(f"metrics on the test part of {bundle.training['setup']}: {shown}")
    print(f"bundle written to {bundle.path}")
    return 0
