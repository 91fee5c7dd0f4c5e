"""The trained networks that Dold & Fahrion 2022 ship, loaded safely into globsml.

The published files (``experiments/<name>`` of ``dodo47/GCDetection``) are
``torch.save`` pickles of a dict: ``model_state_dict`` (CUDA tensors for the
CNNs), ``optimizer_state_dict``, the 0-based best ``epoch`` and its
validation ``tpr``/``fdr`` as numpy float64 scalars. They are read with
``torch.load(..., weights_only=True)`` after allow-listing exactly the
numpy globals those float64 scalars need (``numpy.core.multiarray.scalar``,
``numpy.dtype`` and ``numpy.dtypes.Float64DType``); CUDA storages are mapped to the CPU. Nothing is ever
unpickled with ``weights_only=False``.

The port check (:func:`globsml.models.published_port_check`) runs the
Virgo-trained network on the real Fornax cut-outs:
``python -m globsml.models._port_check DATA_DIR``.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from .._errors import GlobsmlError
from . import _torch
from ._cnn import CNNNet, GCCNNClassifier
from ._mlp import GCMLPClassifier, MLPNet
from ._registry import register_model

__all__ = [
    "PUBLISHED_NETWORKS",
    "PublishedCNNClassifier",
    "read_published_checkpoint",
    "load_published_cnn",
    "load_published_mlp",
    "published_model_path",
    "published_port_check",
]

#: Environment variable naming the directory of the published network files.
ENV_VAR = "GLOBSML_PUBLISHED_MODELS"

#: Registry name -> published file name.
PUBLISHED_NETWORKS = {
    "published-cnn-virgo2fornax": "Virgo2Fornax--CNN",
    "published-cnn-fornax2virgo": "Fornax2Virgo--CNN",
    "published-mlp-virgo2fornax": "NeuralNet--best--Virgo2Fornax",
    "published-mlp-fornax2virgo": "NeuralNet--best--Fornax2Virgo",
}

MLP_RESCALING_WARNING = (
    "the published MLP expects its 29 inputs rescaled with statistics of the published training "
    "table (ACS_sources_original.csv), which is not available: globsml's rescaling is a "
    "reconstruction fitted on other data, so its predictions are not the published ones"
)


def _safe_numpy_globals():
    """Exactly the numpy globals the published files pickle (float64 scalars)."""
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core.multiarray import scalar
    # The files were written with numpy 1.x, which pickled the function under
    # the name numpy.core.multiarray.scalar; allow it under that name. The
    # float64 dtype object is rebuilt through np.dtype and its class.
    return [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype(np.float64))]


def _unwrap_scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def read_published_checkpoint(path):
    """Read a published network file safely.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        ``state_dict`` (CPU tensors), ``epoch`` (1-based best epoch),
        ``val_tpr``, ``val_fdr`` (floats, as published) and ``path``.

    Raises
    ------
    GlobsmlError
        If the file is missing or is not such a checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise GlobsmlError(f"{path}: no such published network file")
    try:
        with torch.serialization.safe_globals(_safe_numpy_globals()):
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "WeightsUnpickler" in ln or "Unsupported" in ln), lines[0] if lines else "")
        raise GlobsmlError(f"{path}: not a loadable published network ({why})") from None
    if not isinstance(raw, dict) or "model_state_dict" not in raw:
        raise GlobsmlError(f"{path}: expected a dict with 'model_state_dict', got {type(raw).__name__}")
    return {
        "state_dict": {k: v.float() for k, v in raw["model_state_dict"].items()},
        # The published loop saves the 0-based epoch index.
        "epoch": int(_unwrap_scalar(raw.get("epoch", -1))) + 1,
        "val_tpr": float(_unwrap_scalar(raw.get("tpr", np.nan))),
        "val_fdr": float(_unwrap_scalar(raw.get("fdr", np.nan))),
        "path": str(path),
    }


def _load_into(module, ckpt, kind):
    try:
        module.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise GlobsmlError(f"{ckpt['path']}: not a published {kind} ({str(exc).splitlines()[0]})") from None
    module.eval()
    return module


def load_published_cnn(path, *, mc_passes=200, random_state=0, n_threads=None):
    """A fitted :class:`GCCNNClassifier` holding a published CNN (``*--CNN``).

    ``best_epoch_`` and ``history_`` carry the published best epoch and its
    validation TPR/FDR.
    """
    ckpt = read_published_checkpoint(path)
    est = GCCNNClassifier(mc_passes=mc_passes, random_state=random_state, n_threads=n_threads)
    est.network_ = _load_into(CNNNet(est.dropout), ckpt, "CNN")
    est.best_epoch_ = ckpt["epoch"]
    est.history_ = [{"epoch": ckpt["epoch"], "val_tpr": ckpt["val_tpr"], "val_fdr": ckpt["val_fdr"],
                     "val_score": ckpt["val_tpr"] - ckpt["val_fdr"]}]
    est.classes_ = np.array([0, 1])
    return est


