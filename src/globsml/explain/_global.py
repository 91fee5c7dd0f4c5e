"""Global feature importance of a tabular model: which features matter overall."""

from dataclasses import dataclass

import numpy as np

from .._errors import GlobsmlError
from ..experiments import fit_on_split, get_setup, resolve_dataset
from ..models import model_spec
from ._figures import _figure
from ._permutation import permutation_importances
from ._shap import shap_values

__all__ = ["GlobalImportance", "global_importance", "plot_global_importance"]


@dataclass
class GlobalImportance:
    """Permutation importance (any model) and mean ``|SHAP|`` (tree ensembles).

    Attributes
    ----------
    model_name, setup : str
    permutation : pandas.DataFrame
        ``feature``, ``importance`` (drop of ROC AUC on the test part), ``std``.
    shap : ShapValues or None
        On (a sample of) the test part, for tree ensembles.
    n_test : int
        Test sources the permutation importance was measured on.
    """

    model_name: str
    setup: str
    permutation: object
    shap: object
    n_test: int


def global_importance(model, data=None, *, setup="virgo2fornax", seed=0, n_repeats=5, max_rows=3000,
                      shap_rows=500, quick=False, params=None, progress=False):
    """Train a tabular registry model in a set-up and measure its global importances.

    Parameters
    ----------
    model : str
        A tabular registry name.
    data : GCDataset or path, optional
        Labelled data with the feature table (default: the mock survey).
    setup : str
        A set-up of :mod:`globsml.experiments`; the model is trained on its
        training part (run ``seed``) as ``globsml benchmark`` does, and
        measured on its test part (at most ``max_rows`` sources, drawn with
        ``seed``).
    n_repeats : int
        Shuffles per feature of the permutation importance.
    shap_rows : int
        Test sources whose SHAP values are computed (tree ensembles only).

    Returns
    -------
    GlobalImportance
    """
    spec = model_spec(str(model))
    if spec.input != "features":
        raise GlobsmlError(
            f"{model}: global feature importance is for tabular models; for image models explain "
            "single sources (--source)"
        )
    data = resolve_dataset(data)
    if not data.labelled or not data.has_table:
        raise GlobsmlError(f"{data.name or 'data'}: global importance needs a labelled feature table")
    setup = get_setup(setup)
    if setup.one_model:
        split = setup.split(data, seed=seed)
    else:  # folds: fold ``seed``
        runs = dict(setup.runs(data))
        split = runs.get(int(seed), next(iter(runs.values())))
    est, _ = fit_on_split(spec.name, data, split, seed=seed, quick=quick, params=params)
    rng = np.random.default_rng(seed)
    test = split.test if len(split.test) <= max_rows else np.sort(rng.choice(split.test, max_rows, replace=False))
    X, y = data.features().iloc[test], data.y[test]
    perm = permutation_importances(est, X, y, n_repeats=n_repeats, seed=seed)
    try:
        shap = shap_values(est, X.iloc[:shap_rows])
    except GlobsmlError:
        shap = None  # not a tree ensemble: permutation importance only
    return GlobalImportance(model_name=spec.name, setup=setup.title, permutation=perm, shap=shap,
                            n_test=len(test))


def plot_global_importance(result, *, top=15):
    """Permutation importance, and mean ``|SHAP|`` beside it for tree ensembles."""
    panels = 2 if result.shap is not None else 1
    fig = _figure((5.2 * panels, 0.28 * top + 1.6))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    perm = result.permutation.iloc[:top][::-1]
    ax = axes[0]
    ax.barh(np.arange(len(perm)), perm["importance"], xerr=perm["std"], color="#4c72b0")
    ax.set_yticks(np.arange(len(perm)), perm["feature"], fontsize=8)
    ax.set_xlabel(f"drop of ROC AUC when shuffled ({result.n_test} test sources)", fontsize=8)
    ax.set_title("permutation importance", fontsize=9)
    if result.shap is not None:
        imp = result.shap.mean_abs().iloc[:top][::-1]
        ax = axes[1]
        ax.barh(np.arange(len(imp)), imp.to_numpy(), color="#55a868")
        ax.set_yticks(np.arange(len(imp)), imp.index, fontsize=8)
        ax.set_xlabel(f"mean |SHAP| ({result.shap.output})", fontsize=8)
        ax.set_title("SHAP (TreeExplainer)", fontsize=9)
    fig.suptitle(f"Global feature importance of {result.model_name}, {result.setup}", fontsize=10)
    return fig
