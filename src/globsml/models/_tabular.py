"""The published tabular models (and two beyond it) in the model registry.

Every model is ``Pipeline([("preprocess", make_preprocessor()), ("model",
estimator)])``: the published training-median imputation and per-feature
rescaling (:mod:`globsml.preprocessing`) fitted on the training data, then
the classifier. They take the RAW 29 published features as a DataFrame.
Dropping training rows with NaN photometry is the caller's job
(:func:`globsml.preprocessing.drop_incomplete`; the benchmark does it).

Each factory takes ``random_state`` (every model is deterministic given it)
and ``calibrate``: ``True`` wraps the model in a
:class:`~globsml.models.ValidationCalibratedClassifier`, whose probabilities
are calibrated on the validation split (``fit(X, y, eval_set=(X_val,
y_val))``).

Published defaults and where this rebuild departs from them (to be feasible
on two CPU cores; each departure is named in the factory's docstring):

========================  ==================================================
name                      model
========================  ==================================================
``logistic``              ``LogisticRegression`` (L2, C=1, lbfgs)
``svm-linear``            linear SVM + Platt scaling on validation (LinearSVC)
``svm-rbf``               RBF SVM via a Nystroem feature map + Platt scaling
``knn``                   ``KNeighborsClassifier(n_neighbors=12)``
``1nn``                   ``KNeighborsClassifier(n_neighbors=1)``
``tree``                  ``DecisionTreeClassifier()``
``forest``                ``RandomForestClassifier(n_estimators=100)``
``adaboost``              ``AdaBoostClassifier(estimator=RandomForest...)``
``catboost``              ``CatBoostClassifier()`` (1000 iterations)
``hgb``                   ``HistGradientBoostingClassifier`` (beyond)
``calibrated-forest``     forest, isotonic calibration on validation (beyond)
========================  ==================================================
"""

import copy
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from .._errors import GlobsmlError
from ..preprocessing import make_preprocessor
from . import _reuse
from ._calibration import ValidationCalibratedClassifier
from ._registry import register_model

__all__ = ["ScaledNystroem", "tabular_pipeline", "final_estimator"]


class ScaledNystroem(TransformerMixin, BaseEstimator):
    """Nystroem approximation of the RBF kernel with scikit-learn SVC's ``gamma="scale"``.

    ``gamma = 1 / (n_features * X.var())`` is computed from the training data
    in ``fit`` (what ``SVC(gamma="scale")`` does), then the feature map of
    ``n_components`` landmark rows is fitted.

    Parameters
    ----------
    n_components : int, default 500
    random_state : int, default 0
        Seeds the choice of landmark rows.

    Attributes
    ----------
    gamma_ : float
    nystroem_ : sklearn.kernel_approximation.Nystroem
    """

    def __init__(self, n_components=500, *, random_state=0):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        """Compute ``gamma_`` and fit the feature map."""
        X = validate_data(self, X, dtype=np.float64)
        var = X.var()
        self.gamma_ = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        n_components = min(self.n_components, len(X))
        self.nystroem_ = Nystroem(gamma=self.gamma_, n_components=n_components,
                                  random_state=self.random_state).fit(X)
        return self

    def transform(self, X):
        """The approximate RBF feature map, shape (n, n_components)."""
        check_is_fitted(self, "nystroem_")
        return self.nystroem_.transform(validate_data(self, X, dtype=np.float64, reset=False))


