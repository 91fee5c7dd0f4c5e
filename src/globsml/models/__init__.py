"""Models behind one registry of names.

Every model is a scikit-learn-compatible classifier: ``fit(X, y)`` returns
``self`` and ``predict_proba(X)[:, 1]`` is p_gc. Tabular models take the 29
published features (scaling is part of the model), image models the
(n, 2, 20, 20) cut-outs.
"""

from ._registry import *  # noqa: F403
from . import _registry

__all__ = [*_registry.__all__]
