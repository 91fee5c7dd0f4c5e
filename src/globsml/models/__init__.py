"""Models behind one registry of names.

Every model is a scikit-learn-compatible classifier: ``fit(X, y)`` returns
``self`` and ``predict_proba(X)[:, 1]`` is p_gc. Tabular models take the 29
published features (scaling is part of the model), image models the
(n, 2, 20, 20) cut-outs.
"""

from ._registry import *  # noqa: F403
from . import _registry
from . import _calibration, _tabular  # tabular models first: registry order = report order (helper 5)
from ._calibration import *  # noqa: F403,E402
from ._tabular import *  # noqa: F403,E402

__all__ = [*_registry.__all__, *_calibration.__all__, *_tabular.__all__]