class SharedForestClassifier(RandomForestClassifier):
    """scikit-learn's random forest, whose trees are grown once per seed and data inside a reuse block.

    scikit-learn seeds tree i of a forest with the i-th number drawn from
    ``random_state``, so a forest of n trees is exactly the first n trees of
    the same forest with more trees, and ``warm_start`` grows the others as a
    fresh fit would. Inside :func:`globsml.models.reusing_fits`, a fit with
    an integer ``random_state`` takes the first ``n_estimators`` trees of an
    earlier fit with the same parameters (``n_estimators``, ``n_jobs`` and
    ``verbose`` aside) on the same data, or grows the missing trees onto it:
    the 50-tree forest of ``adaboost``'s first round is the first half of the
    ``forest`` model of the same seed, grown once. Outside such a block (or
    with ``oob_score``, ``warm_start`` or non-uniform sample weights) it is
    scikit-learn's fit.

    Uniform sample weights (AdaBoost's first round) are dropped: scaling every
    weight by one factor changes no split in exact arithmetic, only the
    rounding of weighted impurities, and without them a fit is the same with
    and without a reuse block.
    """

    def fit(self, X, y, sample_weight=None):
        """Fit (or take the trees of an identical earlier fit); return self."""
        if sample_weight is not None:
            w = np.asarray(sample_weight)
            if w.ndim == 1 and len(w) == _num_samples(X) and len(w) and w[0] > 0 and np.all(w == w[0]):
                sample_weight = None
        if (sample_weight is not None or not _reuse.sharing() or self.warm_start or self.oob_score
                or not isinstance(self.random_state, numbers.Integral)):
            return super().fit(X, y, sample_weight=sample_weight)
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in ("n_estimators", "n_jobs", "verbose")}
        # The trees see X as float32 values, whatever its type (AdaBoost hands
        # its forests an array, the pipeline of the forest model a DataFrame).
        key = _reuse.fit_key("forest trees", type(self).__qualname__, params,
                             np.ascontiguousarray(X, dtype=np.float32), np.asarray(y))
        grown = _reuse.lookup(key)
        if grown is not None and len(grown.estimators_) >= self.n_estimators:
            self._take_trees(grown, self.n_estimators, X)
            return self
        if grown is None:
            super().fit(X, y)
        else:  # grow the missing trees, seeded as in a fresh fit
            self._take_trees(grown, len(grown.estimators_), X)
            self.warm_start = True
            try:
                super().fit(X, y)
            finally:
                self.warm_start = False
        kept = copy.copy(self)
        kept.estimators_ = list(self.estimators_)  # a refit of self must not change what is kept
        _reuse.keep(key, kept)
        return self

    def _take_trees(self, grown, n, X):
        params = self.get_params(deep=False)
        for name, value in vars(grown).items():
            if name not in params:
                setattr(self, name, value)
        self.estimators_ = list(grown.estimators_[:n])
        # Feature names are those of this fit's X (scikit-learn's rule: string column names only).
        columns = getattr(X, "columns", None)
        if columns is not None and len(columns) and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_


class SeededAdaBoostClassifier(AdaBoostClassifier):
    """AdaBoost whose first round's estimator is seeded with ``random_state`` itself.

    scikit-learn seeds each round's estimator with a number drawn from
    ``random_state``; here the first round's estimator gets ``random_state``
    itself (an integer; later rounds get the same numbers as in
    scikit-learn). With a :class:`SharedForestClassifier` of 50 trees as the
    estimator, the first round (uniform weights) is the first 50 trees of the
    100-tree ``forest`` model of the same seed, which
    :func:`globsml.models.reusing_fits` grows once for both.
    """

    def _make_estimator(self, append=True, random_state=None):
        estimator = super()._make_estimator(append=append, random_state=random_state)
        if append and len(self.estimators_) == 1 and isinstance(self.random_state, numbers.Integral):
            estimator.set_params(**{k: int(self.random_state) for k in estimator.get_params(deep=True)
                                    if k == "random_state" or k.endswith("__random_state")})
        return estimator


