"""fit_or_reuse: identical fits are done once, and only inside reusing_fits()."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from globsml.models import fit_or_reuse, make_model, reusing_fits


class CountingClassifier(ClassifierMixin, BaseEstimator):
    fits = 0

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        CountingClassifier.fits += 1
        self.mean_ = np.asarray(X).mean() + self.shift
        return self


def test_reuse_only_inside_the_block_and_only_for_identical_fits():
    X, y = np.arange(20.0).reshape(10, 2), np.r_[np.zeros(5), np.ones(5)]
    CountingClassifier.fits = 0
    fit_or_reuse(CountingClassifier(), X, y)
    fit_or_reuse(CountingClassifier(), X, y)
    assert CountingClassifier.fits == 2  # no cache outside reusing_fits()
    with reusing_fits():
        a = fit_or_reuse(CountingClassifier(), X, y)
        b = fit_or_reuse(CountingClassifier(), X, y)
        assert b is a and CountingClassifier.fits == 3
        c = fit_or_reuse(CountingClassifier(shift=1.0), X, y)  # other parameters
        d = fit_or_reuse(CountingClassifier(), X, y + 0.0 * X[:, 0] + (np.arange(10) == 0))  # other labels
        assert c is not a and d is not a and CountingClassifier.fits == 5
    fit_or_reuse(CountingClassifier(), X, y)
    assert CountingClassifier.fits == 6  # the cache went with the block


def test_calibrated_forest_takes_the_forest_fit():
    rng = np.random.default_rng(0)
    import pandas as pd

    from globsml.data import FEATURES

    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X["m3_g"] + rng.normal(scale=0.5, size=300) > 0).astype(int).to_numpy()
    X_val, y_val = X.iloc[:100], y[:100]
    with reusing_fits():
        forest = fit_or_reuse(make_model("forest", quick=True, random_state=3), X, y)
        fit_or_reuse(make_model("tree", random_state=3), X, y)  # another model in between
        calibrated = make_model("calibrated-forest", quick=True, random_state=3).fit(X, y, eval_set=(X_val, y_val))
    assert calibrated.estimator_ is forest
    fresh = make_model("calibrated-forest", quick=True, random_state=3).fit(X, y, eval_set=(X_val, y_val))
    assert fresh.estimator_ is not forest
    np.testing.assert_array_equal(fresh.predict_proba(X), calibrated.predict_proba(X))


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.7, size=n) > 0).astype(int)
    return X, y


def _same_trees(a, b):
    return [t1.tree_.threshold.tolist() == t2.tree_.threshold.tolist() for t1, t2 in zip(a, b)]


def test_forest_takes_the_first_trees_of_a_larger_forest_of_its_seed():
    from sklearn.ensemble import RandomForestClassifier

    from globsml.models._tabular import SharedForestClassifier

    X, y = _table()
    Xt, _ = _table(100, 1)
    fresh10 = RandomForestClassifier(n_estimators=10, random_state=3).fit(X, y)
    fresh20 = RandomForestClassifier(n_estimators=20, random_state=3).fit(X, y)
    with reusing_fits():  # the larger forest first: the smaller takes its first trees
        big = SharedForestClassifier(n_estimators=20, random_state=3).fit(X, y)
        small = SharedForestClassifier(n_estimators=10, random_state=3).fit(X, y)
        other_seed = SharedForestClassifier(n_estimators=10, random_state=4).fit(X, y)
    assert all(a is b for a, b in zip(small.estimators_, big.estimators_[:10])) and len(small.estimators_) == 10
    assert not any(a is b for a, b in zip(other_seed.estimators_, big.estimators_))
    np.testing.assert_array_equal(small.predict_proba(Xt), fresh10.predict_proba(Xt))
    np.testing.assert_array_equal(big.predict_proba(Xt), fresh20.predict_proba(Xt))
    with reusing_fits():  # the smaller first: the larger grows the missing trees onto it
        small = SharedForestClassifier(n_estimators=10, random_state=3).fit(X, y)
        big = SharedForestClassifier(n_estimators=20, random_state=3).fit(X, y)
        assert len(small.estimators_) == 10 and big.estimators_[:10] == small.estimators_
        again = SharedForestClassifier(n_estimators=15, random_state=3).fit(X, y)
        assert again.estimators_ == big.estimators_[:15]
    np.testing.assert_array_equal(big.predict_proba(Xt), fresh20.predict_proba(Xt))
    np.testing.assert_array_equal(small.predict_proba(Xt), fresh10.predict_proba(Xt))
    assert all(_same_trees(big.estimators_, fresh20.estimators_))


def test_forest_drops_uniform_weights_only():
    from globsml.models._tabular import SharedForestClassifier

    X, y = _table()
    plain = SharedForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    uniform = SharedForestClassifier(n_estimators=5, random_state=0).fit(X, y, sample_weight=np.full(len(y), 1 / len(y)))
    weighted = SharedForestClassifier(n_estimators=5, random_state=0).fit(X, y, sample_weight=1.0 + (y == 1))
    assert all(_same_trees(plain.estimators_, uniform.estimators_))
    assert not all(_same_trees(plain.estimators_, weighted.estimators_))


def test_adaboost_first_round_is_the_forest_of_its_seed_and_the_same_with_or_without_it():
    import pandas as pd

    from globsml.data import FEATURES

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, len(FEATURES))), columns=list(FEATURES))
    y = (X["m3_g"] + rng.normal(scale=0.7, size=400) > 0).astype(int).to_numpy()
    Xt = X.iloc[:80] + 0.1
    alone = make_model("adaboost", quick=True, random_state=5).fit(X, y)
    with reusing_fits():
        forest = fit_or_reuse(make_model("forest", quick=True, random_state=5), X, y)
        ada = fit_or_reuse(make_model("adaboost", quick=True, random_state=5), X, y)
    rounds, trees = ada.steps[-1][1].estimators_, forest.steps[-1][1].estimators_
    assert rounds[0].random_state == 5  # the first round is seeded with random_state itself
    assert all(a is b for a, b in zip(rounds[0].estimators_, trees[:10])) and len(rounds[0].estimators_) == 10
    assert not any(t is trees[0] for r in rounds[1:] for t in r.estimators_)
    np.testing.assert_array_equal(ada.predict_proba(Xt), alone.predict_proba(Xt))
    assert not hasattr(rounds[0], "feature_names_in_")  # AdaBoost hands its forests arrays
    assert list(forest.steps[-1][1].feature_names_in_) == list(FEATURES)
    # later rounds are seeded as scikit-learn seeds them
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier

    Xa = ada[:-1].transform(X)
    sk = AdaBoostClassifier(RandomForestClassifier(n_estimators=10), n_estimators=3, random_state=5).fit(Xa, y)
    assert [r.random_state for r in rounds[1:]] == [r.random_state for r in sk.estimators_[1:len(rounds)]]
    assert rounds[0].random_state != sk.estimators_[0].random_state


def test_1nn_takes_the_nearest_of_the_knn_search_ties_as_scikit_learn():
    from sklearn.neighbors import KNeighborsClassifier

    from globsml.models._tabular import SharedNeighborsClassifier

    X, y = _table(300)
    # exact ties: duplicated training rows with the other label, and queries on training rows
    X = np.vstack([X, X[:40]])
    y = np.r_[y, 1 - y[:40]]
    Xt = np.vstack([_table(100, 1)[0], X[:60]])
    calls = []

    class Counting(SharedNeighborsClassifier):
        def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
            calls.append(n_neighbors)
            return super().kneighbors(X, n_neighbors, return_distance)

    for k in (5, 3, 1):
        plain = KNeighborsClassifier(n_neighbors=k).fit(X, y)
        with reusing_fits():
            Counting(n_neighbors=12).fit(X, y).predict_proba(Xt)
            shared = Counting(n_neighbors=k).fit(X, y)
            np.testing.assert_array_equal(shared.predict_proba(Xt), plain.predict_proba(Xt))
            np.testing.assert_array_equal(shared.kneighbors(Xt)[1][:, 0], plain.kneighbors(Xt)[1][:, 0])
        np.testing.assert_array_equal(Counting(n_neighbors=k).fit(X, y).predict_proba(Xt), plain.predict_proba(Xt))
    d, _ = KNeighborsClassifier(n_neighbors=2).fit(X, y).kneighbors(Xt)
    assert np.sum(d[:, 0] == d[:, 1]) >= 40  # the ties are there


def test_one_neighbour_search_for_knn_and_1nn(monkeypatch):
    from sklearn.neighbors import KNeighborsClassifier

    import pandas as pd

    from globsml.data import FEATURES

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X["m3_g"] > 0).astype(int).to_numpy()
    Xt = X.iloc[:50] + 0.05
    searches = []
    original = KNeighborsClassifier.kneighbors

    def counting(self, X=None, n_neighbors=None, return_distance=True):
        searches.append(n_neighbors)
        return original(self, X, n_neighbors, return_distance)

    monkeypatch.setattr(KNeighborsClassifier, "kneighbors", counting)
    with reusing_fits():
        make_model("knn").fit(X, y).predict_proba(Xt)
        make_model("1nn").fit(X, y).predict_proba(Xt)
    assert len(searches) == 1
    make_model("1nn").fit(X, y).predict_proba(Xt)
    assert len(searches) == 2
