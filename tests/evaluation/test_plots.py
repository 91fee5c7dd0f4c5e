import numpy as np
import pytest
from matplotlib.figure import Figure

from globsml.evaluation import plot_fdr_tpr, plot_roc


def _data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    return y, np.clip(0.3 * y + 0.7 * rng.random(100), 0, 1), rng.random(100)


def test_plots_return_figures_with_one_line_per_curve(tmp_path):
    y, good, noise = _data()
    for plot in (plot_roc, plot_fdr_tpr):
        fig = plot({"good": (y, good), "noise": (y, noise)})
        assert isinstance(fig, Figure)
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert labels[0].startswith("good (AUC 0.") and labels[1].startswith("noise (AUC")
        fig.savefig(tmp_path / f"{plot.__name__}.png")
        assert (tmp_path / f"{plot.__name__}.png").stat().st_size > 1000


def test_plot_into_given_axes_and_refuse_empty():
    y, good, _ = _data()
    fig = Figure()
    ax = fig.subplots()
    assert plot_fdr_tpr({"a": (y, good)}, ax=ax, threshold=None) is fig
    with pytest.raises(ValueError):
        plot_roc({})


def test_plot_per_galaxy_skips_undefined_values():
    import pandas as pd

    from globsml.evaluation import evaluate, plot_per_galaxy

    y = np.array([1, 0, 1, 0, 0, 0, 1, 1])
    p = np.array([0.9, 0.1, 0.2, 0.7, 0.6, 0.3, 0.8, 0.9])
    ev = evaluate(y, p, galaxy=["A", "A", "A", "B", "B", "B", "C", "C"])
    fig = plot_per_galaxy(ev.per_galaxy)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # TPR is undefined in B (no GCs): 2 galaxies; FDR is defined everywhere: 3
    assert labels == ["TPR (2 galaxies)", "FDR (3 galaxies)"]
    with pytest.raises(ValueError, match="no column"):
        plot_per_galaxy(pd.DataFrame({"n_gcs": [1]}))
