"""TabNet (pytorch-tabnet) on the 29 tabular features, wrapped for globsml."""

import contextlib
import io
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from .._errors import GlobsmlError
from ..data import FEATURES
from . import _torch
from ._feature_nets import FeatureNetMixin
from ._registry import register_model

__all__ = ["GCTabNetClassifier"]


def _tabnet_classes():
    try:
        from pytorch_tabnet.metrics import Metric
        from pytorch_tabnet.tab_model import TabNetClassifier
    except ImportError:  # pragma: no cover - optional dependency
        raise GlobsmlError(
            "TabNet needs the optional package pytorch-tabnet: pip install 'globsml[neural]'"
        ) from None
    return TabNetClassifier, Metric


def _tpr_fdr_metric(Metric):
    class TPRminusFDR(Metric):
        """TPR - FDR at p > GC_THRESHOLD, the published criterion for the best epoch."""

        _name = "tpr_minus_fdr"
        _maximize = True

        def __call__(self, y_true, y_score):
            tpr, fdr = _torch.validation_rates(y_true, y_score[:, 1])
            # TabNet's early stopping needs a number: no GC to find is no epoch to prefer.
            return float(np.nan_to_num(tpr - fdr, nan=-np.inf))

    return TPRminusFDR


class GCTabNetClassifier(FeatureNetMixin, ClassifierMixin, BaseEstimator):
    """TabNet (Arik & Pfister 2021) as published: n_steps 5, n_d 10, n_a 10.

    A thin wrapper of ``pytorch_tabnet.tab_model.TabNetClassifier`` that
    puts the published preprocessing in front, runs on the CPU with
    globsml's threads and seed, chooses the epoch by TPR - FDR on a
    validation split (early stopping with ``patience``), and exports its
    state as tensors (no zip files, no ``torch.load`` without
    ``weights_only``).

    Parameters
    ----------
    n_steps, n_d, n_a : int, default 5, 10, 10
    gamma : float, default 1.3
    lambda_sparse : float, default 1e-3
    lr : float, default 2e-2
        Adam learning rate (pytorch-tabnet's default).
    max_epochs : int, default 100
    patience : int, default 15
        Stop after this many epochs without a better validation TPR - FDR
        (the best epoch's weights are kept); 0 disables early stopping and
        keeps the last epoch.
    batch_size : int, default 1024
    virtual_batch_size : int, default 128
    validation_fraction : float, default 0.1
        Stratified validation share (unless ``fit`` gets an ``eval_set``).
    preprocessor : {"published", None}, default "published"
    random_state : int, default 0
    n_threads : int, default 1
        Torch threads. One: the layers are too small for intra-op
        parallelism, and a second thread that waits for a busy core made
        training up to 10x slower on a shared 2-core machine (None: all cores).

    Attributes
    ----------
    tabnet_ : pytorch_tabnet.tab_model.TabNetClassifier
    preprocessor_ : sklearn.pipeline.Pipeline or None
    best_epoch_ : int
        1-based.
    classes_ : numpy.ndarray
    """

    def __init__(self, *, n_steps=5, n_d=10, n_a=10, gamma=1.3, lambda_sparse=1e-3, lr=2e-2,
                 max_epochs=100, patience=15, batch_size=1024, virtual_batch_size=128,
                 validation_fraction=0.1, preprocessor="published", random_state=0, n_threads=1):
        self.n_steps = n_steps
        self.n_d = n_d
        self.n_a = n_a
        self.gamma = gamma
        self.lambda_sparse = lambda_sparse
        self.lr = lr
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.virtual_batch_size = virtual_batch_size
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.n_threads = n_threads

    _NETWORK = "tabnet_"

    def _inner(self):
        TabNetClassifier, _ = _tabnet_classes()
        return TabNetClassifier(
            n_d=self.n_d, n_a=self.n_a, n_steps=self.n_steps, gamma=self.gamma,
            lambda_sparse=self.lambda_sparse, optimizer_fn=torch.optim.Adam,
            optimizer_params={"lr": self.lr}, seed=0 if self.random_state is None else int(self.random_state),
            verbose=0, device_name="cpu",
        )

    def fit(self, X, y, *, eval_set=None):
        """Train on the raw features ``X`` and labels ``y`` (1 = GC); returns self."""
        _torch.use_threads(self.n_threads)
        _, Metric = _tabnet_classes()
        train_frame, y_train, val_frame, y_val = self._fit_frames(X, y, eval_set)
        x_train = self._values(train_frame, "GCTabNetClassifier.fit")
        fit_kw = {}
        if len(val_frame):
            x_val = self._values(val_frame, "GCTabNetClassifier.fit validation")
            fit_kw = {"eval_set": [(x_val, y_val.astype(np.int64))], "eval_name": ["valid"],
                      "eval_metric": [_tpr_fdr_metric(Metric)]}
        self.tabnet_ = self._inner()
        _torch.generator(self.random_state)
        # pytorch-tabnet prints its early-stopping summary; keep stdout for our output.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            # Its notices about best weights / no early stopping: documented behaviour here.
            warnings.filterwarnings("ignore", message=".*(best weights|early stopping).*", category=UserWarning)
            self.tabnet_.fit(
                x_train, y_train.astype(np.int64), max_epochs=self.max_epochs,
                patience=self.patience if len(val_frame) else 0,
                batch_size=self.batch_size, virtual_batch_size=self.virtual_batch_size,
                drop_last=False, **fit_kw,
            )
        best = getattr(self.tabnet_, "best_epoch", None)
        keeps_best = len(val_frame) and self.patience
        self.best_epoch_ = int(best) + 1 if keeps_best and best is not None else int(self.max_epochs)
        self._set_tabular_fitted(FEATURES)
        return self

    def predict_proba(self, X):
        """(n, 2) array of [p(not GC), p(GC)]."""
        values = self._predict_values(X)  # first: it raises NotFittedError before tabnet_ is read
        # pytorch-tabnet orders the columns by its sorted training classes: [0, 1].
        return np.asarray(self.tabnet_.predict_proba(values), dtype=float)

    # -- bundles (the rest of the state: FeatureNetMixin) ------------------
    def _network_state(self):
        net = self.tabnet_
        return {
            "state_dict": _torch.state_dict_plain(net.network),
            "input_dim": int(net.input_dim),
            "output_dim": int(net.output_dim),
            "classes": [int(c) for c in net.classes_],
        }

    def _load_network(self, state):
        net = self._inner()
        net.input_dim, net.output_dim = state["input_dim"], state["output_dim"]
        net.virtual_batch_size = self.virtual_batch_size
        net.batch_size = self.batch_size
        net._set_network()
        net.network.load_state_dict(state["state_dict"])
        net.network.eval()
        classes = np.asarray(state["classes"])
        net.classes_ = classes
        net.target_mapper = {c: i for i, c in enumerate(classes)}
        net.preds_mapper = {str(i): c for i, c in enumerate(classes)}
        self.tabnet_ = net


def _factory(random_state=0, **params):
    return GCTabNetClassifier(random_state=random_state, **params)


register_model(
    "tabnet", _factory, input="features",
    description="TabNet (n_steps 5, n_d 10, n_a 10), best validation epoch",
    published=True, quick={"max_epochs": 3}, cost=150,  # seconds, benchmarks/results/bench_benchmark_fullmock_neural.md
)
