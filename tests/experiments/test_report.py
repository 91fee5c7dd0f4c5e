"""The report's headline: one table per set-up, the best model marked, the publication's figures beside."""

import numpy as np
import pandas as pd

from globsml.data import PUBLICATION, published_results
from globsml.experiments import BEST_RULE, HEADLINE_METRICS, best_models, headline_table, results_table
from globsml.experiments._report import _headline_html


def _runs():
    """Two seeds of three models in All2All and one run of two in Virgo2Fornax."""
    rows = []
    for setup, seeds, scores in (("all2all", 2, {"knn": 0.90, "forest": 0.95, "logistic": 0.80}),
                                 ("virgo2fornax", 1, {"forest": 0.85, "catboost": 0.93})):
        for model, auc in scores.items():
            for seed in range(seeds):
                rows.append({"model": model, "setup": setup, "seed": seed, "tpr": 0.9 - 0.01 * seed,
                             "fdr": 0.05, "fpr": 0.01, "roc_auc": 0.97, "auc_fdr_tpr": auc + 0.01 * seed})
    return pd.DataFrame(rows)


def test_headline_has_a_row_per_model_and_marks_the_best():
    table = results_table(_runs())
    head = headline_table(table, published=published_results().iloc[0:0])
    assert list(head.columns) == ["setup", "set-up", "model", "source", "runs", "TPR", "FDR", "FPR", "ROC AUC",
                                  "AUC(FDR,TPR)", "best"]
    assert len(HEADLINE_METRICS) == 5
    assert head["model"].tolist() == ["knn", "forest", "logistic", "forest", "catboost"]
    assert head["set-up"].tolist() == ["All2All"] * 3 + ["Virgo2Fornax"] * 2
    # the best: the highest mean AUC(FDR,TPR) of each set-up, one per set-up
    assert head.loc[head["best"], ["setup", "model"]].to_numpy().tolist() == [["all2all", "forest"],
                                                                              ["virgo2fornax", "catboost"]]
    assert best_models(table) == {"all2all": "forest", "virgo2fornax": "catboost"}
    assert "AUC(FDR,TPR)" in BEST_RULE
    # mean ± std over the seeds; a single run has no spread
    row = head[(head["setup"] == "all2all") & (head["model"] == "forest")].iloc[0]
    assert row["TPR"] == f"0.895 ± {np.std([0.9, 0.89], ddof=1):.3f}" and row["runs"] == "2"
    assert head.iloc[3]["TPR"] == "0.900"


def test_headline_puts_the_published_figures_beside_ours():
    table = results_table(_runs())
    pub = published_results()
    head = headline_table(table)
    v2f = head[head["setup"] == "virgo2fornax"]
    # the publication's forest follows ours; no published row where the set-up did not run (fornax2virgo)
    assert v2f["source"].tolist() == ["globsml", PUBLICATION, "globsml"]
    assert v2f["model"].tolist() == ["forest", "forest", "catboost"]
    published = v2f.iloc[1]
    ref = pub[(pub["setup"] == "virgo2fornax") & (pub["model"] == "forest")].iloc[0]
    assert published["TPR"] == f"{ref['tpr']:.3f}" and published["ROC AUC"] == f"{ref['roc_auc']:.3f}"
    assert published["FPR"] == "–" and published["runs"] == "–" and not published["best"]
    assert "fornax2virgo" not in set(head["setup"])
    assert (head[head["setup"] == "all2all"]["source"] == "globsml").all()
    # a published model that did not run comes at the end of its set-up
    no_forest = results_table(_runs()[lambda r: r["model"] != "forest"])
    tail = headline_table(no_forest)
    assert tail[tail["setup"] == "virgo2fornax"]["source"].tolist() == ["globsml", PUBLICATION]


def test_headline_html_stars_the_best_and_sets_published_rows_apart():
    text = _headline_html(headline_table(results_table(_runs())))
    assert text.count("<table>") == 2 and text.count("class='best'") == 2
    assert text.count("&#9733;") == 2 and text.count("class='pub'") == 1
    assert "<h3>All2All</h3>" in text and "<h3>Virgo2Fornax</h3>" in text
    assert "forest (published)" in text
