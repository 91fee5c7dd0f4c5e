"""The fast path for survey-scale tables: CatBoost on the raw features.

Tree ensembles do not care about monotone rescaling of their inputs, so the
published rescaling in front of a tree model only costs time at prediction
(about as much as 1000 CatBoost trees, see ``benchmarks/bench_predict.py``).
:class:`FastCatBoostClassifier` takes the raw 29 features as float32 (NaN
handled natively by CatBoost), uses 300 oblivious trees of depth 6 (as
accurate as the published 1000 on the mock survey) and predicts through
CatBoost's raw score. Registered as ``"catboost-fast"`` by
:func:`globsml.inference.train_bundle` (so ``globsml train --model
catboost-fast``); saved in CatBoost's own format in bundles.
"""

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier

from ..data import FEATURES, GC_THRESHOLD

__all__ = ["FastCatBoostClassifier"]


def _as_float32(X):
    if isinstance(X, pd.DataFrame):
        cols = [c for c in FEATURES if c in X.columns]
        X = X.loc[:, cols] if len(cols) == len(FEATURES) else X
        return np.ascontiguousarray(X.to_numpy(dtype=np.float32, na_value=np.nan))
    return np.ascontiguousarray(np.asarray(X, dtype=np.float32))


class FastCatBoostClassifier(CatBoostClassifier):
    """CatBoost on raw float32 features; ``predict_proba`` through the raw score.

    Same parameters as :class:`catboost.CatBoostClassifier`. The
    probabilities are the logistic function of CatBoost's raw score, as
    CatBoost's own ``Probability`` prediction for the Logloss objective.
    """

    def fit(self, X, y=None, eval_set=None, **kwargs):
        """Fit on the raw features (a DataFrame of the 29 features or an array)."""
        if eval_set is not None:
            eval_set = (_as_float32(eval_set[0]), np.asarray(eval_set[1]))
        return super().fit(_as_float32(X), y, eval_set=eval_set, **kwargs)

    def predict_proba(self, X, **kwargs):
        """(n, 2) array of [p(not GC), p(GC)]."""
        threads = self.get_params().get("thread_count", -1) or -1
        raw = np.asarray(super().predict(_as_float32(X), prediction_type="RawFormulaVal", thread_count=threads),
                         dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-raw))
        return np.column_stack([1.0 - p, p])

    def predict(self, X, **kwargs):
        """1 where p(GC) > GC_THRESHOLD, else 0."""
        return (self.predict_proba(X)[:, 1] > GC_THRESHOLD).astype(np.int64)
