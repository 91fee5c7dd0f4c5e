"""Bundles: round trip in a fresh process, refusal of tampered and mismatched bundles."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.inference import Bundle, load_bundle, train_bundle
from globsml.inference._bundle import _manifest_digest
from globsml.models import model_names

from .conftest import TEST_MODEL, make_cutouts, make_table


def _predict_in_fresh_process(bundle_path, table_csv, out_npy, images_npy=None):
    """Load the bundle in a new interpreter and save its p_gc."""
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from globsml.inference import load_bundle\n"
        "b = load_bundle(sys.argv[1])\n"
        "X = np.load(sys.argv[4]) if len(sys.argv) > 4 else pd.read_csv(sys.argv[2])\n"
        "np.save(sys.argv[3], b.predict_proba(X))\n"
    )
    args = [sys.executable, "-c", code, str(bundle_path), str(table_csv), str(out_npy)]
    if images_npy is not None:
        args.append(str(images_npy))
    subprocess.run(args, check=True, capture_output=True, text=True)
    return np.load(out_npy)


def _catboost_pipeline(random_state=0):
    pytest.importorskip("catboost")
    from catboost import CatBoostClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(SimpleImputer(), CatBoostClassifier(iterations=20, depth=3, random_seed=random_state,
                                                             verbose=0, thread_count=1))


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_round_trip_in_fresh_process_gives_identical_p_gc(tmp_path, tiny_data, tiny_table, suffix):
    bundle = train_bundle(tiny_data, TEST_MODEL, setup="virgo2fornax", seed=3, out=tmp_path / f"b{suffix}")
    expected = bundle.predict_proba(tiny_table)
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    got = _predict_in_fresh_process(bundle.path, tmp_path / "t.csv", tmp_path / "p.npy")
    np.testing.assert_array_equal(got, expected)
    assert np.unique(expected).size > 10  # a real, varied prediction


def test_catboost_pipeline_is_stored_natively_and_round_trips(tmp_path, tiny_table):
    X, y = tiny_table.loc[:, list(FEATURES)], (tiny_table["pGC"] >= 0.5).astype(int)
    model = _catboost_pipeline().fit(X, y)
    bundle = Bundle(model, name="catboost-test")
    bundle.save(tmp_path / "cb")
    manifest = json.loads((tmp_path / "cb" / "manifest.json").read_text())
    assert manifest["model"]["kind"] == "pipeline"
    assert manifest["model"]["final"]["kind"] == "catboost"
    assert sorted(manifest["members"]) == ["model.cbm", "preprocessor.skops"]
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    got = _predict_in_fresh_process(tmp_path / "cb", tmp_path / "t.csv", tmp_path / "p.npy")
    np.testing.assert_array_equal(got, bundle.predict_proba(tiny_table))


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_torch_models_round_trip_through_their_state(tmp_path, name):
    if name not in model_names():
        pytest.skip(f"model {name!r} is not registered")
    from globsml.models import make_model, model_spec

    table = make_table(n_per_galaxy=40)
    y = (table["pGC"] >= 0.5).astype(int).to_numpy()
    spec = model_spec(name)
    X = make_cutouts(table) if spec.input == "images" else table.loc[:, list(FEATURES)]
    model = make_model(name, quick=True, random_state=0).fit(X, y)
    bundle = Bundle(model, input=spec.input, name=name)
    bundle.save(tmp_path / "t")
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    kinds = {manifest["model"]["kind"], manifest["model"].get("final", {}).get("kind")}
    assert "torch" in kinds
    table.to_csv(tmp_path / "t.csv", index=False)
    images = None
    if spec.input == "images":
        images = tmp_path / "x.npy"
        np.save(images, X)
    got = _predict_in_fresh_process(tmp_path / "t", tmp_path / "t.csv", tmp_path / "p.npy", images)
    np.testing.assert_allclose(got, bundle.predict_proba(X), rtol=0, atol=1e-6)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _rewrite_manifest(path, **changes):
    """Change manifest entries and re-sign it, as a genuine other bundle would be."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    manifest["digest"] = _manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_a_tampered_member_is_refused(tmp_path, tiny_bundle):
    bad = _copy(tiny_bundle, tmp_path / "bad")
    data = bytearray((bad / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0x01
    (bad / "model.skops").write_bytes(bytes(data))
    with pytest.raises(GlobsmlError, match=r"member model.skops was altered \(sha256 mismatch\)"):
        load_bundle(bad)


def test_an_edited_manifest_is_refused(tmp_path, tiny_bundle):
    bad = _copy(tiny_bundle, tmp_path / "bad")
    text = (bad / "manifest.json").read_text().replace('"threshold": 0.5', '"threshold": 0.1')
    assert '"threshold": 0.1' in text
    (bad / "manifest.json").write_text(text)
    with pytest.raises(GlobsmlError, match="manifest.json was edited"):
        load_bundle(bad)


def test_a_tampered_zip_is_refused(tmp_path, tiny_data):
    import zipfile

    train_bundle(tiny_data, TEST_MODEL, setup="random", out=tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    data = bytearray(members["model.skops"])
    data[-100] ^= 0xFF
    members["model.skops"] = bytes(data)
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    with pytest.raises(GlobsmlError, match="altered"):
        load_bundle(tmp_path / "bad.zip")


def test_a_bundle_of_another_version_is_refused(tmp_path, tiny_bundle):
    other = _copy(tiny_bundle, tmp_path / "other")
    _rewrite_manifest(other, globsml_version="0.0.9")
    with pytest.raises(GlobsmlError, match=r"made by globsml 0\.0\.9, this is globsml .*retrain"):
        load_bundle(other)


def test_a_bundle_with_other_features_is_refused(tmp_path, tiny_bundle):
    other = _copy(tiny_bundle, tmp_path / "other")
    _rewrite_manifest(other, features=[*FEATURES[:-1], "g_minus_i"])
    with pytest.raises(GlobsmlError, match="other features.*unknown: g_minus_i; missing: colour"):
        load_bundle(other)
    # ... and an expected feature list other than the bundle's is refused too.
    with pytest.raises(GlobsmlError, match="other features"):
        load_bundle(tiny_bundle, features=list(FEATURES[:5]))


def test_untrusted_types_are_refused_on_save(tmp_path, tiny_table):
    import os

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    X, y = tiny_table.loc[:, list(FEATURES)].fillna(0), (tiny_table["pGC"] >= 0.5).astype(int)
    model = make_pipeline(FunctionTransformer(os.getcwd, validate=False), DecisionTreeClassifier())
    model.steps[-1][1].fit(X, y)
    with pytest.raises(GlobsmlError, match="outside the trusted list"):
        Bundle(model).save(tmp_path / "evil")
    assert not (tmp_path / "evil").exists()


def test_not_a_bundle(tmp_path):
    with pytest.raises(GlobsmlError, match="no such bundle"):
        load_bundle(tmp_path / "missing")
    (tmp_path / "d").mkdir()
    with pytest.raises(GlobsmlError, match="not a globsml bundle"):
        load_bundle(tmp_path / "d")
    (tmp_path / "f.zip").write_bytes(b"not a zip")
    with pytest.raises(GlobsmlError, match="not a globsml bundle"):
        load_bundle(tmp_path / "f.zip")


def test_manifest_describes_training_and_validation(tiny_bundle):
    b = load_bundle(tiny_bundle)
    m = b.manifest
    assert m["model_name"] == TEST_MODEL and m["input"] == "features"
    assert m["features"] == list(FEATURES)
    assert m["training"]["setup"] == "virgo2fornax"
    assert set(m["training"]["train"]) == {"Virgo"} and set(m["training"]["validation"]) == {"Fornax"}
    assert m["training"]["validation"]["Fornax"]["n_sources"] == 240
    assert 0.5 < m["validation_metrics"]["pooled"]["roc_auc"] <= 1.0
    assert m["threshold"] == 0.5
    assert m["globsml_version"]
    assert set(m["members"]) == {"model.skops"}


def test_same_seed_same_bundle_model(tmp_path, tiny_data, tiny_table):
    a = train_bundle(tiny_data, TEST_MODEL, setup="random", seed=5)
    b = train_bundle(tiny_data, TEST_MODEL, setup="random", seed=5)
    np.testing.assert_array_equal(a.predict_proba(tiny_table), b.predict_proba(tiny_table))
    assert a.metrics == b.metrics


def test_unknown_setup_is_a_clear_error(tiny_data):
    with pytest.raises(GlobsmlError, match="unknown set-up 'sideways'"):
        train_bundle(tiny_data, TEST_MODEL, setup="sideways")
