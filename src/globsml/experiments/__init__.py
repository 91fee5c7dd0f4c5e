"""The publication's experiments as one call: set-ups, the benchmark grid, the report.

- :mod:`._setups`: All2All (random 76:4:20, seeded), Cluster2Cluster
  (Virgo->Fornax, Fornax->Virgo) and leave-galaxies-out as index splits.
- :func:`run_benchmark`: every model x set-up x seed, resumable, with
  progress; writes tables (CSV, Markdown), per-galaxy tables, the FN/FP/TP
  lists (``errors.csv``), ROC and FDR-TPR figures, feature importances and a
  self-contained HTML report. ``globsml benchmark`` is its command line.
"""

from . import _figures, _report, _runner, _setups
from ._figures import *  # noqa: F403
from ._report import *  # noqa: F403
from ._runner import *  # noqa: F403
from ._setups import *  # noqa: F403

__all__ = [*_setups.__all__, *_runner.__all__, *_report.__all__, *_figures.__all__]
