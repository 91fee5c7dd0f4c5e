"""Per-source uncertainty of p_gc: the spread of p_gc over a model's members.

Every model family gives ``p_gc_std`` beside ``p_gc``, the standard
deviation of the probability over the members of an ensemble that the model
already is, or that it defines without refitting:

- **networks (CNN)**: over the MC-dropout passes (the masks that ``p_gc``
  averages; Gal & Ghahramani 2016);
- **forests** (random forest, the trees of a calibrated forest through its
  calibration map): over the trees;
- **AdaBoost**: over its boosted forests, weighted by their boosting weights;
- **CatBoost**: over a virtual ensemble (Malinin, Prokhorenkova & Ustimenko
  2021): the models truncated at ten points of the second half of the
  boosting sequence, as CatBoost's ``virtual_ensembles_predict``;
- **histogram gradient boosting**: the same virtual ensemble, from the
  staged predictions of the second half of the boosting sequence;
- **k nearest neighbours**: over the k neighbours' labels.

A large ``p_gc_std`` says the members disagree about a source: it is the
model's own (epistemic, for the ensembles) uncertainty, not an error bar on
the label. Single models (logistic regression, the SVMs, one tree, the
nearest neighbour, the MLP and TabNet) have no members: their
``p_gc_std`` is NaN.
"""

import numpy as np

__all__ = ["predict_proba_std", "VIRTUAL_ENSEMBLE_SIZE"]

#: Members of a virtual ensemble of a boosted model.
VIRTUAL_ENSEMBLE_SIZE = 10


def predict_proba_std(model, X):
    """p_gc and its spread over the model's members.

    Parameters
    ----------
    model : fitted classifier
        A registry model (a scikit-learn ``Pipeline`` ending in a forest,
        AdaBoost, CatBoost, histogram gradient boosting or kNN; a
        ``ValidationCalibratedClassifier``; a CNN), or anything with
        ``predict_proba``.
    X : pandas.DataFrame or numpy.ndarray
        What ``model.predict_proba`` takes.

    Returns
    -------
    p_gc : numpy.ndarray
        ``model.predict_proba(X)[:, 1]``, unchanged.
    p_gc_std : numpy.ndarray
        Standard deviation of p_gc over the members (NaN for a model
        without members).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from globsml.models import predict_proba_std
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    >>> p, std = predict_proba_std(forest, X[:4])
    >>> bool(np.allclose(p, forest.predict_proba(X[:4])[:, 1]))
    True
    >>> bool(np.all((std >= 0) & (std <= 0.5)))
    True
    """
    own = getattr(model, "predict_proba_std", None)
    if own is None and hasattr(model, "cnn_"):  # a published network wraps a CNN
        own = model.cnn_.predict_proba_std
    if own is not None:
        p, std = own(X)
        return np.asarray(p, dtype=np.float64), np.asarray(std, dtype=np.float64)
    p = np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    members = _member_probabilities(model, X)
    if members is None:
        return p, np.full(len(p), np.nan)
    values, weights = members
    return p, _weighted_std(values, weights)


def _weighted_std(values, weights):
    """Standard deviation over axis 0 of (members, n) ``values``."""
    values = np.asarray(values, dtype=np.float64)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mean = np.tensordot(w, values, axes=1)
    return np.sqrt(np.maximum(np.tensordot(w, (values - mean) ** 2, axes=1), 0.0))


def _member_probabilities(model, X):
    """((members, n) p_gc of the members, weights or None), or None without members."""
    from sklearn.pipeline import Pipeline

    from ._calibration import ValidationCalibratedClassifier

    if isinstance(model, ValidationCalibratedClassifier):
        inner = _member_probabilities(model.estimator_, X)
        if inner is None:
            return None
        values, weights = inner
        # The members' p_gc through the same calibration map as the ensemble's.
        calibrator = model.calibrated_.calibrated_classifiers_[0].calibrators[0]
        return np.stack([calibrator.predict(v) for v in values]), weights
    if isinstance(model, Pipeline):
        Xt = model[:-1].transform(X) if len(model.steps) > 1 else X
        return _final_members(model.steps[-1][1], Xt)
    return _final_members(model, X)


def _final_members(est, X):
    from sklearn.ensemble import (AdaBoostClassifier, ExtraTreesClassifier, HistGradientBoostingClassifier,
                                  RandomForestClassifier)
    from sklearn.neighbors import KNeighborsClassifier

    gc = 1  # column of the GC class (classes are [0, 1])
    if isinstance(est, (RandomForestClassifier, ExtraTreesClassifier)):
        # The forest fits its trees on a float32 array without feature names.
        Xa = np.asarray(X, dtype=np.float32)
        return np.stack([tree.predict_proba(Xa)[:, gc] for tree in est.estimators_]), None
    if isinstance(est, AdaBoostClassifier):
        Xa = np.asarray(X)
        values = np.stack([member.predict_proba(Xa)[:, gc] for member in est.estimators_])
        return values, est.estimator_weights_[: len(values)]
    if isinstance(est, HistGradientBoostingClassifier):
        stages = np.stack([p[:, gc] for p in est.staged_predict_proba(X)])
        return stages[_virtual_members(len(stages))], None
    if isinstance(est, KNeighborsClassifier) and est.weights == "uniform":
        neighbours = est.kneighbors(X, return_distance=False)
        labels = np.asarray(est._y)[neighbours]  # encoded classes: 1 is the GC class
        return (labels == gc).T.astype(np.float64), None
    if _is_catboost(est):
        raw = est.virtual_ensembles_predict(np.asarray(X, dtype=np.float32), prediction_type="VirtEnsembles",
                                            virtual_ensembles_count=VIRTUAL_ENSEMBLE_SIZE)
        return (1.0 / (1.0 + np.exp(-raw[..., 0]))).T, None
    return None


def _virtual_members(n_stages):
    """Indices of the truncated models of a virtual ensemble (second half of the sequence)."""
    first = n_stages // 2
    return np.unique(np.linspace(first, n_stages - 1, VIRTUAL_ENSEMBLE_SIZE).round().astype(int))


def _is_catboost(est):
    import sys

    if "catboost" not in sys.modules:
        return False
    from catboost import CatBoost

    return isinstance(est, CatBoost)
