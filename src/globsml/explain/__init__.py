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

from . import _errors_index, _figures, _global, _image, _lime, _permutation, _shap, _source
from ._errors_index import *  # noqa: F403
from ._figures import *  # noqa: F403
from ._global import *  # noqa: F403
from ._image import *  # noqa: F403
from ._lime import *  # noqa: F403
from ._permutation import *  # noqa: F403
from ._shap import *  # noqa: F403
from ._source import *  # noqa: F403

__all__ = [
    *_lime.__all__,
    *_shap.__all__,
    *_permutation.__all__,
    *_image.__all__,
    *_source.__all__,
    *_figures.__all__,
    *_global.__all__,
    *_errors_index.__all__,
]
