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


def _predict_in_fresh_process(tmp_path, jobs):
    """Load each bundle in one new interpreter and return its p_gc.

    ``jobs`` is a list of (bundle path, input): a DataFrame or an array.
    One interpreter for all jobs, because starting one costs seconds.
    """
    args = []
    for i, (path, X) in enumerate(jobs):
        if isinstance(X, np.ndarray):
            np.save(tmp_path / f"in{i}.npy", X)
            args += [str(path), str(tmp_path / f"in{i}.npy")]
        else:
            X.to_csv(tmp_path / f"in{i}.csv", index=False)
            args += [str(path), str(tmp_path / f"in{i}.csv")]
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from globsml.inference import load_bundle\n"
        "a = sys.argv[1:]\n"
        "for i in range(0, len(a), 2):\n"
        "    X = np.load(a[i + 1]) if a[i + 1].endswith('.npy') else pd.read_csv(a[i + 1])\n"
        "    np.save(a[i + 1] + '.p.npy', load_bundle(a[i]).predict_proba(X))\n"
    )
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return [np.load(args[i + 1] + ".p.npy") for i in range(0, len(args), 2)]


def _catboost_pipeline(random_state=0):
    pytest.importorskip("catboost")
    from catboost import CatBoostClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(SimpleImputer(), CatBoostClassifier(iterations=20, depth=3, random_seed=random_state,
                                                             verbose=0, thread_count=1))


def _torch_bundles(tmp_path):
    """Bundles of the registered torch models (mlp, cnn), fitted quickly on tiny data."""
    from globsml.models import make_model, model_spec

    out = []
    table = make_table(n_per_galaxy=40)
    y = (table["pGC"] >= 0.5).astype(int).to_numpy()
    for name in ("mlp", "cnn"):
        if name not in model_names():
            continue
        spec = model_spec(name)
        X = make_cutouts(table) if spec.input == "images" else table.loc[:, list(FEATURES)]
        bundle = Bundle(make_model(name, quick=True, random_state=0).fit(X, y), input=spec.input, name=name)
        bundle.save(tmp_path / name)
        out.append((bundle, X))
    return out


def test_round_trip_in_fresh_process_gives_identical_p_gc(tmp_path, tiny_data, tiny_table):
    """scikit-learn (directory and zip), CatBoost in a Pipeline, and torch models."""
    as_dir = train_bundle(tiny_data, TEST_MODEL, setup="virgo2fornax", seed=3, out=tmp_path / "b")
    as_zip = train_bundle(tiny_data, TEST_MODEL, setup="virgo2fornax", seed=3, out=tmp_path / "b.zip")
    X, y = tiny_table.loc[:, list(FEATURES)], (tiny_table["pGC"] >= 0.5).astype(int)
    catboost = Bundle(_catboost_pipeline().fit(X, y), name="catboost-test")
    catboost.save(tmp_path / "cb")
    manifest = json.loads((tmp_path / "cb" / "manifest.json").read_text())
    assert manifest["model"]["kind"] == "pipeline" and manifest["model"]["final"]["kind"] == "catboost"
    assert sorted(manifest["members"]) == ["model.cbm", "preprocessor.skops"]
    jobs = [(as_dir, tiny_table), (as_zip, tiny_table), (catboost, tiny_table), *_torch_bundles(tmp_path)]
    got = _predict_in_fresh_process(tmp_path, [(b.path, X) for b, X in jobs])
    for (bundle, X), p in zip(jobs, got):
        expected = bundle.predict_proba(X)
        assert np.unique(expected).size > 5, bundle.name  # a real, varied prediction
        if bundle.name in ("mlp", "cnn"):
            kinds = {bundle.manifest["model"]["kind"], bundle.manifest["model"].get("final", {}).get("kind")}
            assert "torch" in kinds
        np.testing.assert_array_equal(p, expected, err_msg=bundle.name)


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

    train_bundle(tiny_data, TEST_MODEL, setup="all2all", out=tmp_path / "b.zip")
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
    with pytest.raises(GlobsmlError, match="does not load: posix.getcwd"):
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
    assert set(m["training"]["train"]) == {"Virgo"} and set(m["training"]["validation"]) == {"Virgo"}
    assert set(m["training"]["test"]) == {"Fornax"} and m["training"]["test"]["Fornax"]["n_sources"] == 240
    # 95:5 train/validation inside Virgo; training rows with NaN photometry are dropped.
    # The calibration part (10 % of the training rows) is held out of the fit and kept in the bundle.
    n_virgo = sum(m["training"][part]["Virgo"]["n_sources"] for part in ("train", "calibration", "validation"))
    assert m["calibration"]["n_sources"] == m["training"]["calibration"]["Virgo"]["n_sources"] > 0
    assert 220 < n_virgo < 240
    assert 0.5 < m["validation_metrics"]["pooled"]["roc_auc"] <= 1.0
    assert m["threshold"] == 0.5
    assert m["globsml_version"]
    assert set(m["members"]) == {"model.skops", "calibration.npz"}


