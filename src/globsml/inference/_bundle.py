"""Model bundles: a trained model and everything a prediction needs, stored safely.

A bundle is a directory (or the same members in a ``.zip`` file) with a JSON
``manifest.json`` and the model in formats that do not execute arbitrary
code on load:

- scikit-learn models (a whole ``Pipeline``): skops (``model.skops``), loaded
  only when every object in it is of a type in the explicit list
  :data:`BUNDLE_TYPES` and none is a function (see :mod:`._trust`);
- CatBoost: CatBoost's own binary format (``model.cbm``); when it ends a
  ``Pipeline`` the steps before it go to ``preprocessor.skops``;
- torch models: ``torch.save`` of the estimator's ``_export_state()`` (a
  dict of tensors and plain Python values), loaded with
  ``torch.load(..., weights_only=True)``; again with ``preprocessor.skops``
  when it ends a ``Pipeline``.

The manifest records the globsml version, the feature list, the threshold,
the training data's description and the validation metrics, and the
sha256 of every member plus a digest of the manifest itself, so that a
damaged byte anywhere is detected on load. The hashes detect corruption,
not tampering (whoever edits a bundle can hash it again): loading is safe
whoever made the bundle because of the type checks, not the hashes.
"""

import contextlib
import datetime
import hashlib
import importlib
import importlib.abc
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_threshold
from .._errors import GlobsmlError
from .._io import atomic_path
from .._version import __version__
from ..data import CUTOUT_SHAPE, FEATURES, GC_THRESHOLD
from ._trust import BUNDLE_TYPES, check_native_class, check_skops_types

__all__ = [
    "Bundle",
    "load_bundle",
    "published_bundle",
    "PUBLISHED_BUNDLES",
    "BUNDLE_FORMAT",
    "BUNDLE_TYPES",
    "check_bundle_target",
]

#: Version of the bundle layout (members and manifest keys).
BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
CALIBRATION = "calibration.npz"

#: The members a bundle may have besides its manifest; nothing else is read.
_MODEL_MEMBERS = frozenset({"model.skops", "model.cbm", "model.pt", "preprocessor.skops", CALIBRATION})
#: Largest manifest read, in bytes (a real one is a few kB).
_MANIFEST_LIMIT = 1 << 20
#: Largest member read, and largest unpacked skops model, in bytes.
MEMBER_LIMIT = 4 << 30

#: Registry names of the published pretrained networks that are accepted
#: wherever a bundle path is.
PUBLISHED_BUNDLES = ("published-cnn-virgo2fornax", "published-cnn-fornax2virgo")

_IMAGE_BATCH = 4096


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _manifest_digest(manifest):
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return _sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def _major_minor(version):
    return tuple(str(version).split(".")[:2])


