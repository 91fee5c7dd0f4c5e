"""The publication's experiments as one call: set-ups, the benchmark grid, the report.

- :mod:`._setups`: All2All (random 76:4:20, seeded), Cluster2Cluster
  (Virgo->Fornax, Fornax->Virgo) and leave-galaxies-out as index splits.
- :func:`run_benchmark`: every model x set-up x seed, resumable, with
  progress; writes tables (CSV, Markdown), per-galaxy tables, the FN/FP/TP
  lists (``errors.csv``), ROC and FDR-TPR figures, feature importances and a
  self-contained HTML report. ``globsml benchmark`` is its command line.
"""

from ._setups import (
    Split, Setup, SETUPS, SETUP_ALIASES, LGO_FOLDS, all2all_split, cluster2cluster_split,
    leave_galaxies_out_splits, get_setup, register_setup, setup_names, setup_title, setup_runs,
    resolve_setups,
)
from ._data import resolve_dataset
from ._fit import fit_on_split, model_inputs, training_rows
from ._result import BenchmarkResult, load_runs, run_dir
from ._figures import curve_figures, reliability_figure, summary_figure, importance_figure
from ._report import (
    collect, write_report, results_table, display_table, markdown_table, headline_table, best_models,
    TABLE_METRICS, HEADLINE_METRICS, BEST_RULE,
)
from ._runner import run_benchmark, DEFAULT_MODELS, DEFAULT_SETUPS

__all__ = [
    "Split",
    "Setup",
    "SETUPS",
    "SETUP_ALIASES",
    "LGO_FOLDS",
    "all2all_split",
    "cluster2cluster_split",
    "leave_galaxies_out_splits",
    "get_setup",
    "register_setup",
    "setup_names",
    "setup_title",
    "setup_runs",
    "resolve_setups",
    "resolve_dataset",
    "fit_on_split",
    "model_inputs",
    "training_rows",
    "run_benchmark",
    "DEFAULT_MODELS",
    "DEFAULT_SETUPS",
    "BenchmarkResult",
    "load_runs",
    "run_dir",
    "collect",
    "write_report",
    "results_table",
    "display_table",
    "markdown_table",
    "TABLE_METRICS",
    "headline_table",
    "best_models",
    "HEADLINE_METRICS",
    "BEST_RULE",
    "curve_figures",
    "reliability_figure",
    "summary_figure",
    "importance_figure",
]