class SharedNeighborsClassifier(KNeighborsClassifier):
    """scikit-learn's k-nearest neighbours, sharing one neighbour search inside a reuse block.

    Inside :func:`globsml.models.reusing_fits`, a brute-force search for k
    neighbours of query rows X among the same training rows, with the same
    metric, is done once: a later search for fewer neighbours (``1nn`` after
    ``knn``'s 12) takes the first columns of it. A query row whose k-th and
    (k+1)-th neighbours are at the same distance is searched again with k,
    so that ties are broken as scikit-learn's own search breaks them: the
    result is the same as without sharing. Outside such a block it is
    scikit-learn's ``kneighbors``.
    """

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The neighbours of X (see scikit-learn), shared with earlier searches in a reuse block."""
        k = self.n_neighbors if n_neighbors is None else int(n_neighbors)
        if (X is None or not _reuse.sharing() or getattr(self, "_fit_method", None) != "brute"
                or not isinstance(self.metric, str) or self.metric == "precomputed"):
            return super().kneighbors(X, n_neighbors, return_distance)
        key = _reuse.fit_key("neighbours", self._fit_X, X, self.metric, self.p, self.metric_params)
        found = _reuse.lookup(key)
        if found is None or found[1].shape[1] < k:
            found = super().kneighbors(X, k, return_distance=True)
            _reuse.keep(key, found)
        dist, ind = found
        if ind.shape[1] > k:
            dist, ind = dist[:, :k].copy(), ind[:, :k].copy()
            tied = np.flatnonzero(found[0][:, k - 1] == found[0][:, k])
            if len(tied):  # search these rows again, so that ties fall as in scikit-learn's search
                rows = X.iloc[tied] if hasattr(X, "iloc") else np.asarray(X)[tied]
                dist[tied], ind[tied] = super().kneighbors(rows, k, return_distance=True)
        return (dist, ind) if return_distance else ind


def tabular_pipeline(estimator, *, calibrate=False, random_state=0):
    """``Pipeline(make_preprocessor(), estimator)``, optionally calibrated on validation data.

    Parameters
    ----------
    estimator : classifier
    calibrate : bool or {"isotonic", "sigmoid", "auto"}, default False
        Wrap the pipeline in a :class:`ValidationCalibratedClassifier`
        (``True`` means ``"auto"``).
    random_state : int, default 0
        Seed of the calibration hold-out when ``fit`` gets no ``eval_set``.

    Returns
    -------
    sklearn.pipeline.Pipeline or ValidationCalibratedClassifier
    """
    pipe = Pipeline([("preprocess", make_preprocessor()), ("model", estimator)])
    if calibrate:
        method = "auto" if calibrate is True else calibrate
        return ValidationCalibratedClassifier(pipe, method=method, random_state=random_state)
    return pipe


def final_estimator(model):
    """The classifier at the end of a (fitted or not) tabular model.

    Unwraps :class:`ValidationCalibratedClassifier` (its fitted
    ``estimator_`` when there is one) and :class:`~sklearn.pipeline.Pipeline`.
    """
    while True:
        if isinstance(model, ValidationCalibratedClassifier):
            model = getattr(model, "estimator_", model.estimator)
        elif isinstance(model, Pipeline):
            model = model.steps[-1][1]
        else:
            return model


def _logistic(*, random_state=0, C=1.0, max_iter=1000, calibrate=False):
    """Logistic regression (L2, C=1) as published.

    ``max_iter`` is raised from scikit-learn's 100 to 1000 so that lbfgs
    converges on the rescaled features instead of warning.
    """
    est = LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _platt(calibrate):
    # The SVMs' probabilities come from a calibration map in any case: Platt's
    # sigmoid unless the caller asks for another map.
    return "sigmoid" if calibrate is False else calibrate


def _svm_linear(*, random_state=0, C=1.0, calibrate=False):
    """Linear SVM with probabilities.

    Published: ``SVC(kernel="linear", probability=True)``, i.e. libsvm plus
    Platt scaling fitted by internal 5-fold cross-validation. libsvm scales
    quadratically with the rows (tens of minutes for 60k rows on two cores),
    so this uses ``LinearSVC`` (liblinear, the squared-hinge loss, C=1),
    fitted once on all training rows, and Platt's sigmoid fitted on the
    validation split (:class:`ValidationCalibratedClassifier`; 5 % of the
    training rows held out when ``fit`` gets no ``eval_set``): the same
    model family and decision rule, fitted in seconds, without the five
    extra cross-validation fits that libsvm spends on the sigmoid alone.
    """
    est = LinearSVC(C=C, random_state=random_state)
    return tabular_pipeline(est, calibrate=_platt(calibrate), random_state=random_state)


def _svm_rbf(*, random_state=0, C=1.0, n_components=500, calibrate=False):
    """RBF-kernel SVM with probabilities, through a Nystroem kernel approximation.

    Published: ``SVC(kernel="rbf", gamma="scale", probability=True)``. An
    exact kernel SVM on 60k rows needs tens of minutes per fit here, and a
    fit on a capped subsample throws most of the training data away. This
    approximates the same kernel (same ``gamma="scale"``, see
    :class:`ScaledNystroem`) with an explicit feature map of
    ``n_components`` landmarks and fits a linear SVM (C=1) in that space on
    ALL training rows, with Platt's sigmoid fitted on the validation split
    (as for ``svm-linear``). With 500 components the decision function is
    close to the exact one on 29 smooth features.
    """
    est = Pipeline([
        ("rbf", ScaledNystroem(n_components, random_state=random_state)),
        ("svm", LinearSVC(C=C, random_state=random_state)),
    ])
    return tabular_pipeline(est, calibrate=_platt(calibrate), random_state=random_state)


def _knn(*, random_state=0, n_neighbors=12, n_jobs=-1, calibrate=False):
    """k-nearest neighbours, k=12 as published (``random_state`` is unused: kNN is deterministic)."""
    est = SharedNeighborsClassifier(n_neighbors=n_neighbors, n_jobs=n_jobs)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _1nn(*, random_state=0, n_jobs=-1, calibrate=False):
    """The nearest neighbour (published); p_gc is 0 or 1."""
    return _knn(random_state=random_state, n_neighbors=1, n_jobs=n_jobs, calibrate=calibrate)


def _tree(*, random_state=0, max_depth=None, calibrate=False):
    """A decision tree with scikit-learn's defaults (published)."""
    est = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _forest(*, random_state=0, n_estimators=100, n_jobs=-1, calibrate=False):
    """A random forest of 100 trees with scikit-learn's defaults (published).

    ``n_jobs`` does not change the result: the trees are seeded from
    ``random_state``.
    """
    est = SharedForestClassifier(n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _adaboost(*, random_state=0, n_estimators=10, forest_trees=50, n_jobs=-1, calibrate=False):
    """AdaBoost with random forests as base estimators (``estimator=``, as published).

    scikit-learn's default of 50 boosting rounds of 100-tree forests means
    5000 trees per fit (many minutes on two cores). A random forest fits its
    training rows almost perfectly, so the boosting weights are decided by
    the few rows it gets wrong and later rounds change little; this uses 10
    rounds of 50-tree forests (500 trees), the discrete SAMME algorithm
    (scikit-learn >= 1.8 has no other).
    """
    base = SharedForestClassifier(n_estimators=forest_trees, n_jobs=n_jobs, random_state=random_state)
    est = SeededAdaBoostClassifier(estimator=base, n_estimators=n_estimators, random_state=random_state)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _catboost(*, random_state=0, iterations=1000, thread_count=1, calibrate=False):
    """CatBoost with its defaults (1000 iterations, depth 6, automatic learning rate), published.

    Silent, and writes no ``catboost_info/`` folder into the working directory.
    One thread by default: CatBoost's threads busy-wait like OpenMP's, which on
    a shared two-core machine costs more than a second thread gains; pass
    ``thread_count=-1`` on a machine of your own.
    """
    try:
        from catboost import CatBoostClassifier  # optional dependency (extra "boost")
    except ImportError:
        raise GlobsmlError(
            "model 'catboost' needs the catboost package: pip install 'globsml[boost]'"
        ) from None

    est = CatBoostClassifier(iterations=iterations, random_seed=random_state, thread_count=thread_count,
                             verbose=0, allow_writing_files=False)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _hgb(*, random_state=0, max_iter=300, learning_rate=0.1, early_stopping=False, calibrate=False):
    """Histogram gradient boosting (scikit-learn), beyond the publication.

    300 rounds at learning rate 0.1, no internal early stopping (which would
    take its own random 10 % out of the training data): fast, and usually as
    good as CatBoost on tabular data. On a busy machine limit its OpenMP
    threads (``threadpoolctl.threadpool_limits(1)``, as the benchmark does):
    busy-waiting threads can make it many times slower.
    """
    est = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=learning_rate,
                                         early_stopping=early_stopping, random_state=random_state)
    return tabular_pipeline(est, calibrate=calibrate, random_state=random_state)


