import warnings

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.evaluation import ERROR_KINDS, evaluate, metric_names, roc_auc, rescaled_auc_fdr_tpr

# Three galaxies: A normal, B without GCs, C where nothing is predicted.
GALAXY = np.array(["A"] * 5 + ["B"] * 3 + ["C"] * 3)
IDS = np.array([0, 1, 2, 3, 4, 10, 11, 12, 5, 6, 7])
Y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1])
P = np.array([0.9, 0.2, 0.8, 0.7, 0.1, 0.3, 0.6, 0.4, 0.45, 0.1, 0.3])


@pytest.fixture
def ev():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # degenerate galaxies must not warn
        return evaluate(Y, P, galaxy=GALAXY, ids=IDS)


def test_errors_lists_exact(ev):
    expected = pd.DataFrame(
        {
            "galaxy": ["A", "A", "A", "A", "B", "C", "C"],
            "ID": [1, 2, 0, 3, 11, 5, 7],
            "kind": ["FN", "FP", "TP", "TP", "FP", "FN", "FN"],
            "p_gc": [0.2, 0.8, 0.9, 0.7, 0.6, 0.45, 0.3],
        }
    )
    pd.testing.assert_frame_equal(ev.errors, expected, check_dtype=False)
    assert ev.ids("FN", "A") == [1] and ev.ids("TP") == [0, 3] and ev.ids("FP") == [2, 11]
    assert set(ev.errors["kind"]) <= set(ERROR_KINDS)


def test_per_galaxy_hand_made(ev):
    pg = ev.per_galaxy.set_index("galaxy")
    assert list(pg.index) == ["A", "B", "C"]
    assert list(ev.per_galaxy.columns) == ["galaxy", *metric_names()]
    a, b, c = pg.loc["A"], pg.loc["B"], pg.loc["C"]
    assert (a.n_sources, a.n_gcs, a.n_found, a.n_fake) == (5, 3, 2, 1)
    assert a.tpr == 2 / 3 and a.fdr == 1 / 3 and a.fpr == 1 / 2
    assert a.roc_auc == pytest.approx(4 / 6)  # GC 0.9 > both, 0.7 > 0.1 only, 0.2 > 0.1
    # no GCs: TPR and ranking metrics undefined; one fake GC among one prediction
    assert (b.n_gcs, b.n_found, b.n_fake) == (0, 0, 1)
    assert b.fdr == 1.0 and b.fpr == 1 / 3
    for m in ("tpr", "roc_auc", "average_precision", "auc_fdr_tpr", "tpr_at_fdr_0.05", "tpr_at_fdr_0.1"):
        assert np.isnan(b[m]), m
    # nothing predicted: TPR 0, FDR 0 by convention; ranking metrics still defined
    assert (c.n_found, c.n_fake) == (0, 0) and c.tpr == 0.0 and c.fdr == 0.0 and c.fpr == 0.0
    assert c.roc_auc == 1.0 and c.auc_fdr_tpr == pytest.approx(1.0)
    assert c["tpr_at_fdr_0.05"] == 1.0


def test_pooled_consistent_with_per_galaxy(ev):
    pg = ev.per_galaxy
    for k in ("n_sources", "n_gcs", "n_found", "n_fake"):
        assert ev.pooled[k] == pg[k].sum()
        assert isinstance(ev.pooled[k], int)
    po = ev.pooled
    assert po["tpr"] == pg.n_found.sum() / pg.n_gcs.sum()
    assert po["fdr"] == pg.n_fake.sum() / (pg.n_found.sum() + pg.n_fake.sum())
    assert po["fpr"] == pg.n_fake.sum() / (pg.n_sources - pg.n_gcs).sum()
    assert po["roc_auc"] == roc_auc(Y, P)
    assert po["auc_fdr_tpr"] == rescaled_auc_fdr_tpr(Y, P)
    assert list(po) == list(metric_names())
    assert list(ev.summary().columns) == list(po)


def test_predictions_table_and_threshold(ev):
    pr = ev.predictions
    assert list(pr.columns) == ["galaxy", "ID", "y_true", "p_gc", "y_pred"]
    assert pr["y_pred"].tolist() == (P > 0.5).astype(int).tolist()
    low = evaluate(Y, P, galaxy=GALAXY, ids=IDS, threshold=0.25)
    assert low.pooled["n_found"] == 4 and low.ids("FN") == [1]  # 0.2 is the only GC below


def test_without_galaxy_or_ids_and_empty():
    ev = evaluate(Y, P, fdr_levels=(0.2,))
    assert ev.per_galaxy.empty and "tpr_at_fdr_0.2" in ev.per_galaxy.columns
    assert ev.errors["ID"].tolist()[:3] == [1, 8, 10]  # positions as IDs, FN first
    assert ev.errors["galaxy"].isna().all()
    # ranking 0.9 GC, 0.8 no (FDR 1/2), 0.7 GC (1/3), ...: only the top GC is within FDR 0.2
    assert ev.pooled["tpr_at_fdr_0.2"] == 1 / 5
    empty = evaluate([], [])
    assert empty.pooled["n_sources"] == 0 and np.isnan(empty.pooled["tpr"])


def test_bad_input():
    with pytest.raises(GlobsmlError, match="galaxy: expected 11 values"):
        evaluate(Y, P, galaxy=GALAXY[:3])
    with pytest.raises(GlobsmlError, match="ids: expected 11 values"):
        evaluate(Y, P, ids=[1])
    with pytest.raises(GlobsmlError, match="FDR levels"):
        evaluate(Y, P, fdr_levels=(1.5,))
    with pytest.raises(GlobsmlError, match="1 source.*no galaxy name.*position 1"):
        evaluate([1, 0, 1], [0.9, 0.2, 0.1], galaxy=["A", None, "B"])
    with pytest.raises(GlobsmlError, match="kind must be"):
        evaluate(Y, P).ids("XX")
