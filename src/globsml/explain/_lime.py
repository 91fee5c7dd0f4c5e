"""LIME for tabular models and the LIME stability indices VSI and CSI.

Dold & Fahrion 2022 explain single predictions with LIME
(``LimeTabularExplainer`` with a kernel width of 1.75, fitted on the
training data) and judge how far an explanation can be trusted with the
stability indices of Visani et al. (2020, "Statistical stability indices for
LIME", JORS 73, 91; package ``lime-stability``):

* VSI, the variables stability index: LIME is run several times on the same
  source; for every pair of runs, the share of selected variables the two
  runs have in common; averaged, in percent.
* CSI, the coefficients stability index: for every variable, the share of
  pairs of runs whose 95 % confidence intervals of the weighted ridge
  coefficient overlap; averaged over variables, in percent.

``lime-stability`` 0.1.1 is not used: it needs ``statsmodels`` (only for one
weighted least-squares fit) and the obsolete ``statistics`` backport, and it
is unmaintained. The indices are a few lines of numpy, implemented here
after its published formulas (same numbers; see the tests).
"""

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from .._errors import GlobsmlError

__all__ = [
    "LimeExplanation",
    "LimeStability",
    "lime_explain",
    "lime_stability",
    "ridge_confidence_intervals",
    "stability_indices",
    "LIME_KERNEL_WIDTH",
]

#: Kernel width of the published LIME explanations.
LIME_KERNEL_WIDTH = 1.75


@dataclass
class LimeExplanation:
    """One LIME explanation of the GC class (label 1).

    Attributes
    ----------
    features : list of str
        The selected features, most important (largest absolute weight) first.
    weights : numpy.ndarray
        Their local linear weights on p_gc (positive: pushes towards GC).
    rules : list of str
        LIME's readable condition of each feature (e.g. ``"colour > 1.21"``).
    intercept, local_pred, score : float
        Of the local weighted ridge model (``score`` is its weighted R^2).
    p_gc : float
        The model's p_gc of the explained source.
    intervals : dict of str to (float, float)
        95 % confidence interval of each selected feature's coefficient.
    filled : list of str
        Features that were NaN in the source and were replaced by the median
        of the training data for LIME (LIME cannot perturb NaN).
    """

    features: list
    weights: np.ndarray
    rules: list
    intercept: float
    local_pred: float
    score: float
    p_gc: float
    intervals: dict = field(default_factory=dict)
    filled: list = field(default_factory=list)

    def as_frame(self):
        """The explanation as a table (feature, rule, weight, ci_low, ci_high)."""
        ci = np.array([self.intervals.get(f, (np.nan, np.nan)) for f in self.features], dtype=float)
        return pd.DataFrame(
            {
                "feature": self.features,
                "rule": self.rules,
                "weight": self.weights,
                "ci_low": ci[:, 0] if len(ci) else [],
                "ci_high": ci[:, 1] if len(ci) else [],
            }
        )


@dataclass
class LimeStability:
    """Stability of LIME on one source over repeated calls.

    Attributes
    ----------
    vsi, csi : float
        Variables and coefficients stability indices, 0 to 100.
    explanations : list of LimeExplanation
        The repeated explanations the indices compare.
    """

    vsi: float
    csi: float
    explanations: list


# -- LIME internals we need to see ------------------------------------------
class _RecordingRidge(Ridge):
    """LIME's default local model (ridge, alpha 1), remembering what it was fitted on.

    The stability indices need the local data, weights and labels that LIME
    passes to its regressor; recording them here avoids patching LIME.
    """

    def fit(self, X, y, sample_weight=None):
        self.X_local_ = np.asarray(X, dtype=float)
        self.y_local_ = np.asarray(y, dtype=float)
        self.w_local_ = np.asarray(sample_weight, dtype=float)
        return super().fit(X, y, sample_weight=sample_weight)


def _training_matrix(training, feature_names):
    """Training data as a finite float array (rows with NaN dropped)."""
    if isinstance(training, pd.DataFrame):
        missing = [c for c in feature_names if c not in training.columns]
        if missing:
            raise GlobsmlError(f"training data lack feature column(s) {', '.join(missing)}")
        training = training.loc[:, list(feature_names)].to_numpy(dtype=float)
    training = np.asarray(training, dtype=float)
    if training.ndim != 2 or training.shape[1] != len(feature_names):
        raise GlobsmlError(
            f"training data must have {len(feature_names)} feature columns, got shape {training.shape}"
        )
    # LIME's quartile discretiser computes percentiles, which NaN poisons; the
    # published training set drops the same rows (NaN photometry).
    finite = np.isfinite(training).all(axis=1)
    training = training[finite]
    if len(training) < 10:
        raise GlobsmlError(f"LIME needs at least 10 training rows without NaN, got {len(training)}")
    return training


