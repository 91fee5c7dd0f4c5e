"""``globsml benchmark``: the publication's experiments, every model in every set-up."""

from ._help import SETUPS_AND_ALIASES_PLACEHOLDER, RegistryHelpFormatter

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``benchmark`` subcommand."""
    # Defaults are resolved in run(): importing globsml.experiments here would load
    # every model (and torch) for every globsml command, --help included.
    parser = subparsers.add_parser(
        "benchmark",
        help="train and evaluate every model in every set-up; write tables, figures and a report",
        description=(
            "Train and evaluate models in the publication's set-ups and write into --out a results table (results.csv, "
            "results.md: mean and std over runs), per-galaxy tables, the missed/fake/found GCs "
            "(errors.csv), ROC and FDR-TPR figures, feature importances and report.html. "
            "Finished runs are kept: rerun the same command to resume an interrupted benchmark."
        ),
        formatter_class=RegistryHelpFormatter,
    )
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="labelled data directory (default: the embedded mock survey)")
    parser.add_argument("--models", nargs="+", metavar="NAME", default=None,
                        help="registry names, or 'all' (default: globsml.experiments.DEFAULT_MODELS, the "
                             "published tabular models plus hgb and calibrated-forest)")
    parser.add_argument("--setups", nargs="+", metavar="NAME", default=None,
                        help=f"{SETUPS_AND_ALIASES_PLACEHOLDER} (default: all)")
    parser.add_argument("--seeds", type=int, default=10, metavar="N",
                        help="number of All2All seeds (default: 10)")
    parser.add_argument("--folds", type=int, default=None, metavar="K",
                        help="leave-galaxies-out folds (default: globsml.experiments.LGO_FOLDS)")
    parser.add_argument("--out", default="globsml-benchmark", metavar="DIR",
                        help="output directory (default: ./globsml-benchmark)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast look: the models' quick profiles (fewer trees and iterations) and, "
                             "without --data, the mock survey at half size")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="OpenMP/BLAS threads and joblib workers per model fit (default: 1; 0 = the "
                             "libraries' defaults). More than one often slows down on shared machines")
    parser.add_argument("--param", action="append", default=[], metavar="MODEL:KEY=VALUE",
                        help="override a model parameter, e.g. cnn:epochs=10 or "
                             "cnn+1nn:cnn_params.epochs=10 (VALUE is read as JSON where it can be; "
                             "repeat for several)")
    parser.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="worker processes, each taking the runs of one split at a time "
                             "(default: 0 = one per CPU core this process may use); results do not depend on it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def parse_params(items):
    """``["cnn:epochs=10", "cnn+1nn:cnn_params.epochs=10"]`` -> nested dicts by model."""
    import json

    from .._errors import GlobsmlError

    params = {}
    for item in items:
        model, sep, assignment = item.partition(":")
        key, eq, text = assignment.partition("=")
        if not (sep and eq and model and key):
            raise GlobsmlError(f"--param {item!r}: expected MODEL:KEY=VALUE, e.g. cnn:epochs=10")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        *path, last = key.split(".")
        node = params.setdefault(model, {})
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return params


def run(args):
    """Run the benchmark; print the results table and where the report is."""
    from ..experiments import LGO_FOLDS, display_table, markdown_table, run_benchmark
    params = parse_params(args.param)
    result = run_benchmark(args.data, models=args.models, setups=args.setups, seeds=args.seeds,
                           out=args.out, quick=args.quick, progress=not args.no_progress,
                           n_folds=LGO_FOLDS if args.folds is None else args.folds, threads=args.threads or None,
                           jobs=args.jobs or None, params=params)
    print(markdown_table(display_table(result.table)), end="")
    print(f"{result.computed} run(s) computed, {result.skipped} resumed from {result.out}")
    print(f"report: {result.files.get('report.html', result.out)}")
    return 0