def _type_name(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_catboost(est):
    if "catboost" not in sys.modules:  # nothing can be a CatBoost model then
        return False
    from catboost import CatBoost

    return isinstance(est, CatBoost)


def _is_torch(est):
    return hasattr(est, "_export_state") and hasattr(type(est), "_from_state")


# -- model <-> bytes ---------------------------------------------------------
class _NoTorch(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` fail while it is on ``sys.meta_path``."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is not imported while skops loads")
        return None


def _skops():
    """``skops.io``, imported without dragging torch in.

    Importing skops.io imports every scikit-learn module to list its trusted
    types, and one of them (the array-API shim) imports torch when it is
    installed: ~300 MB of resident memory in every Dask worker, for a bundle
    that holds no torch model. torch is blocked for the duration of that
    import only (unless it is imported already); torch bundles import it
    themselves afterwards as usual.
    """
    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io

        return skops.io
    blocker = _NoTorch()
    sys.meta_path.insert(0, blocker)
    try:
        import skops.io
    finally:
        sys.meta_path.remove(blocker)
    return skops.io


def _skops_dump(obj, where):
    sio = _skops()

    data = sio.dumps(obj)
    check_skops_types(data, where)  # never write what load_bundle would refuse
    return data


def _skops_load(data, where):
    trusted = check_skops_types(data, where, size_limit=MEMBER_LIMIT)
    sio = _skops()

    try:
        return sio.loads(data, trusted=trusted)
    except GlobsmlError:
        raise
    except Exception as exc:
        raise GlobsmlError(f"{where}: cannot read the skops file ({exc})") from None


def _dump_final(est, members, where):
    """Serialise a final estimator natively; return its manifest entry."""
    if _is_catboost(est) or _is_torch(est):
        check_native_class(_type_name(est), where)  # never write what load_bundle would refuse
    if _is_catboost(est):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.cbm"
            est.save_model(str(path), format="cbm")
            members["model.cbm"] = path.read_bytes()
        return {"kind": "catboost", "class": _type_name(est), "member": "model.cbm"}
    if _is_torch(est):
        import torch

        buf = io.BytesIO()
        torch.save(est._export_state(), buf)
        members["model.pt"] = buf.getvalue()
        return {"kind": "torch", "class": _type_name(est), "member": "model.pt"}
    members["model.skops"] = _skops_dump(est, where)
    return {"kind": "skops", "member": "model.skops"}


def _dump_model(model, where):
    """Serialise ``model``; return (manifest entry, {member name: bytes})."""
    from sklearn.pipeline import Pipeline

    members = {}
    if isinstance(model, Pipeline) and (_is_catboost(model.steps[-1][1]) or _is_torch(model.steps[-1][1])):
        head = Pipeline(model.steps[:-1]) if len(model.steps) > 1 else None
        entry = {"kind": "pipeline", "final_step": model.steps[-1][0]}
        if head is not None:
            members["preprocessor.skops"] = _skops_dump(head, where)
            entry["preprocessor"] = "preprocessor.skops"
        entry["final"] = _dump_final(model.steps[-1][1], members, where)
        return entry, members
    return _dump_final(model, members, where), members


def _import_class(dotted, where):
    check_native_class(dotted, where)
    module, _, name = dotted.rpartition(".")
    try:
        obj = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise GlobsmlError(f"{where}: model class {dotted!r} is not available here ({exc})") from None
    return obj


def _load_final(entry, members, where):
    kind = entry.get("kind")
    data = members[entry["member"]]
    if kind == "skops":
        return _skops_load(data, where)
    if kind == "catboost":
        from catboost import CatBoost

        cls = _import_class(entry["class"], where)
        if not (isinstance(cls, type) and issubclass(cls, CatBoost)):
            raise GlobsmlError(f"{where}: model class {entry['class']} is not a CatBoost model")
        try:
            return cls().load_model(blob=data)
        except Exception as exc:
            raise GlobsmlError(f"{where}: cannot read the CatBoost model ({exc})") from None
    if kind == "torch":
        import torch

        cls = _import_class(entry["class"], where)
        if not hasattr(cls, "_from_state"):
            raise GlobsmlError(f"{where}: model class {entry['class']} cannot be rebuilt from a state")
        try:
            state = torch.load(io.BytesIO(data), weights_only=True)
        except Exception as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GlobsmlError(f"{where}: cannot read the torch state ({first_line})") from None
        return cls._from_state(state)
    raise GlobsmlError(f"{where}: unknown model kind {kind!r} in the manifest")


def _load_model(entry, members, where):
    if entry.get("kind") == "pipeline":
        from sklearn.pipeline import Pipeline

        steps = []
        if entry.get("preprocessor"):  # first: its types are checked before the final model is built
            steps = list(_skops_load(members[entry["preprocessor"]], where).steps)
        final = _load_final(entry["final"], members, where)
        return Pipeline([*steps, (entry["final_step"], final)])
    return _load_final(entry, members, where)


def _model_members(entry):
    if entry.get("kind") == "pipeline":
        return [m for m in (entry.get("preprocessor"), entry["final"].get("member")) if m]
    return [entry.get("member")]


# -- the bundle ----------------------------------------------------------------
class Bundle:
    """A fitted model with what a prediction needs.

    Parameters
    ----------
    model : estimator
        A fitted classifier with ``predict_proba`` (a scikit-learn
        ``Pipeline`` for tabular models: preprocessing included).
    input : {"features", "images"}
        What the model takes: a DataFrame of :attr:`features`, or
        (n, 2, 20, 20) cut-outs.
    name : str
        Registry name of the model (``"forest"``, ``"cnn"``...).
    features : sequence of str, optional
        Feature columns of a tabular model (the 29 published ones by default).
    threshold : float
        ``p_gc > threshold`` is a GC candidate (the published convention).
    training : dict, optional
        Description of the training data (path, set-up, counts per cluster).
    metrics : dict, optional
        Validation metrics.
    calibration : dict, optional
        ``{"scores": p_gc, "labels": 0/1}`` of a calibration part of the
        training data that the model did not see: the reference of the
        conformal p-values behind ``predict --fdr``
        (:mod:`globsml.inference._conformal`).

    Attributes
    ----------
    manifest : dict
        The manifest as written to / read from disk (after :meth:`save` or
        :func:`load_bundle`).
    path : Path or None
        Where the bundle was saved or loaded from.
    """

    def __init__(self, model, *, input="features", name="", features=None, threshold=GC_THRESHOLD,
                 training=None, metrics=None, calibration=None):
        if input not in ("features", "images"):
            raise ValueError(f"input must be 'features' or 'images', got {input!r}")
        self.model = model
        self.input = input
        self.name = str(name)
        self.features = list(FEATURES if features is None else features) if input == "features" else []
        self.threshold = check_threshold(threshold)
        self.training = dict(training or {})
        self.metrics = dict(metrics or {})
        self.calibration = None if calibration is None else {
            "scores": np.asarray(calibration["scores"], dtype=np.float64),
            "labels": np.asarray(calibration["labels"], dtype=np.int64),
        }
        self.manifest = None
        self.path = None

    def set_mc_passes(self, n):
        """Set the number of MC-dropout passes of a network that averages them.

        Raises
        ------
        GlobsmlError
            If the model has no ``mc_passes`` parameter.
        """
        params = self.model.get_params() if hasattr(self.model, "get_params") else {}
        if "mc_passes" not in params:
            raise GlobsmlError(f"bundle {self.name!r}: its model does not average MC-dropout passes")
        if int(n) < 0:
            raise GlobsmlError(f"MC-dropout passes must be >= 0, got {n}")
        self.model.set_params(mc_passes=int(n))
        self._changed = True  # no longer what is on disk: ship the object, not the path
        return self

    def __repr__(self):
        return f"<Bundle {self.name!r} ({self.input}), threshold={self.threshold:g}, path={self.path}>"

    # -- prediction ----------------------------------------------------------
    def predict_proba(self, X, *, progress=False, return_std=False):
        """p_gc of each source (a 1-d float64 array).

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            For a tabular bundle a DataFrame holding at least
            :attr:`features`; for an image bundle (n, 2, 20, 20) cut-outs
            (predicted in batches, so a memory map is never read whole).
        progress : bool
            Show a progress bar over image batches.
        return_std : bool
            Also return ``p_gc_std``, the spread of p_gc over the model's
            members (:func:`globsml.models.predict_proba_std`): ``(p_gc, p_gc_std)``.
        """
        from ..models import predict_proba_std

        def proba(batch):
            if return_std:
                return predict_proba_std(self.model, batch)
            return np.asarray(self.model.predict_proba(batch)[:, 1], dtype=np.float64), None

        if self.input == "features":
            if not isinstance(X, pd.DataFrame):
                raise GlobsmlError(f"bundle {self.name!r} takes a table of features, got {type(X).__name__}")
            missing = [c for c in self.features if c not in X.columns]
            if missing:
                raise GlobsmlError(
                    f"bundle {self.name!r} needs feature column(s) {', '.join(missing)}; "
                    "compute them from the cut-outs (globsml features) or give cut-outs"
                )
            if len(X) == 0:
                return (np.zeros(0), np.zeros(0)) if return_std else np.zeros(0)
            p, std = proba(X.loc[:, self.features])
            return (p, std) if return_std else p
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 4 or tuple(shape[1:]) != CUTOUT_SHAPE:
            raise GlobsmlError(f"bundle {self.name!r} takes (n, 2, 20, 20) cut-outs, got shape {shape}")
        out = np.empty(shape[0], dtype=np.float64)
        out_std = np.empty(shape[0], dtype=np.float64)
        starts = range(0, shape[0], _IMAGE_BATCH)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"{self.name} on cut-outs", unit="batch")
        for start in starts:
            batch = np.asarray(X[start : start + _IMAGE_BATCH], dtype=np.float32)
            p, std = proba(batch)
            out[start : start + len(batch)] = p
            if return_std:
                out_std[start : start + len(batch)] = std
        return (out, out_std) if return_std else out

    # -- disk ----------------------------------------------------------------
    def save(self, path):
        """Write the bundle to ``path`` (a directory, or a ``.zip`` file), atomically.

        Returns
        -------
        Path
        """
        path = Path(path)
        where = f"bundle {path}"
        check_bundle_target(path)
        entry, members = _dump_model(self.model, where)
        if self.calibration is not None:
            buf = io.BytesIO()
            np.savez(buf, scores=self.calibration["scores"], labels=self.calibration["labels"])
            members[CALIBRATION] = buf.getvalue()
        manifest = {
            "bundle_format": BUNDLE_FORMAT,
            "globsml_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "model_name": self.name,
            "input": self.input,
            "features": list(self.features),
            "threshold": self.threshold,
            "training": _jsonable(self.training),
            "validation_metrics": _jsonable(self.metrics),
            "model": entry,
            "calibration": None if self.calibration is None else {
                "member": CALIBRATION,
                "n_sources": int(len(self.calibration["labels"])),
                "n_gcs": int(self.calibration["labels"].sum()),
            },
            "libraries": _library_versions(entry),
            "members": {name: {"sha256": _sha256(data), "size": len(data)} for name, data in members.items()},
        }
        manifest["digest"] = _manifest_digest(manifest)
        text = json.dumps(manifest, indent=2, sort_keys=True).encode()
        if path.suffix.lower() == ".zip":
            with atomic_path(path) as tmp:
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr(MANIFEST, text)
                    for name, data in members.items():
                        zf.writestr(name, data)
        else:
            _write_directory(path, {MANIFEST: text, **members})
        self.manifest = manifest
        self.path = path
        return path


def _is_bundle(path):
    """Whether ``path`` is a bundle directory or zip file (by its manifest, without reading it)."""
    if path.is_dir():
        return (path / MANIFEST).is_file()
    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def check_bundle_target(path):
    """Refuse to save a bundle over anything but a bundle or an empty directory.

    Raises
    ------
    GlobsmlError
    """
    path = Path(path)
    if path.exists() and not _is_bundle(path) and not (path.is_dir() and not any(path.iterdir())):
        raise GlobsmlError(f"{path}: exists and is not a bundle; refusing to overwrite it")
    if path.suffix.lower() == ".zip" and path.is_dir():
        raise GlobsmlError(f"{path}: is a bundle directory; a .zip bundle needs a file name")


def _write_directory(path, files):
    """Write files into a new directory and swap it in for ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _library_versions(entry):
    import sklearn

    out = {"scikit-learn": sklearn.__version__, "numpy": np.__version__}
    kinds = {entry.get("kind"), entry.get("final", {}).get("kind")}
    if "torch" in kinds:
        import torch

        out["torch"] = torch.__version__
    if "catboost" in kinds:
        import catboost

        out["catboost"] = catboost.__version__
    try:
        import skops

        out["skops"] = skops.__version__
    except ImportError:  # pragma: no cover - skops is a dependency of bundles
        pass
    return out


def _jsonable(obj):
    """Plain JSON types (numpy scalars and arrays, tuples, NaN -> None)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


@contextlib.contextmanager
def _member_reader(path):
    """Yield ``read(name, limit)``, which returns one member of a bundle.

    Only what is asked for is read, and a member larger than ``limit``
    bytes (by its directory entry or its zip header, before anything is
    unpacked) is refused.
    """
    if path.is_dir():
        if not (path / MANIFEST).is_file():
            raise GlobsmlError(f"{path}: not a globsml bundle (no {MANIFEST})")

        def read(name, limit):
            file = path / name
            if not file.is_file():
                raise GlobsmlError(f"{path}: member {name} is missing")
            _check_size(path, name, file.stat().st_size, limit)
            return file.read_bytes()

        yield read
        return
    if not zipfile.is_zipfile(path):
        raise GlobsmlError(f"{path}: not a globsml bundle (expected a bundle directory or .zip file)")
    try:
        with zipfile.ZipFile(path) as zf:
            if MANIFEST not in zf.namelist():
                raise GlobsmlError(f"{path}: not a globsml bundle (no {MANIFEST} in the zip file)")

            def read(name, limit):
                try:
                    info = zf.getinfo(name)
                except KeyError:
                    raise GlobsmlError(f"{path}: member {name} is missing") from None
                _check_size(path, name, info.file_size, limit)
                return zf.read(info)  # zipfile never unpacks more than the header's size

            yield read
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise GlobsmlError(f"{path}: damaged bundle zip file ({exc})") from None


def _check_size(path, name, size, limit):
    if size > limit:
        raise GlobsmlError(f"{path}: member {name} holds {size} bytes, more than its {limit}; refusing to read it")


def _check_manifest(manifest, path):
    """Refuse a manifest whose entries are not what :meth:`Bundle.save` writes."""
    def bad(what):
        return GlobsmlError(f"{path}: {MANIFEST} is not a globsml bundle manifest ({what})")

    members = manifest.get("members")
    if not isinstance(members, dict) or not members:
        raise bad("no members")
    for name, info in members.items():
        if name not in _MODEL_MEMBERS:
            raise bad(f"unknown member {name!r}; a bundle holds only {', '.join(sorted(_MODEL_MEMBERS))}")
        if not (isinstance(info, dict) and isinstance(info.get("sha256"), str)
                and isinstance(info.get("size"), int) and not isinstance(info.get("size"), bool)):
            raise bad(f"member {name} has no sha256 and size")
    entry = manifest.get("model")
    if not isinstance(entry, dict) or (entry.get("kind") == "pipeline" and not isinstance(entry.get("final"), dict)):
        raise bad("no model entry")
    if manifest.get("input") not in ("features", "images"):
        raise bad(f"input {manifest.get('input')!r}")
    features = manifest.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise bad("features is not a list of names")
    threshold = manifest.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise bad(f"threshold {threshold!r} is not a number in [0, 1]")
    calibration = manifest.get("calibration")
    if calibration is not None and not (isinstance(calibration, dict) and calibration.get("member") == CALIBRATION
                                        and CALIBRATION in members):
        raise bad(f"calibration entry {calibration!r}")


def load_bundle(path, *, features=None):
    """Read a bundle, checking that it can be trusted and used here.

    Parameters
    ----------
    path : str or Path
        A bundle directory or ``.zip`` file, or the registry name of a
        published pretrained network (:data:`PUBLISHED_BUNDLES`).
    features : sequence of str, optional
        The feature list this globsml computes (the 29 published ones by
        default); a tabular bundle made for other features is refused.

    Returns
    -------
    Bundle

    Raises
    ------
    GlobsmlError
        If the path is not a bundle, a member or the manifest was altered
        (sha256 mismatch), the bundle was made by another globsml version
        (major.minor), with other features, or holds untrusted types.
    """
    if isinstance(path, Bundle):
        return path
    if not isinstance(path, Path) and str(path) in PUBLISHED_BUNDLES and not Path(path).exists():
        return published_bundle(str(path))
    path = Path(path)
    if not path.exists():
        hint = f"; or the name of a published network: {', '.join(PUBLISHED_BUNDLES)}"
        raise GlobsmlError(f"{path}: no such bundle{hint}")
    with _member_reader(path) as read:
        manifest = _read_manifest(read, path)
        members = {}
        for name, info in manifest["members"].items():
            data = read(name, min(info["size"], MEMBER_LIMIT))
            if _sha256(data) != info["sha256"]:
                raise GlobsmlError(f"{path}: member {name} was altered (sha256 mismatch); refusing to load it")
            members[name] = data
    return _bundle_from(manifest, members, path, features)


def _read_manifest(read, path):
    """The manifest of a bundle, checked: digest, format, version, entries."""
    text = read(MANIFEST, _MANIFEST_LIMIT)
    try:
        manifest = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GlobsmlError(f"{path}: {MANIFEST} is damaged or was edited (not valid JSON: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("digest") != _manifest_digest(manifest):
        raise GlobsmlError(f"{path}: {MANIFEST} was edited after the bundle was saved (digest mismatch); retrain it")
    if manifest.get("bundle_format") != BUNDLE_FORMAT:
        raise GlobsmlError(
            f"{path}: bundle format {manifest.get('bundle_format')}, this globsml reads format {BUNDLE_FORMAT}"
        )
    made_by = manifest.get("globsml_version", "?")
    if _major_minor(made_by) != _major_minor(__version__):
        raise GlobsmlError(
            f"{path}: bundle made by globsml {made_by}, this is globsml {__version__} "
            f"(major.minor must match); retrain it with `globsml train`"
        )
    _check_manifest(manifest, path)
    for name in _model_members(manifest["model"]):
        if name not in manifest["members"]:
            raise GlobsmlError(f"{path}: manifest lists no hash for member {name}")
    return manifest


def _bundle_from(manifest, members, path, features):
    """The :class:`Bundle` of a checked manifest and its members."""
    entry = manifest["model"]
    expected = list(FEATURES if features is None else features)
    if manifest["input"] == "features" and list(manifest["features"]) != expected:
        extra = [f for f in manifest["features"] if f not in expected]
        lacking = [f for f in expected if f not in manifest["features"]]
        detail = "; ".join(
            s for s in (
                f"unknown: {', '.join(extra)}" if extra else "",
                f"missing: {', '.join(lacking)}" if lacking else "",
                "same features, other order" if not extra and not lacking else "",
            ) if s
        )
        raise GlobsmlError(f"{path}: bundle was trained on other features than this globsml computes ({detail})")
    libs = manifest.get("libraries", {})
    import sklearn

    if _major_minor(libs.get("scikit-learn", sklearn.__version__)) != _major_minor(sklearn.__version__):
        warnings.warn(
            f"{path}: saved with scikit-learn {libs['scikit-learn']}, loading with {sklearn.__version__}",
            stacklevel=3,
        )
    model = _load_model(entry, members, f"bundle {path}")
    bundle = Bundle(
        model,
        calibration=_load_calibration(manifest, members, path),
        input=manifest["input"],
        name=manifest.get("model_name", ""),
        features=manifest["features"] if manifest["input"] == "features" else None,
        threshold=manifest["threshold"],
        training=manifest.get("training"),
        metrics=manifest.get("validation_metrics"),
    )
    bundle.manifest = manifest
    bundle.path = path
    return bundle


def _load_calibration(manifest, members, path):
    """The calibration scores and labels a bundle keeps (numbers only, no pickle), or None."""
    entry = manifest.get("calibration")
    if not entry:
        return None
    try:
        with np.load(io.BytesIO(members[entry["member"]]), allow_pickle=False) as data:
            calibration = {"scores": data["scores"], "labels": data["labels"]}
    except (KeyError, ValueError, OSError) as exc:
        raise GlobsmlError(f"{path}: cannot read the calibration scores ({exc})") from None
    if calibration["scores"].shape != calibration["labels"].shape or calibration["scores"].ndim != 1:
        raise GlobsmlError(f"{path}: the calibration scores and labels do not match")
    return calibration


def published_bundle(name, *, path=None, mc_passes=None):
    """A published pretrained network as a :class:`Bundle`.

    The network file is read from ``path`` or ``$GLOBSML_PUBLISHED_MODELS``
    (see :mod:`globsml.models`); :meth:`Bundle.save` then writes a
    self-contained bundle (weights as a torch state, no pickle).

    Parameters
    ----------
    name : str
        ``"published-cnn-virgo2fornax"`` (trained on Virgo) or
        ``"published-cnn-fornax2virgo"`` (trained on Fornax).
    path : str or Path, optional
        The network file or the directory holding it.
    mc_passes : int, optional
        MC-dropout passes (200 as published by default).
    """
    if name not in PUBLISHED_BUNDLES:
        raise GlobsmlError(f"unknown published network {name!r}; known: {', '.join(PUBLISHED_BUNDLES)}")
    from ..experiments import get_setup
    from ..models import make_model

    params = {k: v for k, v in (("path", path), ("mc_passes", mc_passes)) if v is not None}
    model = make_model(name, **params)
    setup = get_setup(model.network)  # the set-up the network was trained under
    return Bundle(
        model,
        input="images",
        name=name,
        threshold=GC_THRESHOLD,
        training={"source": "Dold & Fahrion 2022, published trained network",
                  "trained_on": setup.train_cluster, "setup": setup.name},
    )
