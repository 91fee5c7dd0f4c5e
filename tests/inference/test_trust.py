"""Bundles from strangers: what loading trusts, and crafted bundles that it refuses.

The crafted bundles carry correct hashes and a correct manifest digest, as
anyone who edits a bundle can compute them: the hashes detect corruption,
the type checks keep code from running.
"""

import functools
import hashlib
import io
import json
import operator
import os
import zipfile

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.inference import Bundle, load_bundle
from globsml.inference._bundle import _manifest_digest
from globsml.inference._trust import BUNDLE_TYPES, EARLIER_BUNDLE_TYPES, NATIVE_CLASSES, _schema_nodes
from globsml.models._params import estimators_in

from .conftest import make_cutouts, make_table

#: Hostile cases tried in this file (the closing note of issue 17 counts them).
HOSTILE_PAYLOADS = {
    "builtin os.system": lambda: _function_pipeline(os.system),
    "builtin eval": lambda: _function_pipeline(eval),
    "numpy function (admitted by the old prefix list)": lambda: _function_pipeline(np.save),
    "ufunc that skops trusts by default": lambda: _function_pipeline(np.log),
    "functools.partial of exec": lambda: _function_pipeline(functools.partial(exec, "pass")),
    "operator callable": lambda: _function_pipeline(operator.attrgetter("shape")),
    "bound method": lambda: _function_pipeline(np.random.default_rng(0).random),
}


def _function_pipeline(func):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(func, validate=False))


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _crafted(path, files, model_entry, *, as_zip, **manifest_changes):
    """Write a bundle with these members, hashed and signed as a genuine one."""
    from globsml import __version__

    manifest = {
        "bundle_format": 1, "globsml_version": __version__, "model_name": "crafted", "input": "features",
        "features": list(FEATURES), "threshold": 0.5, "training": {}, "validation_metrics": {},
        "model": model_entry, "libraries": {},
        "members": {n: {"sha256": _sha(d), "size": len(d)} for n, d in files.items()},
    }
    manifest.update(manifest_changes)
    manifest["digest"] = _manifest_digest(manifest)
    files = {"manifest.json": json.dumps(manifest).encode(), **files}
    if as_zip:
        path = path.with_suffix(".zip")
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        path.mkdir()
        for name, data in files.items():
            (path / name).write_bytes(data)
    return path


@pytest.fixture
def no_skops_loads(monkeypatch):
    """Fails the test if skops starts building objects."""
    import skops.io

    def refuse(*args, **kwargs):
        raise AssertionError("skops.io.loads was reached: the bundle was not refused before loading")

    monkeypatch.setattr(skops.io, "loads", refuse)


@pytest.mark.parametrize("as_zip", [False, True], ids=["directory", "zip"])
@pytest.mark.parametrize("payload", sorted(HOSTILE_PAYLOADS))
def test_crafted_skops_bundles_are_refused_before_anything_is_built(tmp_path, payload, as_zip, no_skops_loads):
    import skops.io

    data = skops.io.dumps(HOSTILE_PAYLOADS[payload]())
    path = _crafted(tmp_path / "evil", {"model.skops": data}, {"kind": "skops", "member": "model.skops"},
                    as_zip=as_zip)
    with pytest.raises(GlobsmlError, match=r"holds object\(s\) that globsml does not load: .*FunctionTransformer"):
        load_bundle(path)


def test_a_crafted_preprocessor_is_refused_too(tmp_path, no_skops_loads):
    import skops.io

    data = skops.io.dumps(_function_pipeline(os.system))
    entry = {"kind": "pipeline", "final_step": "m", "preprocessor": "preprocessor.skops",
             "final": {"kind": "torch", "class": "globsml.models._mlp.GCMLPClassifier", "member": "model.pt"}}
    path = _crafted(tmp_path / "evil", {"preprocessor.skops": data, "model.pt": b"x"}, entry, as_zip=True)
    with pytest.raises(GlobsmlError, match="does not load: .*posix.system"):
        load_bundle(path)


@pytest.mark.parametrize("as_zip", [False, True], ids=["directory", "zip"])
@pytest.mark.parametrize(("kind", "cls"), [
    ("torch", "subprocess.Popen"),
    ("torch", "globsml.cli.main"),          # a globsml name, but not a model class
    ("catboost", "os.system"),
])
def test_native_members_rebuild_only_listed_classes(tmp_path, kind, cls, as_zip):
    member = "model.pt" if kind == "torch" else "model.cbm"
    path = _crafted(tmp_path / "evil", {member: b"\0" * 16}, {"kind": kind, "class": cls, "member": member},
                    as_zip=as_zip)
    with pytest.raises(GlobsmlError, match=f"refuses to rebuild model class '{cls}'"):
        load_bundle(path)


@pytest.mark.parametrize(("changes", "message"), [
    ({"members": {"../outside": {"sha256": "0" * 64, "size": 1}}}, "unknown member '../outside'"),
    ({"members": {"/etc/passwd": {"sha256": "0" * 64, "size": 1}}}, "unknown member '/etc/passwd'"),
    ({"members": []}, "no members"),
    ({"threshold": "0.5"}, "threshold '0.5' is not a number"),
    ({"threshold": 7}, "threshold 7 is not a number in"),
    ({"input": "pickle"}, "input 'pickle'"),
    ({"features": "m3_g"}, "features is not a list"),
    ({"model": "skops"}, "no model entry"),
])
def test_manifest_entries_of_the_wrong_kind_are_refused(tmp_path, changes, message):
    path = _crafted(tmp_path / "odd", {"model.skops": b"x"}, {"kind": "skops", "member": "model.skops"},
                    as_zip=False, **changes)
    with pytest.raises(GlobsmlError, match=message):
        load_bundle(path)