def test_same_seed_same_bundle_model(tmp_path, tiny_data, tiny_table):
    a = train_bundle(tiny_data, TEST_MODEL, setup="all2all", seed=5)
    b = train_bundle(tiny_data, TEST_MODEL, setup="all2all", seed=5)
    np.testing.assert_array_equal(a.predict_proba(tiny_table), b.predict_proba(tiny_table))
    assert a.metrics == b.metrics
    c = train_bundle(tiny_data, TEST_MODEL, setup="all2all", seed=6)
    assert not np.array_equal(a.predict_proba(tiny_table), c.predict_proba(tiny_table))


def test_unknown_setup_is_a_clear_error(tiny_data):
    with pytest.raises(GlobsmlError, match="unknown set-up 'sideways'"):
        train_bundle(tiny_data, TEST_MODEL, setup="sideways")


def test_fast_path_bundle(tmp_path, tiny_data, tiny_table):
    """catboost-fast: CatBoost on raw features, stored natively, same p_gc as CatBoost's own."""
    pytest.importorskip("catboost")
    bundle = train_bundle(tiny_data, "catboost-fast", setup="all2all", quick=True, out=tmp_path / "fast")
    assert bundle.manifest["model"] == {
        "kind": "catboost", "class": "globsml.inference._fast.FastCatBoostClassifier", "member": "model.cbm",
    }
    back = load_bundle(tmp_path / "fast")
    p = back.predict_proba(tiny_table)
    np.testing.assert_array_equal(p, bundle.predict_proba(tiny_table))
    # The raw-score path is CatBoost's own probability.
    X = tiny_table.loc[:, list(FEATURES)].to_numpy(dtype=np.float32)
    from catboost import CatBoostClassifier

    np.testing.assert_allclose(p, CatBoostClassifier.predict_proba(back.model, X)[:, 1], rtol=1e-12)


def test_published_network_by_name_needs_its_file(monkeypatch, tmp_path):
    monkeypatch.delenv("GLOBSML_PUBLISHED_MODELS", raising=False)
    with pytest.raises(GlobsmlError, match="GLOBSML_PUBLISHED_MODELS"):
        load_bundle("published-cnn-virgo2fornax")
    with pytest.raises(GlobsmlError, match="no such bundle; or the name of a published network"):
        load_bundle("published-cnn-andromeda")


def test_published_networks_are_the_registry_s_and_name_their_set_up(monkeypatch):
    from globsml.experiments import get_setup
    from globsml.inference import PUBLISHED_BUNDLES, published_bundle
    from globsml.models._published import PublishedCNNClassifier

    assert PUBLISHED_BUNDLES == tuple(model_names(input="images", pretrained=True))
    monkeypatch.setattr(PublishedCNNClassifier, "_model", lambda self: None)  # no network file needed
    for name in PUBLISHED_BUNDLES:
        bundle = published_bundle(name)
        setup = get_setup(bundle.model.network)
        assert bundle.training["setup"] == setup.name
        assert bundle.training["trained_on"] == setup.train_cluster
    assert published_bundle("published-cnn-fornax2virgo").training["trained_on"] == "Fornax"