def _instance(x, feature_names, training):
    if isinstance(x, pd.Series):
        x = x.reindex(list(feature_names))
    elif isinstance(x, pd.DataFrame):
        if len(x) != 1:
            raise GlobsmlError(f"explain one source at a time, got {len(x)} rows")
        x = x.iloc[0].reindex(list(feature_names))
    x = np.asarray(x, dtype=float).ravel()
    if x.shape != (len(feature_names),):
        raise GlobsmlError(f"the source must have {len(feature_names)} features, got {x.shape[0]}")
    nan = ~np.isfinite(x)
    filled = [feature_names[i] for i in np.flatnonzero(nan)]
    if nan.any():
        x = x.copy()
        x[nan] = np.median(training[:, nan], axis=0)
    return x, filled


def _predict_fn(model, feature_names):
    """LIME passes numpy arrays; registry models take a DataFrame of named features."""

    def predict(a):
        frame = pd.DataFrame(np.asarray(a, dtype=float), columns=list(feature_names))
        return np.asarray(model.predict_proba(frame), dtype=float)

    return predict


def _explainer(training, feature_names, *, kernel_width, seed, discretize):
    try:
        from lime.lime_base import LimeBase
        from lime.lime_tabular import LimeTabularExplainer
    except ImportError:  # pragma: no cover - lime is in the explain extra
        raise GlobsmlError("LIME explanations need the `lime` package: pip install 'globsml[explain]'") from None

    class _RecordingBase(LimeBase):
        # Which features LIME selected, in the column order of the local model.
        def feature_selection(self, *args, **kwargs):
            used = super().feature_selection(*args, **kwargs)
            self.used_features_ = np.asarray(used, dtype=int)
            return used

    explainer = LimeTabularExplainer(
        training,
        mode="classification",
        feature_names=list(feature_names),
        class_names=["non-GC", "GC"],
        kernel_width=kernel_width,
        discretize_continuous=discretize,
        random_state=seed,
    )
    explainer.base = _RecordingBase(explainer.base.kernel_fn, verbose=False, random_state=explainer.random_state)
    return explainer


