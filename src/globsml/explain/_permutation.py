"""Permutation importance of any model (global)."""

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance as _sk_permutation_importance

from .._errors import GlobsmlError

__all__ = ["permutation_importances"]


def permutation_importances(model, X, y, *, scoring="roc_auc", n_repeats=5, seed=0, n_jobs=None):
    """How much the score drops when one feature is shuffled.

    A model-agnostic global importance: works for every tabular registry
    model (it only calls ``predict_proba``).

    Parameters
    ----------
    model : fitted classifier
        Takes ``X`` as it is (a DataFrame of raw features for registry models).
    X : pandas.DataFrame
        Evaluation features (held-out data gives the honest picture).
    y : array-like of {0, 1}
        Labels (1 = GC).
    scoring : str
        A scikit-learn scorer name; ROC AUC by default (threshold-free).
    n_repeats : int
        Shuffles per feature.
    seed : int
        Random state of the shuffles: same seed, same numbers.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``importance`` (mean score drop), ``std``, sorted
        by decreasing importance.
    """
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        raise GlobsmlError("permutation importance needs both GCs and non-GCs in the evaluation data")
    if len(y) != len(X):
        raise GlobsmlError(f"{len(X)} feature rows but {len(y)} labels")
    result = _sk_permutation_importance(
        model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=seed, n_jobs=n_jobs
    )
    names = list(X.columns) if hasattr(X, "columns") else [f"x{i}" for i in range(np.shape(X)[1])]
    table = pd.DataFrame(
        {"feature": names, "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
