"""SHAP values of tree ensembles (TreeExplainer).

A registry model is a ``Pipeline(preprocessor, estimator)`` that takes the
raw 29 features. TreeExplainer explains the final tree ensemble on the
features the preprocessor hands it; as long as the preprocessor keeps one
column per feature (imputation, rescaling) the values are reported under the
raw feature names, which is what a person reads.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import BaseDecisionTree

from .._errors import GlobsmlError

__all__ = ["ShapValues", "shap_values"]

#: Trees and forests of trees, whose SHAP values add up to the probability
#: (their leaves hold class frequencies); boosted trees add up to log-odds.
_PROBABILITY_TREES = (BaseDecisionTree, RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier,
                      ExtraTreesRegressor)


@dataclass
class ShapValues:
    """SHAP values of the GC class.

    Attributes
    ----------
    values : numpy.ndarray
        (n_sources, n_features); positive values push towards GC.
    base_value : float
        The expected model output over the background (what the values add to).
    feature_names : list of str
    output : str
        ``"probability"`` for forests (values add up to p_gc) or ``"log-odds"``
        for boosted trees (values add up to the raw margin).
    """

    values: np.ndarray
    base_value: float
    feature_names: list
    output: str

    def mean_abs(self):
        """Global importance: mean ``|SHAP|`` per feature, largest first."""
        imp = np.abs(self.values).mean(axis=0)
        return pd.Series(imp, index=self.feature_names, name="mean_abs_shap").sort_values(ascending=False)


def _split_pipeline(model):
    """Split a fitted model into (transform function, final estimator)."""
    if isinstance(model, Pipeline):
        head = model[:-1] if len(model.steps) > 1 else None
        est = model.steps[-1][1]
        return (head.transform if head is not None else (lambda X: X)), est
    return (lambda X: X), model


def _class1(values, expected, n_features):
    """Normalise SHAP's output for a binary classifier to the class-1 values."""
    if isinstance(values, list):  # old SHAP: one array per class
        values = values[1] if len(values) == 2 else values[0]
    values = np.asarray(values, dtype=float)
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    if values.ndim == 3:  # SHAP >= 0.45: (n, f, n_outputs)
        k = 1 if values.shape[2] == 2 else 0
        return values[:, :, k], float(expected[min(k, len(expected) - 1)])
    if values.ndim == 2 and values.shape[1] == n_features:  # single margin output
        return values, float(expected[-1])
    raise GlobsmlError(f"unexpected SHAP output of shape {values.shape}")


def shap_values(model, X, *, feature_names=None, background=None):
    """TreeExplainer SHAP values of the GC class for a tree ensemble.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        A tree ensemble (random forest, extra trees, gradient boosting,
        HistGradientBoosting, CatBoost, LightGBM ...), possibly the last
        step of a Pipeline.
    X : pandas.DataFrame
        Raw features of the sources to explain.
    feature_names : sequence of str, optional
        Names to report; default the columns of ``X`` (used whenever the
        preprocessor keeps one column per feature).
    background : pandas.DataFrame, optional
        Raw background data for the "interventional" algorithm; by default
        the tree path statistics of the model are used.

    Returns
    -------
    ShapValues

    Raises
    ------
    GlobsmlError
        If the model is not a tree ensemble TreeExplainer understands.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shap warns about matplotlib on import
            import shap
    except ImportError:  # pragma: no cover - shap is in the explain extra
        raise GlobsmlError("SHAP values need the `shap` package: pip install 'globsml[explain]'") from None
    transform, est = _split_pipeline(model)
    Xt = np.asarray(transform(X), dtype=float)
    names = list(feature_names if feature_names is not None else getattr(X, "columns", range(Xt.shape[1])))
    if Xt.shape[1] != len(names):
        try:
            names = [str(n) for n in model[:-1].get_feature_names_out()]
        except Exception:
            names = [f"x{i}" for i in range(Xt.shape[1])]
    bg = None if background is None else np.asarray(transform(background), dtype=float)
    try:
        explainer = shap.TreeExplainer(est, data=bg)
    except Exception as exc:
        raise GlobsmlError(
            f"SHAP TreeExplainer does not support {type(est).__name__} ({exc}); "
            "use permutation importance or LIME for this model"
        ) from None
    # check_additivity trips over float32 tree thresholds of some ensembles.
    raw = explainer.shap_values(Xt, check_additivity=False)
    values, base = _class1(raw, explainer.expected_value, Xt.shape[1])
    output = "probability" if isinstance(est, _PROBABILITY_TREES) else "log-odds"
    return ShapValues(values=values, base_value=base, feature_names=names, output=output)
