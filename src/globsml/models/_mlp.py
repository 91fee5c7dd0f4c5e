"""The published multi-layer perceptron on the 29 tabular features."""


import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from ..data import FEATURES
from . import _torch
from ._feature_nets import FeatureNetMixin
from ._registry import register_model

__all__ = ["GCMLPClassifier", "MLPNet"]


class MLPNet(torch.nn.Module):
    """Fully connected ReLU network with dropout, one logit out.

    The attribute names (``layers``, ``dropout_layer``) are those of the
    published network, so its state dicts load as they are.
    """

    def __init__(self, sizes=(29, 100, 100, 1), dropout=0.05):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.dropout_layer = torch.nn.Dropout(dropout)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.dropout_layer(torch.relu(layer(x)))
        return self.layers[-1](x)


class GCMLPClassifier(FeatureNetMixin, ClassifierMixin, BaseEstimator):
    """The published MLP: 29 -> 100 -> 100 -> 1, ReLU, dropout, sigmoid output.

    Trained with Adam and binary cross-entropy in mini-batches; the weights
    of the epoch with the best TPR - FDR on a validation split (decided on
    the probability, p > 0.5) are kept.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100, 100)
    dropout : float, default 0.05
        Dropout probability after each hidden layer (training only).
    lr : float, default 1e-3
        Adam learning rate.
    weight_decay : float, default 1e-5
        Adam L2 weight decay (the published optimiser state has 1e-5).
    batch_size : int, default 500
    epochs : int, default 60
    validation_fraction : float, default 0.1
        Stratified share of the training rows held out to choose the best
        epoch (unless ``fit`` gets an ``eval_set``); 0 keeps the last epoch.
    preprocessor : {"published", None}, default "published"
        ``"published"``: median imputation + the published per-feature
        rescaling (:func:`globsml.preprocessing.make_preprocessor`), fitted
        on the training rows. ``None``: the features are used as given
        (they must be finite).
    random_state : int, default 0
        Seeds weight initialisation, the validation split and shuffling.
    n_threads : int, default 1
        Torch threads. One: the layers are too small for intra-op
        parallelism, and a second thread that waits for a busy core made
        training up to 10x slower on a shared 2-core machine (None: all cores).
    progress : bool, default False
        Show a progress bar over epochs.

    Attributes
    ----------
    network_ : MLPNet
    preprocessor_ : sklearn.pipeline.Pipeline or None
    best_epoch_ : int
        1-based epoch whose weights are kept.
    history_ : list of dict
        Loss and validation TPR/FDR per epoch.
    classes_ : numpy.ndarray
        ``[0, 1]``.
    """

    def __init__(self, *, hidden_layer_sizes=(100, 100), dropout=0.05, lr=1e-3, weight_decay=1e-5,
                 batch_size=500, epochs=60, validation_fraction=0.1, preprocessor="published",
                 random_state=0, n_threads=1, progress=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress

    def fit(self, X, y, *, eval_set=None):
        """Train on the raw features ``X`` and labels ``y`` (1 = GC).

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n, 29)
        y : array-like of 0/1
        eval_set : (X_val, y_val), optional
            Validation data for choosing the epoch, instead of a split of
            ``X``.

        Returns
        -------
        self
        """
        _torch.use_threads(self.n_threads)
        train_frame, y_train, val_frame, y_val = self._fit_frames(X, y, eval_set)
        x_train = torch.from_numpy(self._values(train_frame, "GCMLPClassifier.fit"))
        x_val = torch.from_numpy(self._values(val_frame, "GCMLPClassifier.fit validation")) if len(val_frame) else None
        gen = _torch.generator(self.random_state)
        self.network_ = MLPNet((len(FEATURES), *self.hidden_layer_sizes, 1), self.dropout)
        self.best_epoch_, self.history_ = _torch.train_binary(
            self.network_, x_train, torch.from_numpy(y_train),
            x_val=x_val, y_val=None if x_val is None else torch.from_numpy(y_val),
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            weight_decay=self.weight_decay, gen=gen, progress=self.progress, desc="MLP",
        )
        self._set_tabular_fitted(FEATURES)
        return self

    def predict_proba(self, X):
        """(n, 2) array of [p(not GC), p(GC)]."""
        x = torch.from_numpy(self._predict_values(X))
        self.network_.eval()
        p = torch.sigmoid(_torch.predict_logits(self.network_, x, batch_size=65536)).double().numpy()
        return np.column_stack([1 - p, p])

    # -- bundles (the rest of the state: FeatureNetMixin) ------------------
    def _network_state(self):
        return {"state_dict": _torch.state_dict_plain(self.network_), "history": _torch.plain(self.history_)}

    @staticmethod
    def _params_from_state(params):
        return {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}

    def _load_network(self, state):
        self.network_ = MLPNet((len(FEATURES), *self.hidden_layer_sizes, 1), self.dropout)
        self.network_.load_state_dict(state["state_dict"])
        self.network_.eval()
        self.history_ = state["history"]


def _factory(random_state=0, **params):
    return GCMLPClassifier(random_state=random_state, **params)


register_model(
    "mlp", _factory, input="features",
    description="multi-layer perceptron 29-100-100-1 (PyTorch), best validation epoch",
    published=True, quick={"epochs": 3}, cost=50,  # seconds, benchmarks/results/bench_benchmark_fullmock_neural.md
)
