"""The realism critic: exported trees, weighted resampling, and what it does to a galaxy."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.mock._calibration import calibration
from globsml.mock._critic import (
    LOG_RATIO_CLIP,
    SOURCE_PARAMETERS,
    RealismCritic,
    export_classifier,
    proposal_acceptance,
    proposal_model,
    realism_critic,
    weighted_choice,
)
from globsml.mock._survey import _plans, make_galaxy


def _fitted(rng, n=3000):
    X = rng.normal(size=(n, 4))
    X[::5, 1] = np.nan  # missing values take the branch learnt for them
    X[::7, 2] = np.inf
    y = (X[:, 0] + np.nan_to_num(X[:, 1], nan=1.0) > 0.3).astype(int)
    X[~np.isfinite(X)] = np.nan
    return HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y), X


def test_exported_trees_give_the_classifier_log_odds(tmp_path):
    rng = np.random.default_rng(0)
    clf, X = _fitted(rng)
    critic = RealismCritic([export_classifier(clf, list("abcd"))], galaxies=["FCC47", "VCC1"])
    raw = critic._raw(critic.rounds[0], X)
    np.testing.assert_allclose(raw, clf.decision_function(X), rtol=0, atol=1e-12)
    critic.save(tmp_path / "c.npz")
    back = RealismCritic.load(tmp_path / "c.npz")
    assert back.galaxies == ["FCC47", "VCC1"] and back.features == list("abcd")
    table = pd.DataFrame(X, columns=list("abcd"))
    np.testing.assert_allclose(back.log_ratio(table), np.clip(raw, -LOG_RATIO_CLIP, LOG_RATIO_CLIP))


def test_exported_trees_with_more_leaves_than_32_bits():
    """Trees of up to 64 leaves are read with 64-bit leaf sets, to the same log odds."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4000, 3))
    X[::6, 2] = np.nan
    y = (np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + np.nan_to_num(X[:, 2]) > 0.8).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=60, min_samples_leaf=5,
                                         random_state=0).fit(X, y)
    critic = RealismCritic([export_classifier(clf, list("abc"))])
    assert max(len(p.nodes) for (p,) in clf._predictors) > 2 * 32
    np.testing.assert_allclose(critic._raw(critic.rounds[0], X), clf.decision_function(X), rtol=0, atol=1e-12)


def test_rounds_add_up():
    rng = np.random.default_rng(1)
    clf, X = _fitted(rng)
    one = export_classifier(clf, list("abcd"))
    table = pd.DataFrame(X, columns=list("abcd"))
    np.testing.assert_allclose(RealismCritic([one, one]).log_ratio(table), 2 * RealismCritic([one]).log_ratio(table))


def test_export_refuses_multiclass():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    clf = HistGradientBoostingClassifier(max_iter=3).fit(X, rng.integers(0, 3, 300))
    with pytest.raises(ValueError, match="binary"):
        export_classifier(clf, ["a", "b"])


def test_weighted_choice_follows_the_weights():
    rng = np.random.default_rng(3)
    log_w = np.log([1.0, 2.0, 4.0, 8.0])
    counts = np.bincount(np.concatenate([weighted_choice(log_w, 1, rng) for _ in range(20000)]), minlength=4)
    np.testing.assert_allclose(counts / counts.sum(), np.exp(log_w) / np.exp(log_w).sum(), atol=0.015)
    # without replacement, sorted, and no overflow for large log weights
    pick = weighted_choice(np.array([800.0, 0.0, 900.0, -5.0, 700.0]), 3, rng)
    assert list(pick) == [0, 2, 4]
    assert len(weighted_choice(log_w, 0, rng)) == 0
    with pytest.raises(ValueError):
        weighted_choice(log_w, 5, rng)


def _step_critic(feature, threshold, below, above):
    """A hand-made one-split critic: log ratio ``below`` where feature <= threshold, else ``above``."""
    return RealismCritic([{
        "feature": np.array([0, -1, -1], np.int16), "threshold": np.array([threshold, 0.0, 0.0]),
        "missing_left": np.array([False, False, False]), "left": np.array([1, 0, 0], np.int32),
        "right": np.array([2, 0, 0], np.int32), "leaf": np.array([False, True, True]),
        "value": np.array([0.0, below, above]), "roots": np.array([0], np.int32),
        "baseline": np.float64(0.0), "features": np.array([feature])}])


@pytest.fixture(scope="module")
def small_plan():
    for plan, rng in _plans(0, 0.3):
        if plan.galaxy == "FCC147":
            return plan
    raise AssertionError("FCC147 not in the survey")


