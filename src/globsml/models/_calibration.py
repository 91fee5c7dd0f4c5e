"""Probability calibration on a held-out validation split.

A classifier's score is not automatically a probability: a random forest's
vote fraction, for instance, is squeezed towards 0.5 and a boosted model's
tends to be over-confident. :class:`ValidationCalibratedClassifier` fits a
model on the training data and then maps its scores to calibrated
probabilities with a monotone function fitted on the validation split (the
4 % of All2All, the 5 % of Cluster2Cluster), so that "p_gc = 0.8" means that
about 80 % of such sources are GCs. Calibration is monotone, so ROC AUC and
the ranking metrics barely change (isotonic regression can merge scores into
ties); the TPR/FDR at ``p_gc > 0.5`` does change.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from .._errors import GlobsmlError
from ._reuse import fit_or_reuse

__all__ = ["ValidationCalibratedClassifier"]

#: Below this many validation rows isotonic regression overfits; use Platt's sigmoid.
MIN_ISOTONIC_ROWS = 1000


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]


class ValidationCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classifier, then calibrate its probabilities on a validation split.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier with ``predict_proba`` (typically a
        ``Pipeline(preprocessor, model)``); cloned before fitting.
    method : {"auto", "isotonic", "sigmoid"}, default "auto"
        Calibration map. ``"auto"``: isotonic regression when the validation
        split has at least 1000 rows, Platt's sigmoid otherwise (isotonic
        regression overfits small sets).
    validation_fraction : float, default 0.05
        Share of the training data held out for calibration when ``fit``
        gets no ``eval_set`` (stratified, seeded by ``random_state``).
    random_state : int, default 0
        Seed of that split.

    Attributes
    ----------
    estimator_ : classifier
        The fitted model (on the training rows only).
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        The calibration map around the frozen ``estimator_``.
    method_ : str
        The calibration method used.
    classes_ : numpy.ndarray
    """

    def __init__(self, estimator, *, method="auto", validation_fraction=0.05, random_state=0):
        self.estimator = estimator
        self.method = method
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, y, *, eval_set=None):
        """Fit the model on ``X`` and the calibration map on the validation data.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
        y : array-like of {0, 1}
        eval_set : (X_val, y_val), optional
            The validation split; held out of ``X`` when not given.

        Returns
        -------
        self
        """
        if self.method not in ("auto", "isotonic", "sigmoid"):
            raise GlobsmlError(
                f"ValidationCalibratedClassifier: method must be 'auto', 'isotonic' or "
                f"'sigmoid', got {self.method!r}"
            )
        y = np.asarray(y)
        if eval_set is None:
            if not 0.0 < self.validation_fraction < 1.0:
                raise GlobsmlError(
                    "ValidationCalibratedClassifier: validation_fraction must be in (0, 1), "
                    f"got {self.validation_fraction!r}"
                )
            rows = np.arange(len(y))
            stratify = y if np.bincount(y.astype(int)).min(initial=len(y)) >= 2 else None
            tr, va = train_test_split(rows, test_size=self.validation_fraction,
                                      random_state=self.random_state, stratify=stratify)
            X_tr, y_tr, X_val, y_val = _take(X, tr), y[tr], _take(X, va), y[va]
        else:
            X_tr, y_tr = X, y
            X_val, y_val = eval_set[0], np.asarray(eval_set[1])
        if len(np.unique(y_val)) < 2:
            raise GlobsmlError(
                f"ValidationCalibratedClassifier: the validation split ({len(y_val)} rows) holds "
                "only one class; calibration needs GCs and non-GCs"
            )
        self.estimator_ = fit_or_reuse(clone(self.estimator), X_tr, y_tr)
        method = self.method
        if method == "auto":
            method = "isotonic" if len(y_val) >= MIN_ISOTONIC_ROWS else "sigmoid"
        self.method_ = method
        self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.estimator_), method=method)
        self.calibrated_.fit(X_val, y_val)
        self.classes_ = self.calibrated_.classes_
        return self

    def predict_proba(self, X):
        """Calibrated class probabilities, shape (n, 2); column 1 is p_gc."""
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.predict_proba(X)

    def predict(self, X):
        """1 where the calibrated p_gc > 0.5."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]
