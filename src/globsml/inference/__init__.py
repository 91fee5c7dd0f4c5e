"""Use trained models on new data: bundles, candidate catalogues, full frames, survey scale.

- :func:`train_bundle` fits a registered model under a set-up and saves a
  :class:`Bundle` (skops / CatBoost / torch state, JSON manifest with hashes);
  :func:`load_bundle` refuses untrusted objects, damaged bundles and bundles of another globsml
  version or feature list. The published networks load by name.
- :func:`predict_catalogue` writes candidate catalogues (astropy QTables
  with units, sky positions and provenance: ECSV, FITS, VOTable, Parquet,
  CSV; :func:`write_regions` for ds9) from a labelled data set, a table
  alone or cut-outs alone, with ``p_gc_std`` and, on request, a threshold
  that controls the false discovery rate (:func:`fdr_threshold`).
- :func:`detect_candidates` goes from a g/z frame pair to candidates.
- :func:`plot_candidate_colours` shows the colours of the candidates.
- :func:`predict_partitions` runs over partitioned Parquet catalogues and
  cut-out stacks on a dask.distributed cluster, partition by partition.
"""

from ._bundle import (
    Bundle, load_bundle, published_bundle, PUBLISHED_BUNDLES, BUNDLE_FORMAT, BUNDLE_TYPES, check_bundle_target,
)
from ._catalogue import (
    CATALOGUE_FORMATS, POSITION_COLUMNS, PHOTOMETRY_COLUMNS, COLUMN_DESCRIPTIONS, catalogue_format, catalogue_table, catalogue_dataframe, catalogue_provenance, write_catalogue, read_catalogue, write_regions,
)
from ._completeness import (
    inject_gcs, source_free_backgrounds, draw_injections, injection_recovery, completeness_curve, compare_completeness, mock_truth, plot_completeness,
    corrected_luminosity_function, plot_luminosity_function, COMPLETENESS_VARIABLES, LF_MAGNITUDE,
)
from ._conformal import (
    conformal_pvalues, benjamini_hochberg, fdr_threshold, calibration_shift, CalibrationShiftWarning, SHIFT_QUANTILE, SHIFT_PVALUE, SHIFT_STATISTIC,
)
from ._dask import (
    Partition, write_partitions, list_partitions, predict_partitions, read_partitioned,
)
from ._detect import detect_candidates
from ._figures import plot_candidate_colours
from ._predict import (
    predict_catalogue, catalogue_frame, catalogue_metrics, evaluate_predictions, metrics_summary,
)
from ._train import train_bundle, CALIBRATION_FRACTION

__all__ = [
    "Bundle",
    "load_bundle",
    "published_bundle",
    "PUBLISHED_BUNDLES",
    "BUNDLE_FORMAT",
    "BUNDLE_TYPES",
    "check_bundle_target",
    "CATALOGUE_FORMATS",
    "POSITION_COLUMNS",
    "PHOTOMETRY_COLUMNS",
    "COLUMN_DESCRIPTIONS",
    "catalogue_format",
    "catalogue_table",
    "catalogue_dataframe",
    "catalogue_provenance",
    "write_catalogue",
    "read_catalogue",
    "write_regions",
    "inject_gcs",
    "source_free_backgrounds",
    "draw_injections",
    "injection_recovery",
    "completeness_curve",
    "compare_completeness",
    "mock_truth",
    "plot_completeness",
    "corrected_luminosity_function",
    "plot_luminosity_function",
    "COMPLETENESS_VARIABLES",
    "LF_MAGNITUDE",
    "conformal_pvalues",
    "benjamini_hochberg",
    "fdr_threshold",
    "calibration_shift",
    "CalibrationShiftWarning",
    "SHIFT_QUANTILE",
    "SHIFT_PVALUE",
    "SHIFT_STATISTIC",
    "Partition",
    "write_partitions",
    "list_partitions",
    "predict_partitions",
    "read_partitioned",
    "detect_candidates",
    "plot_candidate_colours",
    "predict_catalogue",
    "catalogue_frame",
    "catalogue_metrics",
    "evaluate_predictions",
    "metrics_summary",
    "train_bundle",
    "CALIBRATION_FRACTION",
]