def test_zip_bundles_read_only_listed_members_within_their_size(tmp_path, tiny_bundle, monkeypatch):
    """A deflate bomb beside the members is never read; a member whose header
    claims more than its manifest size is refused before it is unpacked."""
    members = {p.name: p.read_bytes() for p in tiny_bundle.iterdir()}
    with zipfile.ZipFile(tmp_path / "b.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("bomb.bin", b"\0" * (64 << 20))  # 64 MiB in about 64 kB
    read = []
    original = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, pwd=None: read.append(
        (self.filename, getattr(name, "filename", name))) or original(self, name, pwd))
    assert load_bundle(tmp_path / "b.zip").predict_proba(make_table(n_per_galaxy=5)).shape == (20,)
    assert sorted(n for f, n in read if f == str(tmp_path / "b.zip")) == sorted(members)
    monkeypatch.undo()

    # the model member swapped for a larger one whose manifest size is unchanged
    with zipfile.ZipFile(tmp_path / "big.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data + b"\0" * (32 << 20) if name == "model.skops" else data)
    with pytest.raises(GlobsmlError, match=r"member model.skops holds \d+ bytes, more than its \d+"):
        load_bundle(tmp_path / "big.zip")


def test_a_skops_member_that_claims_too_much_unpacked_is_refused(tmp_path, monkeypatch, no_skops_loads):
    from globsml.inference import _bundle

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("schema.json", json.dumps({"__class__": "list", "__module__": "builtins",
                                               "__loader__": "ListNode", "content": []}))
        zf.writestr("0.npy", b"\0" * (8 << 20))
    monkeypatch.setattr(_bundle, "MEMBER_LIMIT", 1 << 20)
    data = inner.getvalue()
    path = _crafted(tmp_path / "bomb", {"model.skops": data}, {"kind": "skops", "member": "model.skops"},
                    as_zip=False)
    with pytest.raises(GlobsmlError, match="claims 8388[0-9]+ bytes unpacked"):
        load_bundle(path)


def _fit_registered(name, table, cut, y):
    from globsml.models import make_model, model_spec

    spec = model_spec(name)
    X = cut if spec.input == "images" else table.loc[:, list(FEATURES)]
    try:
        model = make_model(name, quick=True, random_state=0)
    except GlobsmlError:  # the published networks need their files
        return None, None, None
    return model.fit(X, y), spec.input, X


@pytest.mark.slow
def test_the_lists_are_the_types_of_every_registered_model(tmp_path):
    """Train every registered model, save it and load it back: what the
    bundles hold is exactly what the lists trust (nothing missing, nothing
    that no model needs)."""
    from globsml.inference._train import _register_fast_path
    from globsml.models import model_names

    _register_fast_path()
    table = make_table(n_per_galaxy=60)
    cut, y = make_cutouts(table), (table["pGC"] >= 0.5).astype(int).to_numpy()
    seen, natives, fitted = set(), set(), []
    for name in model_names():
        model, kind, X = _fit_registered(name, table, cut, y)
        if model is None:
            continue
        fitted.append(name)
        types = {f"{type(e).__module__}.{type(e).__qualname__}" for e in estimators_in(model)}
        assert types <= BUNDLE_TYPES | NATIVE_CLASSES, name
        path = Bundle(model, input=kind, name=name).save(tmp_path / name)
        loaded = load_bundle(path)
        np.testing.assert_allclose(loaded.predict_proba(X), Bundle(model, input=kind).predict_proba(X),
                                   rtol=1e-6, atol=1e-7, err_msg=name)
        entry = loaded.manifest["model"]
        for part in (entry, entry.get("final", {})):
            if "class" in part:
                natives.add(part["class"])
        for member in path.glob("*.skops"):
            with zipfile.ZipFile(member) as zf:
                seen |= {t for _, t in _schema_nodes(json.loads(zf.read("schema.json")), set())}
    assert {"forest", "catboost", "catboost-fast", "mlp", "cnn", "tabnet"} <= set(fitted)
    # nothing trusted that no registered model holds (data types aside)
    unused = {t for t in BUNDLE_TYPES - seen - EARLIER_BUNDLE_TYPES if not t.startswith(("builtins.", "numpy."))}
    assert not unused, unused
    published = {"globsml.models._published.PublishedCNNClassifier"}
    assert NATIVE_CLASSES - natives <= published, NATIVE_CLASSES - natives


def test_bundles_of_earlier_versions_with_scikit_learns_own_classes_still_load(tmp_path):
    """Bundles saved before the models' Shared*/Seeded* classes hold scikit-learn's
    forest, AdaBoost and k-NN: they load and predict as they did."""
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    from globsml.models import tabular_pipeline

    table = make_table(n_per_galaxy=30)
    X, y = table.loc[:, list(FEATURES)], (table["pGC"] >= 0.5).astype(int).to_numpy()
    for estimator in (RandomForestClassifier(n_estimators=3, random_state=0),
                      AdaBoostClassifier(RandomForestClassifier(n_estimators=2, random_state=0), n_estimators=2,
                                         random_state=0),
                      KNeighborsClassifier(n_neighbors=3)):
        model = tabular_pipeline(estimator).fit(X, y)
        name = type(estimator).__name__
        loaded = load_bundle(Bundle(model, input="features", name=name).save(tmp_path / name))
        np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X)[:, 1], err_msg=name)
