import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.ensemble import RandomForestClassifier

import globsml
from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.explain import (
    explain_source,
    permutation_importances,
    plot_explanation,
    plot_feature_importance,
    save_figure,
    shap_values,
)


@pytest.fixture(scope="module")
def data(synthetic_dir):
    return globsml.load_dataset(synthetic_dir)


def _png_ok(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5_000 < path.stat().st_size < 300_000


def test_tabular_explanation_figure(data, tmp_path):
    expl = explain_source("explain-test-logistic", data, "FCC1", 4, num_samples=200, stability_calls=2)
    fig = plot_explanation(expl)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    titles = [ax.get_title() for ax in axes]
    assert "g (F475W)" in titles and "z (F850LP)" in titles
    assert any(t.startswith("LIME") for t in titles)
    assert "colour" in titles  # distribution panel of the top feature
    lime_ax = next(ax for ax in axes if ax.get_title().startswith("LIME"))
    assert len(lime_ax.patches) == len(expl.lime.weights)
    texts = " ".join(t.get_text() for ax in axes for t in ax.texts)
    assert f"p_gc = {expl.p_gc:.3f}" in texts and "VSI" in texts
    out = save_figure(fig, tmp_path / "fig.png")
    _png_ok(out)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically


def test_image_explanation_figure(data, tmp_path):
    expl = explain_source("explain-test-cnn", data, "VCC1", 0)
    fig = plot_explanation(expl)
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert "attribution, g" in titles and "attribution, z" in titles
    assert not any(t.startswith("LIME") for t in titles)
    _png_ok(save_figure(fig, tmp_path / "img.png"))


def test_global_importance_figure(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, len(FEATURES))), columns=list(FEATURES))
    y = (X["colour"] > 0).astype(int)
    forest = RandomForestClassifier(20, random_state=0).fit(X, y)
    for imp in (permutation_importances(forest, X, y, n_repeats=2), shap_values(forest, X.iloc[:20]),
                pd.Series(forest.feature_importances_, index=list(FEATURES))):
        fig = plot_feature_importance(imp, top=10)
        ax = fig.get_axes()[0]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 10 and labels[-1] == "colour"  # most important on top
    _png_ok(save_figure(fig, tmp_path / "importance.png"))
    with pytest.raises(GlobsmlError):
        plot_feature_importance(pd.DataFrame({"a": [1]}))
