import numpy as np
import pytest

from globsml._errors import GlobsmlError
from globsml.adapt import adjust_to_prior, galaxy_counts, prior_shift_em


def _calibrated_scores(share, train_prior, n, seed):
    """Labels at ``share`` and scores calibrated for a training GC share ``train_prior``."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < share
    x = rng.normal(np.where(y, 1.2, -1.2), 1.5)
    log_lr = 2 * 1.2 / 1.5**2 * x  # log p(x | GC) / p(x | not GC) of these two Gaussians
    odds = np.exp(log_lr) * train_prior / (1 - train_prior)
    return y, odds / (1 + odds)


def test_adjust_to_prior_is_bayes_rule_and_identity_at_the_same_prior():
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(adjust_to_prior(p, 0.3, 0.3), p)
    # moving 0.2 -> 0.5 multiplies the odds by (0.5/0.5)/(0.2/0.8) = 4
    out = adjust_to_prior(p, 0.2, 0.5)
    np.testing.assert_allclose(out / (1 - out), 4 * p / (1 - p))


@pytest.mark.parametrize("share", [0.05, 0.5, 0.7])
def test_em_undoes_a_planted_label_shift(share):
    y, p = _calibrated_scores(share, 0.2, 20000, seed=1)
    adjusted, prior = prior_shift_em(p, 0.2)
    assert abs(prior - y.mean()) < 0.03
    # the expected count moves towards the truth: the unadjusted one is biased towards the training
    # share (the count above 0.5 is not what EM estimates: at a 5 % share it undercounts)
    assert abs(adjusted.sum() - y.sum()) < 0.5 * abs(p.sum() - y.sum())


def test_em_keeps_the_share_when_there_is_no_shift():
    y, p = _calibrated_scores(0.2, 0.2, 20000, seed=2)
    assert abs(prior_shift_em(p, 0.2)[1] - 0.2) < 0.02


def test_prior_inputs_are_checked():
    with pytest.raises(GlobsmlError, match="train_prior"):
        prior_shift_em([0.5], 1.0)
    with pytest.raises(GlobsmlError, match="in \\[0, 1\\]"):
        prior_shift_em([0.5, np.nan], 0.2)
    with pytest.raises(GlobsmlError, match="in \\[0, 1\\]"):
        adjust_to_prior([1.5], 0.2, 0.3)


def test_count_interval_covers_bernoulli_draws_at_its_level():
    rng = np.random.default_rng(3)
    p = rng.beta(0.5, 2, 300)
    galaxy = np.repeat(np.arange(300) % 1, 300)[:300].astype(str)
    inside = 0
    for _ in range(400):
        truth = (rng.random(300) < p).sum()
        row = galaxy_counts(p, galaxy, level=0.9).iloc[0]
        inside += row["low"] <= truth <= row["high"]
    assert 0.85 <= inside / 400 <= 0.95


def test_counts_use_the_strict_threshold_rule():
    out = galaxy_counts([0.5, 0.51, 0.2], ["A", "A", "B"])
    assert out.loc["A", "n_candidates"] == 1 and out.loc["B", "n_candidates"] == 0
    assert out.loc["A", "expected"] == pytest.approx(1.01)
    with pytest.raises(GlobsmlError, match="threshold"):
        galaxy_counts([0.5], ["A"], threshold=float("nan"))
