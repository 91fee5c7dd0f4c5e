"""What the neural networks of the feature table (MLP, TabNet) share.

Their inputs (the 29 features as a DataFrame), the training and validation
rows of ``fit``, the published preprocessing in front of the network, and
the parts of the exported state that are not the network itself.
"""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._errors import GlobsmlError
from ..data import FEATURES
from . import _torch

__all__ = ["FeatureNetMixin", "as_frame", "make_preprocessor", "export_preprocessor", "import_preprocessor"]


def export_preprocessor(pipe):
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


def import_preprocessor(state):
    """The fitted published preprocessor of :func:`export_preprocessor` output."""
    from ..preprocessing import make_preprocessor as published_preprocessor

    pipe = published_preprocessor()
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


def make_preprocessor(kind):
    """The preprocessor ``preprocessor=kind`` asks for: the published one, or None."""
    if kind == "published":
        from ..preprocessing import make_preprocessor as published_preprocessor

        return published_preprocessor()
    if kind is None or kind == "none":
        return None
    raise GlobsmlError(f"preprocessor must be 'published' or None, got {kind!r}")


def as_frame(X, what):
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


class FeatureNetMixin(_torch.TorchClassifierMixin):
    """Inputs, preprocessing and exported state of a network of the feature table.

    A subclass has the parameters ``preprocessor``, ``validation_fraction``
    and ``random_state``, names its fitted network in ``_NETWORK``, and
    implements ``_network_state()`` (the network as plain values) and
    ``_load_network(state)`` (the network from them).
    """

    _NETWORK = "network_"

    def _fit_frames(self, X, y, eval_set):
        """Training and validation features and labels of ``fit``.

        The validation rows are ``eval_set`` where given, else a stratified
        ``validation_fraction`` of ``X``. Fits ``preprocessor_`` on the
        training rows.

        Returns
        -------
        train_frame, y_train, val_frame, y_val
            DataFrames of the 29 features and float32 0/1 labels.
        """
        frame, y, val_frame, y_val = _torch.fit_data(X, y, eval_set, as_input=as_frame,
                                                     what=f"{type(self).__name__}.fit")
        train_frame, y_train, val_frame, y_val = _torch.split_validation(
            frame, y, val_frame, y_val, fraction=self.validation_fraction, random_state=self.random_state)
        self.preprocessor_ = make_preprocessor(self.preprocessor)
        if self.preprocessor_ is not None:
            self.preprocessor_.fit(train_frame)
        return train_frame, y_train, val_frame, y_val

    def _values(self, frame, what):
        """The preprocessed features of a frame as a finite float32 array."""
        values = frame if self.preprocessor_ is None else self.preprocessor_.transform(frame)
        values = np.asarray(values, dtype=np.float32)
        if not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values))[0]
            raise GlobsmlError(
                f"{what}: non-finite value in feature {FEATURES[bad[1]]!r} (row {bad[0]}); use "
                "preprocessor='published' (median imputation) or impute first"
            )
        return values

    def _predict_values(self, X):
        """:meth:`_values` of ``predict_proba``'s input, after the fitted check."""
        check_is_fitted(self, self._NETWORK)
        _torch.use_threads(self.n_threads)
        what = f"{type(self).__name__}.predict_proba"
        return self._values(as_frame(X, what), what)

    # -- exported states ---------------------------------------------------
    def _export_state(self):
        """The fitted model as tensors and plain values (``torch.load(weights_only=True)``)."""
        check_is_fitted(self, self._NETWORK)
        return {
            **self._state_header(),
            **self._network_state(),
            "best_epoch": int(self.best_epoch_),
            "preprocessor": None if self.preprocessor_ is None else export_preprocessor(self.preprocessor_),
        }

    @classmethod
    def _from_state(cls, state):
        """Rebuild a fitted estimator from :meth:`_export_state` output."""
        _torch.check_state(state, cls)
        self = cls(**cls._params_from_state(state["params"]))
        self._load_network(state)
        self.preprocessor_ = None if state["preprocessor"] is None else import_preprocessor(state["preprocessor"])
        self.best_epoch_ = state["best_epoch"]
        self._set_tabular_fitted(FEATURES)
        return self

    @staticmethod
    def _params_from_state(params):
        """The constructor parameters of an exported state (lists back to the types they were)."""
        return dict(params)
