"""``globsml explain``: why is this source a GC (or not)?"""

import re
from pathlib import Path

from .._errors import GlobsmlError
from ._help import SETUPS_PLACEHOLDER, RawRegistryHelpFormatter

HELP = "explain a model's verdict on one source (or all errors of a benchmark run) in a figure"

DESCRIPTION = """\
Explain why a model calls a source a GC. One figure shows the source's g and z
cut-outs, its p_gc, the explanation (LIME weights for tabular models, pixel
attributions over the cut-outs for image models) and its feature values
against the GC and non-GC distributions of the training data.

A registry model is trained first on the training side of --setup (default:
on the cluster the source is NOT in; the source's galaxy is always left out).
Published pre-trained networks (published-cnn-virgo2fornax ...) and model
bundles are used as they are.

With --errors RUN_DIR, explains every false positive and false negative of a
finished `globsml benchmark` run (RUN_DIR/errors.csv) into a folder with an
index.html page."""

EPILOG = """\
examples:
  globsml explain --model forest --source FCC47:10
  globsml explain --data /path/to/ImageData --model published-cnn-virgo2fornax --source FCC47:10 --out fcc47_10.png
  globsml explain --errors runs/bench1 --model logistic --limit 20
  globsml explain --importance --model forest --setup virgo2fornax --out importance_forest.png"""


def register(subparsers):
    p = subparsers.add_parser(
        "explain", help=HELP, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=RawRegistryHelpFormatter,
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--source", metavar="GALAXY:ID", help="the source to explain, e.g. FCC47:10")
    what.add_argument("--errors", metavar="RUN_DIR", help="explain all FP and FN of a benchmark run")
    what.add_argument("--importance", action="store_true",
                      help="global feature importance of a tabular --model (permutation; SHAP for trees), "
                           "trained and measured in --setup (default virgo2fornax)")
    p.add_argument("--model", metavar="M",
                   help="registry name, published model name or bundle path (with --errors: only this model)")
    p.add_argument("--data", metavar="DIR",
                   help="data directory, image folder or table (default: the mock survey; with --errors "
                        "the data of the run's config.json)")
    p.add_argument("--out", metavar="PATH",
                   help="figure file (default explain_GALAXY_ID_MODEL.png); with --errors a folder "
                        "(default RUN_DIR/explain)")
    p.add_argument("--setup", metavar="SETUP",
                   help="train as `globsml train --seed` does in this set-up (for lgo: the fold that tests "
                        f"the source; default: on the other cluster). {SETUPS_PLACEHOLDER}")
    p.add_argument("--seed", type=int, default=0, help="seed of training and LIME (default 0)")
    p.add_argument("--samples", type=int, default=5000, metavar="N",
                   help="LIME perturbation samples (default 5000, LIME's own default)")
    p.add_argument("--stability", type=int, default=0, metavar="K",
                   help="also compute LIME's VSI/CSI over K repeated calls (K >= 2)")
    p.add_argument("--baseline", choices=("zero", "blur"), default="zero",
                   help="reference image of the pixel attributions (default zero = empty sky)")
    p.add_argument("--pixels", choices=("auto", "ig", "occlusion", "lime"), default="auto",
                   help="pixel attributions of image models: integrated gradients (auto for torch networks), "
                        "occlusion (auto otherwise) or LIME on core/ring segments")
    p.add_argument("--limit", type=int, metavar="N", help="with --errors: at most N per model, set-up, seed and kind")
    p.add_argument("--quick", action="store_true", help="train with the models' quick (CI) profile")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model parameter (repeatable), e.g. --param epochs=10")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out even when it is not a figure (never an input)")
    p.set_defaults(func=run)


def parse_params(items):
    """``["epochs=10", "lr=0.01"]`` -> ``{"epochs": 10, "lr": 0.01}`` (numbers, booleans, None, else text)."""
    import ast

    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise GlobsmlError(f"--param {item!r}: expected KEY=VALUE, e.g. epochs=10")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


#: Magic bytes of the figure formats, to recognise a figure that may be replaced.
_FIGURE_MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml", ".eps": b"%!PS", ".ps": b"%!PS",
                 ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8"}


def _is_figure(path):
    with open(path, "rb") as fh:
        return fh.read(8).startswith(_FIGURE_MAGIC.get(path.suffix.lower(), b"\0unknown"))


def _check_figure(path, args):
    """The figure's path, checked before minutes of training and explaining."""
    from matplotlib.figure import Figure

    from .._paths import check_output_file, input_files

    suffixes = {f".{s}" for s in Figure().canvas.get_supported_filetypes()}
    return check_output_file(path, suffixes=suffixes, inputs=input_files(args.data), own=_is_figure,
                             overwrite=args.overwrite, kind="figure")


def run(args):
    from ..explain import explain_errors, explain_source, plot_explanation, save_figure
    from ..explain._source import parse_source
    from ..models import model_names
    from ..models._params import check_model_params

    if args.samples < 10:
        raise GlobsmlError(f"--samples must be at least 10, got {args.samples}")
    if args.stability and args.stability < 2:
        raise GlobsmlError(f"--stability compares at least 2 LIME calls, got {args.stability}")
    params = parse_params(args.param)
    if params and args.model in model_names():
        check_model_params(args.model, params, quick=args.quick)
    if args.errors is not None:
        from .._paths import check_output_dir

        out = check_output_dir(Path(args.out) if args.out else Path(args.errors) / "explain")
        index = explain_errors(args.errors, args.data, out, model=args.model, limit=args.limit,
                               num_samples=args.samples, quick=args.quick)
        print(index)
        return 0
    if not args.model:
        what = "--importance" if args.importance else "--source"
        raise GlobsmlError(f"{what} needs --model (a registry name, published model or bundle path)")
    if args.importance:
        from ..explain import global_importance, plot_global_importance

        out = _check_figure(Path(args.out) if args.out else Path(f"importance_{args.model}.png"), args)
        result = global_importance(args.model, args.data, setup=args.setup or "virgo2fornax", seed=args.seed,
                                   quick=args.quick, params=params)
        save_figure(plot_global_importance(result), out)
        top = ", ".join(result.permutation["feature"].iloc[:3])
        print(f"{args.model} ({result.setup}): most important {top}; figure {out}")
        return 0
    galaxy, ident = parse_source(args.source)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(args.model)).name)
    out = _check_figure(Path(args.out) if args.out else Path(f"explain_{galaxy}_{ident}_{slug}.png"), args)
    expl = explain_source(
        args.model, args.data, galaxy, ident, setup=args.setup, seed=args.seed,
        num_samples=args.samples, stability_calls=args.stability, baseline=args.baseline, pixels=args.pixels,
        quick=args.quick,
        params=params,
    )
    save_figure(plot_explanation(expl), out)
    print(f"{expl.source}: p_gc = {expl.p_gc:.3f} ({expl.verdict}) by {expl.model_name}; figure {out}")
    return 0