def ridge_confidence_intervals(X, y, weights, coef, *, alpha=1.0, z=1.96):
    """95 % confidence intervals of weighted ridge coefficients (Visani et al. 2020).

    The residual variance comes from the weighted least-squares fit with an
    intercept, divided by ``n - p``; the coefficient covariance is
    ``sigma2 (X'WX + alpha I)^-1 X'WX (X'WX + alpha I)^-1``, as in
    ``lime_stability.utils.compute_WLS_stdevs``.

    Returns
    -------
    numpy.ndarray
        (p, 2) array of (low, high) per coefficient.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    n, p = X.shape
    sw = np.sqrt(w)
    Xe = np.column_stack([np.ones(n), X])
    beta, *_ = np.linalg.lstsq(Xe * sw[:, None], y * sw, rcond=None)
    wresid = sw * (y - Xe @ beta)
    sigma2 = wresid @ wresid / (n - p)
    xtwx = (X * w[:, None]).T @ X
    partial = np.linalg.inv(xtwx + alpha * np.eye(p))
    var = np.diag(sigma2 * partial @ xtwx @ partial.T)
    sd = np.sqrt(np.clip(var, 0, None))
    coef = np.asarray(coef, dtype=float)
    return np.column_stack([coef - z * sd, coef + z * sd])


def stability_indices(intervals):
    """VSI and CSI of repeated LIME explanations.

    Parameters
    ----------
    intervals : list of dict of str to (float, float)
        One dict per LIME call: selected feature -> confidence interval of
        its coefficient. Every call selects the same number of features.

    Returns
    -------
    vsi, csi : float
        In percent. VSI: mean over pairs of calls of the number of common
        features over the number selected. CSI: mean over features (selected
        in at least two calls) of the percentage of pairs of calls whose
        intervals overlap (open intervals, as ``lime-stability``).
    """
    if len(intervals) < 2:
        raise GlobsmlError(f"the stability indices compare at least 2 LIME calls, got {len(intervals)}")
    n_features = len(intervals[0])
    if n_features == 0 or any(len(i) != n_features for i in intervals):
        raise GlobsmlError("every LIME call must select the same, non-zero number of features")
    pairs = list(combinations(range(len(intervals)), 2))
    common = sum(len(set(intervals[a]) & set(intervals[b])) for a, b in pairs)
    vsi = 100.0 * common / (len(pairs) * n_features)
    shares = []
    for feat in sorted({f for i in intervals for f in i}):
        cis = [i[feat] for i in intervals if feat in i]
        if len(cis) < 2:
            continue
        overlap = [c1[0] < c2[1] and c2[0] < c1[1] for c1, c2 in combinations(cis, 2)]
        shares.append(100.0 * np.mean(overlap))
    csi = float(np.mean(shares)) if shares else float("nan")
    return float(vsi), csi


def _one_call(explainer, x, predict, feature_names, *, num_features, num_samples, filled):
    regressor = _RecordingRidge(alpha=1.0, fit_intercept=True)
    exp = explainer.explain_instance(
        x, predict, labels=(1,), num_features=num_features, num_samples=num_samples, model_regressor=regressor
    )
    pairs = exp.local_exp[1]
    rules = [r for r, _ in exp.as_list(label=1)]
    used = explainer.base.used_features_
    ci = ridge_confidence_intervals(regressor.X_local_, regressor.y_local_, regressor.w_local_, regressor.coef_)
    intervals = {feature_names[f]: (float(lo), float(hi)) for f, (lo, hi) in zip(used, ci)}
    return LimeExplanation(
        features=[feature_names[f] for f, _ in pairs],
        weights=np.array([w for _, w in pairs], dtype=float),
        rules=rules,
        intercept=float(np.ravel(exp.intercept[1])[0]),
        local_pred=float(np.ravel(exp.local_pred)[0]),
        score=float(exp.score),
        p_gc=float(exp.predict_proba[1]),
        intervals=intervals,
        filled=list(filled),
    )


def lime_explain(
    model,
    x,
    training,
    *,
    feature_names=None,
    num_features=10,
    num_samples=5000,
    kernel_width=LIME_KERNEL_WIDTH,
    discretize=True,
    seed=0,
):
    """Explain the p_gc of one source with LIME.

    Parameters
    ----------
    model : classifier
        Any fitted estimator whose ``predict_proba`` takes a DataFrame of
        ``feature_names`` (every tabular model of the registry).
    x : pandas.Series, one-row DataFrame or 1-D array
        The source's features.
    training : pandas.DataFrame or 2-D array
        Training features; LIME samples perturbations from their
        distribution (rows with NaN are left out).
    feature_names : sequence of str, optional
        Defaults to the 29 published features.
    num_features : int
        How many features the explanation keeps.
    num_samples : int
        Perturbed samples of the local model.
    kernel_width : float
        Of LIME's exponential kernel (published: 1.75).
    discretize : bool
        LIME's quartile discretisation of continuous features (LIME's default).
    seed : int
        LIME's random state: the same seed gives the same explanation.

    Returns
    -------
    LimeExplanation
    """
    (explanation,) = _lime_calls(model, x, training, n_calls=1, feature_names=feature_names,
                                 num_features=num_features, num_samples=num_samples,
                                 kernel_width=kernel_width, discretize=discretize, seed=seed)
    return explanation


def lime_stability(
    model,
    x,
    training,
    *,
    n_calls=10,
    feature_names=None,
    num_features=10,
    num_samples=5000,
    kernel_width=LIME_KERNEL_WIDTH,
    discretize=True,
    seed=0,
):
    """Run LIME ``n_calls`` times on one source and compute VSI and CSI.

    Parameters are those of :func:`lime_explain`; the calls draw successive
    samples of one random state seeded with ``seed`` (so the result is
    reproducible while the calls differ).

    Returns
    -------
    LimeStability
    """
    exps = _lime_calls(model, x, training, n_calls=n_calls, feature_names=feature_names,
                       num_features=num_features, num_samples=num_samples,
                       kernel_width=kernel_width, discretize=discretize, seed=seed)
    vsi, csi = stability_indices([e.intervals for e in exps])
    return LimeStability(vsi=vsi, csi=csi, explanations=exps)


def _lime_calls(model, x, training, *, n_calls, feature_names, num_features, num_samples, kernel_width,
                discretize, seed):
    """``n_calls`` LIME explanations of one source by one explainer seeded with ``seed``.

    The calls draw successive samples of the explainer's random state: the
    first is :func:`lime_explain`'s explanation, the others differ from it.
    """
    feature_names = _feature_names(feature_names)
    train = _training_matrix(training, feature_names)
    x, filled = _instance(x, feature_names, train)
    explainer = _explainer(train, feature_names, kernel_width=kernel_width, seed=seed, discretize=discretize)
    predict = _predict_fn(model, feature_names)
    num_features = min(int(num_features), len(feature_names))
    return [
        _one_call(explainer, x, predict, feature_names, num_features=num_features,
                  num_samples=num_samples, filled=filled)
        for _ in range(int(n_calls))
    ]


def _feature_names(feature_names):
    if feature_names is None:
        from ..data import FEATURES

        feature_names = FEATURES
    return list(feature_names)
