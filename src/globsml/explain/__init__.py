"""Why is this source a GC? Explanations a person can look at.

* :func:`lime_explain`, :func:`lime_stability`: LIME for any tabular model
  (kernel width 1.75 on the training data, as published) and the stability
  indices VSI and CSI of Visani et al. 2020.
* :func:`shap_values`: SHAP TreeExplainer values of tree ensembles;
  :func:`permutation_importances` for any model;
  :func:`global_importance` / :func:`plot_global_importance`, the global
  figure of a model trained in a set-up.
* :func:`image_attributions`: which pixels drive an image model
  (integrated gradients, or occlusion for any image model).
* :func:`explain_source` / :func:`plot_explanation`: one source, one figure;
  :func:`explain_errors`: every false positive and negative of a benchmark
  run, with an index page.
"""

from ._errors_index import read_errors, explain_errors, ERRORS_FILENAME
from ._figures import plot_explanation, plot_feature_importance, save_figure
from ._global import GlobalImportance, global_importance, plot_global_importance
from ._image import (
    torch_module, integrated_gradients, lime_image_attributions, ring_segments, occlusion_attributions,
    image_attributions, image_baseline,
)
from ._lime import (
    LimeExplanation, LimeStability, lime_explain, lime_stability, ridge_confidence_intervals,
    stability_indices, LIME_KERNEL_WIDTH,
)
from ._permutation import permutation_importances
from ._shap import ShapValues, shap_values
from ._source import (
    Explanation, ResolvedModel, explain_source, explain_resolved, find_source, fit_for_source,
    parse_source, resolve_model, training_side, training_split, DISPLAY_FEATURES,
)

__all__ = [
    "LimeExplanation",
    "LimeStability",
    "lime_explain",
    "lime_stability",
    "ridge_confidence_intervals",
    "stability_indices",
    "LIME_KERNEL_WIDTH",
    "ShapValues",
    "shap_values",
    "permutation_importances",
    "torch_module",
    "integrated_gradients",
    "lime_image_attributions",
    "ring_segments",
    "occlusion_attributions",
    "image_attributions",
    "image_baseline",
    "Explanation",
    "ResolvedModel",
    "explain_source",
    "explain_resolved",
    "find_source",
    "fit_for_source",
    "parse_source",
    "resolve_model",
    "training_side",
    "training_split",
    "DISPLAY_FEATURES",
    "plot_explanation",
    "plot_feature_importance",
    "save_figure",
    "GlobalImportance",
    "global_importance",
    "plot_global_importance",
    "read_errors",
    "explain_errors",
    "ERRORS_FILENAME",
]