def load_published_mlp(path, *, warn=True):
    """A fitted :class:`GCMLPClassifier` holding a published MLP (``NeuralNet--best--*``).

    Warnings
    --------
    The published MLP takes the 29 features rescaled with statistics of the
    published training table (``ACS_sources_original.csv``), which is not
    available. The returned estimator therefore has ``preprocessor=None``:
    it expects features already rescaled, and no rescaling available here
    reproduces the published one exactly. A ``UserWarning`` says so unless
    ``warn=False``.
    """
    ckpt = read_published_checkpoint(path)
    if warn:
        warnings.warn(f"{path}: {MLP_RESCALING_WARNING}", UserWarning, stacklevel=2)
    est = GCMLPClassifier(preprocessor=None)
    est.network_ = _load_into(MLPNet((29, 100, 100, 1), est.dropout), ckpt, "MLP")
    est.preprocessor_ = None
    est.best_epoch_ = ckpt["epoch"]
    est.history_ = [{"epoch": ckpt["epoch"], "val_tpr": ckpt["val_tpr"], "val_fdr": ckpt["val_fdr"],
                     "val_score": ckpt["val_tpr"] - ckpt["val_fdr"]}]
    est.classes_ = np.array([0, 1])
    est.n_features_in_ = 29
    from ..data import FEATURES

    est.feature_names_in_ = np.asarray(FEATURES, dtype=object)
    return est


def published_model_path(name, path=None):
    """Where the file of a published network is.

    Parameters
    ----------
    name : str
        A key of :data:`PUBLISHED_NETWORKS` (``"published-cnn-virgo2fornax"``)
        or a published file name (``"Virgo2Fornax--CNN"``).
    path : str or Path, optional
        The file itself, or a directory holding it (directly or in
        ``models/``). Defaults to the directory in ``$GLOBSML_PUBLISHED_MODELS``.

    Raises
    ------
    GlobsmlError
        If the file cannot be found; the message says how to get it.
    """
    filename = PUBLISHED_NETWORKS.get(name, name)
    if filename not in PUBLISHED_NETWORKS.values():
        raise GlobsmlError(
            f"unknown published network {name!r}; known: {', '.join(PUBLISHED_NETWORKS)}"
        )
    where = path if path is not None else os.environ.get(ENV_VAR)
    if not where:
        raise GlobsmlError(
            f"the published network {filename} is not available: run `globsml fetch DIR --models` "
            f"and set {ENV_VAR}=DIR/models (or pass path=)"
        )
    where = Path(where)
    for candidate in (where, where / filename, where / "models" / filename):
        if candidate.is_file():
            return candidate
    origin = "path=" if path is not None else f"${ENV_VAR}"
    raise GlobsmlError(
        f"{where} ({origin}): no published network {filename} there; run `globsml fetch DIR --models` "
        f"and set {ENV_VAR}=DIR/models"
    )