def test_critic_resamples_a_galaxy_towards_what_it_favours(small_plan):
    """A critic that finds bright sources real keeps brighter ones, with the exact counts."""
    plan = small_plan
    rng = lambda: np.random.default_rng(7)  # noqa: E731
    plain, _, f_plain = make_galaxy(plan, rng(), calibration())
    critic = _step_critic("m3_g", 25.0, LOG_RATIO_CLIP, -LOG_RATIO_CLIP)
    src, cut, feats = make_galaxy(plan, rng(), calibration(), critic=critic)
    assert len(feats) == len(cut) == plan.n_sources
    assert int((src["pGC"] >= 0.5).sum()) == plan.n_gcs
    assert (feats["m3_g"] < 25).mean() > (f_plain["m3_g"] < 25).mean() + 0.1
    # sources are detected on their rendered cut-outs: the segmentation finds
    # nearly all of them in both bands (the real ones: 94%)
    seen = (f_plain["label"] > 0) & (f_plain["label_z"] > 0)
    assert seen.mean() > 0.85
    # table order is the frame's raster order, and the features are those of the kept cut-outs
    assert np.all(np.diff(src["y"]) >= 0)
    from globsml.features import cutout_features

    again = cutout_features(cut[:20], galaxy=plan.galaxy)
    np.testing.assert_allclose(again["m3_g"], feats["m3_g"][:20])


def test_proposal_thins_the_drawn_sources(small_plan):
    plan = small_plan
    prefer_gc = _step_critic("true_gc", 0.5, -2.5, 2.5)  # contaminants kept e^-5 as often as GCs
    src, _, _ = make_galaxy(plan, np.random.default_rng(8), calibration(), proposal=prefer_gc)
    plain, _, _ = make_galaxy(plan, np.random.default_rng(8), calibration())
    labelled_gc = src["pGC"] >= 0.5
    # the labels are still exact, but the non-GCs are now mostly true GCs the
    # catalogue missed (and artefacts), rarely drawn contaminants
    assert int(labelled_gc.sum()) == plan.n_gcs
    share = lambda s: s["true_gc"][s["pGC"] < 0.5].mean()  # noqa: E731
    assert share(src) > share(plain) + 0.2


def test_shipped_models_read_the_right_columns():
    critic, proposal = realism_critic(), proposal_model()
    assert critic is not None and critic.rounds
    assert set(critic.features) <= set(FEATURES)
    assert critic.galaxies and set(critic.galaxies) <= set(calibration()["noise_sigma_quantiles"])
    if proposal is not None:
        assert set(proposal.features) <= set(SOURCE_PARAMETERS)
        s = {k: np.zeros(3) for k in ("kind", "mag_g", "mag_z", "p1", "p2", "p3", "size_px", "pGC")}
        s.update(sigma=np.full((3, 2), 0.01), true_gc=np.array([True, False, True]))
        acc = proposal_acceptance(proposal, s)
        assert ((acc > 0) & (acc <= 1)).all()


def test_pixel_round_is_the_network_it_was_made_from(tmp_path):
    import torch

    from globsml.mock._critic import export_network, pixel_inputs, pixel_network

    torch.manual_seed(0)
    net = pixel_network().eval()
    rng = np.random.default_rng(4)
    cut = rng.normal(0, 0.01, (7, 2, 20, 20)).astype(np.float32)
    cut[0, :, :3] = np.nan  # off the detector: read as 0
    with torch.no_grad():
        direct = net(torch.from_numpy(pixel_inputs(cut))).squeeze(1).numpy()
    critic = RealismCritic([export_network(net)])
    critic.save(tmp_path / "p.npz")
    back = RealismCritic.load(tmp_path / "p.npz")
    assert back.needs_pixels and back.features == []
    table = pd.DataFrame(index=range(7))
    np.testing.assert_allclose(back.log_ratio(table, cut), np.clip(direct, -LOG_RATIO_CLIP, LOG_RATIO_CLIP),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="cut-outs"):
        back.log_ratio(table)



def test_compile_prepares_every_round_and_changes_nothing(tmp_path):
    import torch

    from globsml.mock._critic import export_network, pixel_network

    rng = np.random.default_rng(5)
    clf, X = _fitted(rng)
    torch.manual_seed(1)
    critic = RealismCritic([export_classifier(clf, ["a", "b", "c", "d"]), export_network(pixel_network().eval())])
    critic.save(tmp_path / "c.npz")
    fresh, compiled = RealismCritic.load(tmp_path / "c.npz"), RealismCritic.load(tmp_path / "c.npz")
    assert compiled.compile() is compiled
    assert len(compiled._forests) == 1 and len(compiled._networks) == 1  # prepared before any use
    table = pd.DataFrame(X[:50], columns=["a", "b", "c", "d"])
    cut = rng.normal(0, 0.01, (50, 2, 20, 20)).astype(np.float32)
    np.testing.assert_array_equal(compiled.log_ratio(table, cut), fresh.log_ratio(table, cut))

def test_export_names_the_scikit_learn_layout_it_needs():
    class NotHistGradientBoosting:
        n_trees_per_iteration_ = 1

    with pytest.raises(GlobsmlError, match="private layout of scikit-learn"):
        export_classifier(NotHistGradientBoosting(), ["a"])