def _calibrated_forest(*, random_state=0, n_estimators=100, n_jobs=-1, method="auto"):
    """The random forest with its probabilities calibrated on the validation split (beyond).

    A forest's vote fraction is not a probability (it is pulled towards 0.5);
    isotonic regression on the validation split (Platt's sigmoid below 1000
    validation rows) makes p_gc mean what it says.
    """
    return _forest(random_state=random_state, n_estimators=n_estimators, n_jobs=n_jobs,
                   calibrate=method)


# ``cost``: seconds of one fit + prediction on the full mock's All2All split
# (benchmarks/results/bench_benchmark_fullmock_published_one_split.md); it only
# orders the benchmark's work. calibrated-forest reuses the forest's fit,
# adaboost the forest's first 50 trees (its first round), 1nn knn's neighbour
# search (benchmarks/results/grid_issue21_point3.md).
register_model("logistic", _logistic, description="logistic regression (L2, C=1)", cost=1)
register_model("svm-linear", _svm_linear, description="linear SVM + Platt scaling (LinearSVC)", cost=3)
register_model("svm-rbf", _svm_rbf, description="RBF SVM (Nystroem 500 components) + Platt scaling",
               quick={"n_components": 100}, cost=12)
register_model("knn", _knn, description="k-nearest neighbours, k=12", cost=7)
register_model("1nn", _1nn, description="nearest neighbour", shares_fit_with="knn", cost=1)
register_model("tree", _tree, description="decision tree", cost=4)
register_model("forest", _forest, description="random forest, 100 trees", quick={"n_estimators": 20}, cost=22)
register_model("adaboost", _adaboost, description="AdaBoost of random forests (10 x 50 trees)",
               quick={"n_estimators": 3, "forest_trees": 10}, shares_fit_with="forest", cost=31)
register_model("catboost", _catboost, description="CatBoost, 1000 iterations",
               quick={"iterations": 100}, cost=29)
register_model("hgb", _hgb, description="histogram gradient boosting (scikit-learn), 300 rounds",
               published=False, quick={"max_iter": 50}, cost=4)
register_model("calibrated-forest", _calibrated_forest,
               description="random forest, probabilities calibrated on the validation split",
               published=False, quick={"n_estimators": 20}, shares_fit_with="forest", cost=1)
