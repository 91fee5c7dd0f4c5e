"""Each adaptation method moves a model trained under a planted shift towards the target's truth."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from globsml._errors import GlobsmlError
from globsml.adapt import domain_weights, fit_soft_labels, labels_from_proportions, self_train


def test_domain_weights_make_the_training_sample_look_like_the_target():
    rng = np.random.default_rng(0)
    train = rng.normal(0, 1, (4000, 2))
    target = rng.normal([1.0, 0.0], 1, (4000, 2))
    w, auc = domain_weights(train, target, random_state=0, return_auc=True, max_iter=60, n_splits=3)
    assert auc > 0.6
    assert w.mean() == pytest.approx(1)
    weighted = np.average(train[:, 0], weights=w)
    assert abs(weighted - 1.0) < 0.25  # unweighted: 0
    assert abs(np.average(train[:, 1], weights=w)) < 0.1


def test_importance_weights_fix_a_misspecified_fit_under_covariate_shift():
    # the truth is a curved boundary; a linear model fits it where the data are
    rng = np.random.default_rng(1)

    def sample(centre, n):
        x = rng.normal(centre, 0.7, (n, 1))
        y = (rng.random(n) < 1 / (1 + np.exp(-4 * (x[:, 0] ** 2 - 1.5)))).astype(float)
        return x, y

    x_train, y_train = sample(0.0, 6000)
    x_target, y_target = sample(1.6, 6000)
    plain = LogisticRegression().fit(x_train, y_train)
    w = domain_weights(x_train, x_target, random_state=0, max_iter=60, n_splits=3)
    weighted = fit_soft_labels(LogisticRegression(), x_train, y_train, sample_weight=w)
    acc = lambda m: (m.predict(x_target) == y_target).mean()  # noqa: E731
    assert acc(weighted) > acc(plain) + 0.05


def test_soft_labels_give_the_teachers_probabilities_back():
    rng = np.random.default_rng(2)
    X = rng.normal(0, 1, (3000, 2))
    teacher = 1 / (1 + np.exp(-(1.5 * X[:, 0] - 0.5 * X[:, 1] + 0.3)))
    student = fit_soft_labels(LogisticRegression(C=1e6), X, teacher)
    np.testing.assert_allclose(student.predict_proba(X)[:, 1], teacher, atol=1e-3)
    with pytest.raises(GlobsmlError, match="single class"):
        fit_soft_labels(LogisticRegression(), X, np.zeros(len(X)))
    with pytest.raises(GlobsmlError, match="in \\[0, 1\\]"):
        fit_soft_labels(LogisticRegression(), X, np.full(len(X), 2.0))


def _groups(rng, shares, n):
    xs, ys, gs = [], [], []
    for g, share in enumerate(shares):
        y = rng.random(n) < share
        xs.append(rng.normal(np.where(y, 1.0, -1.0), 1.0))
        ys.append(y)
        gs.append(np.full(n, f"G{g}"))
    return np.concatenate(xs)[:, None], np.concatenate(ys), np.concatenate(gs)


def test_label_proportions_correct_a_biased_model():
    rng = np.random.default_rng(3)
    X, y, galaxy = _groups(rng, [0.1, 0.3, 0.5, 0.7], 1500)
    counts = {f"G{g}": int(y[galaxy == f"G{g}"].sum()) for g in range(4)}
    # a model from elsewhere whose boundary sits at x = 1 instead of the truth's 0
    biased = 1 / (1 + np.exp(-2 * (X[:, 0] - 1.0)))
    q = labels_from_proportions(biased, galaxy, counts, train_prior=0.4)
    for g, n in counts.items():
        assert q[galaxy == g].sum() == pytest.approx(n, abs=1e-3)
    model = fit_soft_labels(LogisticRegression(), X, q)
    boundary = -model.intercept_[0] / model.coef_[0, 0]
    assert abs(boundary) < 0.35  # moved from 1 towards 0
    assert (model.predict(X) == y).mean() > ((biased > 0.5) == y).mean() + 0.03


def test_label_proportions_reject_impossible_counts_and_skip_unknown_galaxies():
    with pytest.raises(GlobsmlError, match="galaxy A: 5 GCs among 2"):
        labels_from_proportions([0.2, 0.3], ["A", "A"], {"A": 5}, train_prior=0.3)
    q = labels_from_proportions([0.2, 0.3, 0.4], ["A", "A", "B"], {"A": 1}, train_prior=0.3)
    assert np.isnan(q[2]) and q[:2].sum() == pytest.approx(1)


def test_self_training_moves_the_boundary_towards_the_shifted_target():
    # the training sources lie at y ~ 0, the target at y ~ 3 with its classes shifted by +1.5 in x:
    # nothing in the training data says where the boundary is at y = 3, the target's own gap does
    rng = np.random.default_rng(4)
    n = 4000
    y_train = rng.random(n) < 0.5
    x_train = np.c_[rng.normal(np.where(y_train, 2.0, -2.0), 1.0), rng.normal(0, 0.3, n)]
    y_target = rng.random(n) < 0.5
    x_target = np.c_[rng.normal(np.where(y_target, 3.5, -0.5), 1.0), rng.normal(3, 0.3, n)]

    def boundary_at_target(model):
        return -(model.intercept_[0] + 3 * model.coef_[0, 1]) / model.coef_[0, 0]

    plain = self_train(LogisticRegression(), x_train, y_train.astype(float), x_target, rounds=0)
    adapted = self_train(LogisticRegression(), x_train, y_train.astype(float), x_target, confidence=0.9, rounds=6)
    assert boundary_at_target(adapted) > boundary_at_target(plain) + 0.3  # towards the truth, 1.5
    accuracy = lambda m: (m.predict(x_target) == y_target).mean()  # noqa: E731
    assert accuracy(adapted) > accuracy(plain) + 0.05
    with pytest.raises(GlobsmlError, match="confidence"):
        self_train(LogisticRegression(), x_train, y_train, x_target, confidence=0.4)
