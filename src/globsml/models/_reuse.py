"""Reuse of identical fits inside one benchmark run group.

Two registry models can fit the very same estimator on the very same data:
``calibrated-forest`` fits the ``forest`` (same parameters, same seed) and
then calibrates it on the validation split. Fits are deterministic given
their parameters and data, so the second one can take the first one's
fitted estimator instead of growing 100 trees again. The cache is off
unless a caller switches it on with :func:`reusing_fits` (the benchmark
does, around the models of one split), so that nothing is held in memory
behind a user's back.
"""

from collections import OrderedDict
from contextlib import contextmanager

import joblib

__all__ = ["reusing_fits", "fit_or_reuse"]

_CACHE = None  # an OrderedDict while reusing_fits() is active
_MAX_ENTRIES = 2


@contextmanager
def reusing_fits():
    """Within this block, :func:`fit_or_reuse` returns an earlier identical fit."""
    global _CACHE
    outer = _CACHE
    _CACHE = OrderedDict() if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            _CACHE = None


def _key(estimator, X, y):
    # The parameters (nested estimators included) and the data decide a fit.
    return joblib.hash((type(estimator).__qualname__, estimator.get_params(deep=True), X, y))


def fit_or_reuse(estimator, X, y):
    """``estimator.fit(X, y)``, or the same fit done earlier within :func:`reusing_fits`.

    Parameters
    ----------
    estimator : unfitted scikit-learn estimator
    X, y : training data

    Returns
    -------
    estimator
        The fitted estimator: ``estimator`` itself, or the earlier identical
        fit (shared: do not fit it again).
    """
    if _CACHE is None:
        return estimator.fit(X, y)
    key = _key(estimator, X, y)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    fitted = estimator.fit(X, y)
    _CACHE[key] = fitted
    while len(_CACHE) > _MAX_ENTRIES:
        _CACHE.popitem(last=False)
    return fitted