class PublishedCNNClassifier(_torch.TorchClassifierMixin, ClassifierMixin, BaseEstimator):
    """A published, already trained CNN, usable wherever a model name is accepted.

    ``fit`` is refused: the network was trained by Dold & Fahrion 2022 (on
    Virgo for ``"virgo2fornax"``, on Fornax for ``"fornax2virgo"``);
    retraining it would silently make it another model. Use
    ``make_model("cnn")`` to train the same architecture.

    Parameters
    ----------
    network : {"virgo2fornax", "fornax2virgo"}
    path : str or Path, optional
        The file or a directory holding it; defaults to
        ``$GLOBSML_PUBLISHED_MODELS``.
    mc_passes : int, default 200
        MC-dropout passes (as published); 0 or 1 for one deterministic pass.
    random_state : int, default 0
        Seed of the MC-dropout masks.
    n_threads : int, optional
    """

    pretrained = True

    def __init__(self, network="virgo2fornax", *, path=None, mc_passes=200, random_state=0, n_threads=None):
        self.network = network
        self.path = path
        self.mc_passes = mc_passes
        self.random_state = random_state
        self.n_threads = n_threads

    @property
    def registry_name(self):
        return f"published-cnn-{self.network}"

    def _model(self):
        """The loaded network (read once), with this estimator's prediction settings."""
        key = (self.network, str(self.path))
        if getattr(self, "_cache", (None, None))[0] != key:
            if self.registry_name not in PUBLISHED_NETWORKS:
                raise GlobsmlError(f"network must be 'virgo2fornax' or 'fornax2virgo', got {self.network!r}")
            file = published_model_path(self.registry_name, self.path)
            self._cache = (key, load_published_cnn(file))
        model = self._cache[1]
        model.set_params(mc_passes=self.mc_passes, random_state=self.random_state, n_threads=self.n_threads)
        return model

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.array([0, 1])

    @property
    def cnn_(self):
        """The underlying fitted :class:`GCCNNClassifier`."""
        return self._model()

    def fit(self, X=None, y=None, **kwargs):
        """Refused: a published network is already trained."""
        raise GlobsmlError(
            f"{self.registry_name} is a published, already trained network: it predicts but cannot "
            "be fitted; train the same architecture with the model 'cnn'"
        )

    def predict_proba(self, X):
        """(n, 2) array of [p(not GC), p(GC)], MC-dropout averaged."""
        return self._model().predict_proba(X)

    def embed(self, X):
        """The last hidden layer (n, 50)."""
        return self._model().embed(X)

    def _export_state(self):
        """The weights and settings as tensors and plain values (self-contained)."""
        return {
            **self._state_header(path=None),
            "cnn": self._model()._export_state(),
        }

    @classmethod
    def _from_state(cls, state):
        """Rebuild from :meth:`_export_state` output (no file needed)."""
        _torch.check_state(state, cls)
        self = cls(**state["params"])
        self._cache = ((self.network, str(self.path)), GCCNNClassifier._from_state(state["cnn"]))
        return self


def _published_factory(network):
    def factory(random_state=0, **params):
        est = PublishedCNNClassifier(network, random_state=random_state, **params)
        est._model()  # fail now, with the fetch instructions, if the file is not there
        return est
    return factory


for _network, _train in (("virgo2fornax", "Virgo"), ("fornax2virgo", "Fornax")):
    register_model(
        f"published-cnn-{_network}", _published_factory(_network), input="images",
        description=f"the published CNN trained on {_train} (pretrained; needs ${ENV_VAR}; fit refused)",
        published=True, quick={"mc_passes": 20}, pretrained=True,
    )


# -- the port check -------------------------------------------------------

def published_port_check(data_dir, *, path=None, mc_passes=200, random_state=0, progress=False):
    """Run the published Virgo-trained CNN on the real Fornax cut-outs.

    For every Fornax galaxy whose cut-outs are in ``data_dir/ImageData``,
    count the sources with MC-dropout p > 0.5 and compare with the
    published count (``published_fornax_predictions.csv``, column
    ``cnn_virgo2fornax_predicted``).

    Parameters
    ----------
    data_dir : str or Path
        The real data directory (``../shared/gcdata``).
    path : str or Path, optional
        The network file; defaults to ``data_dir/published_models/Virgo2Fornax--CNN``.
    mc_passes, random_state : int
        MC-dropout passes and mask seed.

    Returns
    -------
    pandas.DataFrame
        ``galaxy``, ``n_sources``, ``published``, ``ours``, ``difference``
        (ours - published), one row per galaxy.
    """
    from tqdm.auto import tqdm

    from ..data import cluster_of, image_files, read_cutouts

    data_dir = Path(data_dir)
    table = data_dir / "published_fornax_predictions.csv"
    if not table.is_file():
        raise GlobsmlError(f"{table}: no such file (the published Fornax predictions)")
    published = pd.read_csv(table).set_index("galaxy")["cnn_virgo2fornax_predicted"]
    file = Path(path) if path is not None else data_dir / "published_models" / "Virgo2Fornax--CNN"
    model = load_published_cnn(file, mc_passes=mc_passes, random_state=random_state)
    files = {g: p for g, p in image_files(data_dir / "ImageData").items() if cluster_of(g) == "Fornax"}
    if not files:
        raise GlobsmlError(f"{data_dir / 'ImageData'}: no Fornax cut-out files")
    rows = []
    for galaxy, file in tqdm(sorted(files.items()), desc="port check", disable=not progress):
        if galaxy not in published.index:
            raise GlobsmlError(f"{table}: no published count for galaxy {galaxy}")
        cutouts = read_cutouts(file, memmap=False)
        ours = int(model.predict(cutouts).sum())
        rows.append({"galaxy": galaxy, "n_sources": len(cutouts), "published": int(published[galaxy]),
                     "ours": ours, "difference": ours - int(published[galaxy])})
    return pd.DataFrame(rows)
