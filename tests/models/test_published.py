"""The published trained networks: safe loading, named pretrained models, the port check."""

import io

import numpy as np
import pytest
import torch

from globsml import GlobsmlError
from globsml.models import (
    GCCNNClassifier,
    PublishedCNNClassifier,
    load_published_cnn,
    load_published_mlp,
    make_model,
    model_spec,
    published_model_path,
    published_port_check,
    read_published_checkpoint,
)
from globsml.models._published import ENV_VAR

#: Per-galaxy agreement expected from MC-dropout noise alone: sources with
#: p close to 0.5 flip between runs, a few per galaxy (more in rich ones).
def _tolerance(published):
    return max(4, int(np.ceil(0.03 * published)))


@pytest.fixture
def models_dir(shared_data):
    return shared_data / "published_models"


def test_registered_as_pretrained_image_models():
    for name in ("published-cnn-virgo2fornax", "published-cnn-fornax2virgo"):
        spec = model_spec(name)
        assert spec.input == "images" and spec.published


def test_missing_file_tells_how_to_fetch(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(GlobsmlError, match=r"globsml fetch DIR --models.*GLOBSML_PUBLISHED_MODELS"):
        make_model("published-cnn-virgo2fornax")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(GlobsmlError, match=r"no published network Virgo2Fornax--CNN"):
        make_model("published-cnn-virgo2fornax")
    with pytest.raises(GlobsmlError, match="unknown published network"):
        published_model_path("published-cnn-coma2virgo")


def test_refuses_unsafe_pickles(tmp_path):
    """weights_only=True: a pickle that calls a function is refused, not run."""

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "Virgo2Fornax--CNN"
    buf = io.BytesIO()
    torch.save({"model_state_dict": {}, "x": Evil()}, buf)
    path.write_bytes(buf.getvalue())
    with pytest.raises(GlobsmlError, match="not a loadable published network"):
        read_published_checkpoint(path)
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(GlobsmlError, match="empty"):
        read_published_checkpoint(tmp_path / "empty")


def test_reads_published_cnn_checkpoints(models_dir):
    ckpt = read_published_checkpoint(models_dir / "Virgo2Fornax--CNN")
    assert ckpt["epoch"] == 91  # 0-based 90 in the file
    assert ckpt["val_tpr"] == pytest.approx(0.93375, abs=1e-4)
    assert ckpt["val_fdr"] == pytest.approx(0.05882, abs=1e-4)
    assert all(t.device.type == "cpu" for t in ckpt["state_dict"].values())
    est = load_published_cnn(models_dir / "Fornax2Virgo--CNN", mc_passes=1)
    assert isinstance(est, GCCNNClassifier) and est.best_epoch_ == 92
    out = est.predict_proba(np.zeros((3, 2, 20, 20), np.float32))
    assert out.shape == (3, 2) and np.isfinite(out).all()


def test_published_mlp_loads_with_rescaling_warning(models_dir):
    with pytest.warns(UserWarning, match="rescaled with statistics of the published training table"):
        est = load_published_mlp(models_dir / "NeuralNet--best--Virgo2Fornax")
    assert est.preprocessor is None and est.best_epoch_ == 54
    assert est.predict_proba(np.zeros((2, 29))).shape == (2, 2)
    with pytest.raises(GlobsmlError, match="not a published CNN"):
        load_published_cnn(models_dir / "NeuralNet--best--Virgo2Fornax")


def test_named_pretrained_model(models_dir, monkeypatch, shared_data):
    monkeypatch.setenv(ENV_VAR, str(models_dir))
    est = make_model("published-cnn-virgo2fornax", mc_passes=20)
    assert isinstance(est, PublishedCNNClassifier) and est.pretrained
    with pytest.raises(GlobsmlError, match="already trained"):
        est.fit(np.zeros((2, 2, 20, 20), np.float32), [0, 1])
    from globsml.data import read_cutouts

    cutouts = read_cutouts(shared_data / "ImageData" / "FCC100_images.fits", memmap=False)[:200]
    proba = est.predict_proba(cutouts)
    assert np.array_equal(proba, est.predict_proba(cutouts))
    # the state is self-contained (weights inside) and loads with weights_only=True
    buf = io.BytesIO()
    torch.save(est._export_state(), buf)
    buf.seek(0)
    monkeypatch.delenv(ENV_VAR)
    back = PublishedCNNClassifier._from_state(torch.load(buf, weights_only=True))
    assert np.array_equal(back.predict_proba(cutouts), proba)
    # path= works without the environment variable
    direct = PublishedCNNClassifier("virgo2fornax", path=models_dir, mc_passes=20)
    assert np.array_equal(direct.predict_proba(cutouts), proba)


@pytest.mark.slow
@pytest.mark.shared
def test_port_check_reproduces_published_fornax_counts(shared_data):
    """The published Virgo-trained CNN on the real Fornax cut-outs, 200 MC passes."""
    result = published_port_check(shared_data, mc_passes=200, random_state=0)
    assert len(result) == 36
    assert (result["n_sources"] > 0).all()
    tolerance = result["published"].map(_tolerance)
    bad = result[result["difference"].abs() > tolerance]
    assert bad.empty, f"galaxies off by more than MC-dropout noise:\n{bad.to_string()}"
    # and no systematic offset: the total agrees within 1 %
    assert abs(result["ours"].sum() - result["published"].sum()) <= 0.01 * result["published"].sum()
