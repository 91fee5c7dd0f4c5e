import pytest

import globsml
from globsml import GlobsmlError
from globsml.explain import global_importance, plot_global_importance


@pytest.fixture(scope="module")
def data(synthetic_dir):
    return globsml.load_dataset(synthetic_dir)


def test_feature_deciding_the_label_ranks_first(data):
    result = global_importance("explain-test-logistic", data, setup="virgo2fornax", n_repeats=2)
    assert result.permutation["feature"].iloc[0] == "colour"
    assert result.shap is None  # not a tree ensemble
    assert result.setup == "Virgo2Fornax" and result.n_test == 160  # the Fornax sources
    fig = plot_global_importance(result, top=8)
    assert len(fig.get_axes()) == 1


def test_tree_ensemble_gets_shap_too(data):
    result = global_importance("explain-test-forest", data, setup="fornax2virgo", n_repeats=2, shap_rows=50)
    assert result.permutation["feature"].iloc[0] == "colour"
    assert result.shap.values.shape == (50, 29)
    assert result.shap.mean_abs().index[0] == "colour"
    assert len(plot_global_importance(result).get_axes()) == 2


def test_refuses_image_models_and_bad_setups(data):
    with pytest.raises(GlobsmlError, match="tabular"):
        global_importance("explain-test-cnn", data)
    with pytest.raises(GlobsmlError, match="unknown set-up"):
        global_importance("explain-test-logistic", data, setup="x")
