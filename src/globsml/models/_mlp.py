"""The published multi-layer perceptron on the 29 tabular features."""


import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .._errors import GlobsmlError
from ..data import FEATURES
from . import _torch
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


# -- the preprocessor inside an exported state ------------------------------

def _export_preprocessor(pipe):
    """Fitted attributes of each pipeline step, as plain values."""
    steps = []
    for name, step in pipe.steps:
        fitted = {}
        for attr, value in vars(step).items():
            if not attr.endswith("_") or attr.startswith("_"):
                continue
            if isinstance(value, np.ndarray) and (value.dtype == object or value.dtype.kind in "US"):
                fitted[attr] = {"kind": "strings", "value": [str(v) for v in value.tolist()]}
            elif isinstance(value, np.ndarray):
                fitted[attr] = {"kind": "array", "value": _torch.plain(value)}
            else:
                fitted[attr] = {"kind": "value", "value": _torch.plain(value)}
        steps.append({"name": name, "class": type(step).__name__,
                      "params": _torch.plain(step.get_params(deep=False)), "fitted": fitted})
    return {"kind": "published", "steps": steps}


def _import_preprocessor(state):
    from ..preprocessing import make_preprocessor

    pipe = make_preprocessor()
    if [s["name"] for s in state["steps"]] != [name for name, _ in pipe.steps]:
        raise GlobsmlError("the saved preprocessor does not match globsml's published preprocessor")
    for saved, (_, step) in zip(state["steps"], pipe.steps):
        if saved["class"] != type(step).__name__:
            raise GlobsmlError(f"the saved preprocessor step {saved['class']} is not {type(step).__name__}")
        step.set_params(**saved["params"])
        for attr, item in saved["fitted"].items():
            if item["kind"] == "strings":
                value = np.asarray(item["value"], dtype=object)
            elif item["kind"] == "array":
                value = item["value"].numpy().copy()
            else:
                value = item["value"]
            setattr(step, attr, value)
    return pipe


def _make_preprocessor(kind):
    if kind == "published":
        from ..preprocessing import make_preprocessor

        return make_preprocessor()
    if kind is None or kind == "none":
        return None
    raise GlobsmlError(f"preprocessor must be 'published' or None, got {kind!r}")


def _as_frame(X, what):
    """The 29 features as a float DataFrame in the published order."""
    if isinstance(X, pd.DataFrame):
        missing = [c for c in FEATURES if c not in X.columns]
        if missing:
            raise GlobsmlError(f"{what}: missing feature column(s) {', '.join(missing)}")
        return X.loc[:, list(FEATURES)].astype(float)
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != len(FEATURES):
        raise GlobsmlError(
            f"{what}: expected the {len(FEATURES)} published features (a DataFrame or an "
            f"(n, {len(FEATURES)}) array), got shape {arr.shape}"
        )
    return pd.DataFrame(arr, columns=list(FEATURES))


class GCMLPClassifier(_torch.TorchClassifierMixin, ClassifierMixin, BaseEstimator):
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

    def _tensor(self, frame, what):
        values = frame if self.preprocessor_ is None else self.preprocessor_.transform(frame)
        values = np.asarray(values, dtype=np.float32)
        if not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values))[0]
            raise GlobsmlError(
                f"{what}: non-finite value in feature {FEATURES[bad[1]]!r} (row {bad[0]}); use "
                "preprocessor='published' (median imputation) or impute first"
            )
        return torch.from_numpy(values)

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
        frame = _as_frame(X, "GCMLPClassifier.fit")
        y = _torch.check_labels(y, len(frame), "GCMLPClassifier.fit")
        if eval_set is not None:
            train_rows, val_rows = np.arange(len(frame)), None
            val_frame = _as_frame(eval_set[0], "GCMLPClassifier.fit eval_set")
            y_val = _torch.check_labels(eval_set[1], len(val_frame), "GCMLPClassifier.fit eval_set") \
                if len(val_frame) else np.zeros(0, np.float32)
        else:
            train_rows, val_rows = _torch.validation_split(y, self.validation_fraction, self.random_state)
            val_frame, y_val = frame.iloc[val_rows], y[val_rows]
        train_frame = frame.iloc[train_rows]
        self.preprocessor_ = _make_preprocessor(self.preprocessor)
        if self.preprocessor_ is not None:
            self.preprocessor_.fit(train_frame)
        x_train = self._tensor(train_frame, "GCMLPClassifier.fit")
        x_val = self._tensor(val_frame, "GCMLPClassifier.fit validation") if len(val_frame) else None
        gen = _torch.generator(self.random_state)
        self.network_ = MLPNet((len(FEATURES), *self.hidden_layer_sizes, 1), self.dropout)
        self.best_epoch_, self.history_ = _torch.train_binary(
            self.network_, x_train, torch.from_numpy(y[train_rows]),
            x_val=x_val, y_val=None if x_val is None else torch.from_numpy(np.asarray(y_val)),
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            weight_decay=self.weight_decay, gen=gen, progress=self.progress, desc="MLP",
        )
        self._set_tabular_fitted(FEATURES)
        return self

    def predict_proba(self, X):
        """(n, 2) array of [p(not GC), p(GC)]."""
        check_is_fitted(self, "network_")
        _torch.use_threads(self.n_threads)
        x = self._tensor(_as_frame(X, "GCMLPClassifier.predict_proba"), "GCMLPClassifier.predict_proba")
        self.network_.eval()
        p = torch.sigmoid(_torch.predict_logits(self.network_, x, batch_size=65536)).double().numpy()
        return np.column_stack([1 - p, p])


    # -- bundles ----------------------------------------------------------
    def _export_state(self):
        """The fitted model as tensors and plain values (``torch.load(weights_only=True)``)."""
        check_is_fitted(self, "network_")
        return {
            **self._state_header(),
            "state_dict": _torch.state_dict_plain(self.network_),
            "best_epoch": int(self.best_epoch_),
            "history": _torch.plain(self.history_),
            "preprocessor": None if self.preprocessor_ is None else _export_preprocessor(self.preprocessor_),
        }

    @classmethod
    def _from_state(cls, state):
        """Rebuild a fitted estimator from :meth:`_export_state` output."""
        _torch.check_state(state, cls)
        params = dict(state["params"])
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        self = cls(**params)
        self.network_ = MLPNet((len(FEATURES), *self.hidden_layer_sizes, 1), self.dropout)
        self.network_.load_state_dict(state["state_dict"])
        self.network_.eval()
        self.preprocessor_ = None if state["preprocessor"] is None else _import_preprocessor(state["preprocessor"])
        self.best_epoch_ = state["best_epoch"]
        self.history_ = state["history"]
        self._set_tabular_fitted(FEATURES)
        return self


def _factory(random_state=0, **params):
    return GCMLPClassifier(random_state=random_state, **params)


register_model(
    "mlp", _factory, input="features",
    description="multi-layer perceptron 29-100-100-1 (PyTorch), best validation epoch",
    published=True, quick={"epochs": 3}, cost=50,  # seconds, benchmarks/results/bench_benchmark_fullmock_neural.md
)
