"""Use trained models on new data: bundles, candidate catalogues, full frames, survey scale.

- :func:`train_bundle` fits a registered model under a set-up and saves a
  :class:`Bundle` (skops / CatBoost / torch state, JSON manifest with hashes);
  :func:`load_bundle` refuses tampered bundles and bundles of another globsml
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

from ._bundle import *  # noqa: F403
from ._catalogue import *  # noqa: F403
from ._completeness import *  # noqa: F403
from ._conformal import *  # noqa: F403
from ._dask import *  # noqa: F403
from ._detect import *  # noqa: F403
from ._figures import *  # noqa: F403
from ._predict import *  # noqa: F403
from ._train import *  # noqa: F403
from . import _bundle, _catalogue, _completeness, _conformal, _dask, _detect, _figures, _predict, _train

__all__ = [
    *_bundle.__all__,
    *_catalogue.__all__,
    *_completeness.__all__,
    *_conformal.__all__,
    *_dask.__all__,
    *_detect.__all__,
    *_figures.__all__,
    *_predict.__all__,
    *_train.__all__,
]
