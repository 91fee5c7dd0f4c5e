"""Models behind one registry of names.

Every model is a scikit-learn-compatible classifier: ``fit(X, y)`` returns
``self`` and ``predict_proba(X)[:, 1]`` is p_gc. Tabular models take the 29
published features (scaling is part of the model), image models the
(n, 2, 20, 20) cut-outs.
"""

# Importing a model module registers its models: tabular first, so that the
# registry order (the order of reports) is the publication's.
from ._registry import ModelSpec, register_model, make_model, model_names, model_spec
from ._calibration import ValidationCalibratedClassifier
from ._tabular import ScaledNystroem, tabular_pipeline, final_estimator
from ._cnn import CNNNet, GCCNNClassifier, CNNKNNClassifier
from ._mlp import GCMLPClassifier, MLPNet
from ._published import (
    PUBLISHED_NETWORKS, PublishedCNNClassifier, read_published_checkpoint, load_published_cnn,
    load_published_mlp, published_model_path, published_port_check,
)
from ._tabnet import GCTabNetClassifier
from ._reuse import fit_or_reuse, reusing_fits
from ._uncertainty import VIRTUAL_ENSEMBLE_SIZE, predict_proba_std

__all__ = [
    "ModelSpec",
    "register_model",
    "make_model",
    "model_names",
    "model_spec",
    "ValidationCalibratedClassifier",
    "ScaledNystroem",
    "tabular_pipeline",
    "final_estimator",
    "CNNNet",
    "GCCNNClassifier",
    "CNNKNNClassifier",
    "GCMLPClassifier",
    "MLPNet",
    "PUBLISHED_NETWORKS",
    "PublishedCNNClassifier",
    "read_published_checkpoint",
    "load_published_cnn",
    "load_published_mlp",
    "published_model_path",
    "published_port_check",
    "GCTabNetClassifier",
    "fit_or_reuse",
    "reusing_fits",
    "predict_proba_std",
    "VIRTUAL_ENSEMBLE_SIZE",
]
