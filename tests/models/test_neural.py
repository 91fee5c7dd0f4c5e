"""The PyTorch models: MLP, TabNet, CNN, CNN+kNN (tiny made-up data, few epochs)."""

import io

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.models import (
    CNNKNNClassifier,
    GCCNNClassifier,
    GCMLPClassifier,
    GCTabNetClassifier,
    make_model,
    model_spec,
    reusing_fits,
)
from globsml.models import _cnn, _torch


@pytest.fixture(scope="module")
def table():
    """Separable made-up features: GCs shifted in a few columns, a NaN or two."""
    rng = np.random.default_rng(1)
    n = 400
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, len(FEATURES)))
    X[:, :5] += 1.5 * y[:, None]
    X = pd.DataFrame(X, columns=list(FEATURES))
    X.iloc[3, 7] = np.nan
    return X, y


@pytest.fixture(scope="module")
def images():
    """Made-up cut-outs: GCs have a bright central blob; some NaN pixels."""
    rng = np.random.default_rng(2)
    n = 160
    y = np.tile([0, 1], n // 2)
    X = rng.normal(0, 0.3, size=(n, 2, 20, 20)).astype(np.float32)
    X[y == 1, :, 8:12, 8:12] += 2.0
    X[y == 0, :, 3:7, 12:16] += 2.0  # non-GCs: an off-centre blob, so flips still separate
    X[0, :, :, :3] = np.nan
    return X, y


def _roundtrip(est):
    buf = io.BytesIO()
    torch.save(est._export_state(), buf)
    buf.seek(0)
    return type(est)._from_state(torch.load(buf, weights_only=True))


def _plain_only(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_only(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, torch.Tensor))


# -- shared machinery -------------------------------------------------------

def test_validation_rates_are_those_of_evaluation():
    assert _torch.validation_rates([1, 1, 0, 0], [0.9, 0.2, 0.7, 0.1]) == (0.5, 0.5)
    # No GC to find: TPR is undefined (NaN), as everywhere in globsml.evaluation.
    tpr, fdr = _torch.validation_rates([0, 0], [0.1, 0.7])
    assert np.isnan(tpr) and fdr == 1.0
    # p == 0.5 is not a GC (the published threshold is p > 0.5)
    assert _torch.validation_rates([1], [0.5]) == (0.0, 0.0)


def test_validation_split_is_stratified_and_seeded():
    y = np.array([0] * 90 + [1] * 10)
    tr, va = _torch.validation_split(y, 0.2, 3)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    assert y[va].sum() == 2 and len(va) == 20
    assert np.array_equal(va, _torch.validation_split(y, 0.2, 3)[1])
    assert len(_torch.validation_split(y, 0, 3)[1]) == 0


def test_registry_names_and_quick_profiles():
    for name, kind in [("mlp", "features"), ("tabnet", "features"), ("cnn", "images"),
                       ("cnn+1nn", "images"), ("cnn+12nn", "images")]:
        spec = model_spec(name)
        assert spec.input == kind and spec.quick and spec.published
    assert make_model("cnn", quick=True).epochs < GCCNNClassifier().epochs
    assert make_model("cnn+12nn").n_neighbors == 12
    assert make_model("mlp", random_state=5).random_state == 5


# -- MLP -------------------------------------------------------------------

def test_mlp_published_defaults():
    est = GCMLPClassifier()
    assert (est.hidden_layer_sizes, est.dropout, est.lr, est.weight_decay, est.batch_size, est.epochs) == (
        (100, 100), 0.05, 1e-3, 1e-5, 500, 60)
    shapes = [tuple(p.shape) for p in _mlp_net().parameters()]
    assert shapes == [(100, 29), (100,), (100, 100), (100,), (1, 100), (1,)]


def _mlp_net():
    from globsml.models import MLPNet

    return MLPNet()


def test_mlp_learns_is_deterministic_and_round_trips(table):
    X, y = table
    est = GCMLPClassifier(epochs=8, batch_size=50, random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)
    assert (est.predict(X) == y).mean() > 0.85
    assert 1 <= est.best_epoch_ <= 8 and len(est.history_) == 8
    scores = [h["val_score"] for h in est.history_]
    assert scores[est.best_epoch_ - 1] == max(scores)
    again = GCMLPClassifier(epochs=8, batch_size=50, random_state=0).fit(X, y)
    assert np.array_equal(again.predict_proba(X), proba)
    other = GCMLPClassifier(epochs=8, batch_size=50, random_state=1).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), proba)
    state = est._export_state()
    assert _plain_only(state)
    assert np.array_equal(_roundtrip(est).predict_proba(X), proba)


def test_mlp_eval_set_and_numpy_input(table):
    X, y = table
    est = GCMLPClassifier(epochs=3).fit(X.iloc[:300].to_numpy(), y[:300], eval_set=(X.iloc[300:], y[300:]))
    assert len(est.history_) == 3 and "val_score" in est.history_[0]
    assert est.predict_proba(X.to_numpy()).shape == (len(X), 2)


def test_mlp_without_preprocessor_refuses_nan(table):
    X, y = table
    with pytest.raises(GlobsmlError, match="non-finite value in feature"):
        GCMLPClassifier(epochs=1, preprocessor=None).fit(X, y)


def test_mlp_bad_input(table):
    X, y = table
    with pytest.raises(GlobsmlError, match="missing feature column"):
        GCMLPClassifier(epochs=1).fit(X.drop(columns="colour"), y)
    with pytest.raises(GlobsmlError, match="single class"):
        GCMLPClassifier(epochs=1).fit(X, np.zeros(len(X)))
    with pytest.raises(GlobsmlError, match="labels must be 0/1"):
        GCMLPClassifier(epochs=1).fit(X, np.full(len(X), 2))


# -- TabNet ------------------------------------------------------------------

def test_tabnet_published_shape_and_round_trip(table):
    X, y = table
    est = make_model("tabnet", quick=True).fit(X, y)
    assert (est.tabnet_.n_steps, est.tabnet_.n_d, est.tabnet_.n_a) == (5, 10, 10)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)
    assert 1 <= est.best_epoch_ <= 3
    state = est._export_state()
    assert _plain_only(state)
    assert np.array_equal(_roundtrip(est).predict_proba(X), proba)
    again = make_model("tabnet", quick=True).fit(X, y)
    assert np.array_equal(again.predict_proba(X), proba)


# -- CNN -------------------------------------------------------------------

def test_cnn_matches_published_layer_shapes():
    shapes = {k: tuple(v.shape) for k, v in _cnn.CNNNet().state_dict().items()}
    assert shapes == {
        "conv1.weight": (80, 2, 4, 4), "conv1.bias": (80,),
        "conv2.weight": (40, 80, 4, 4), "conv2.bias": (40,),
        "conv3.weight": (20, 40, 2, 2), "conv3.bias": (20,),
        "fc1.weight": (50, 180), "fc1.bias": (50,), "fc2.weight": (1, 50), "fc2.bias": (1,),
    }
    assert _cnn.CNNNet().features(torch.zeros(3, 2, 20, 20)).shape == (3, 180)


def test_flip_augment_flips_whole_frames():
    x = torch.arange(64 * 2 * 20 * 20, dtype=torch.float32).reshape(64, 2, 20, 20)
    out = _cnn.flip_augment(x, torch.Generator().manual_seed(0))
    seen = set()
    for a, b in zip(x, out):
        variants = (a, a.flip(-1), a.flip(-2), a.flip(-1).flip(-2))
        kind = [k for k, v in enumerate(variants) if torch.equal(b, v)]
        assert len(kind) == 1  # both bands flipped the same way
        seen.add(kind[0])
    # Every flip occurs (an identity "augmentation" fails here), and the same generator seed repeats them.
    assert seen == {0, 1, 2, 3}
    assert torch.equal(out, _cnn.flip_augment(x, torch.Generator().manual_seed(0)))


@pytest.fixture(scope="module")
def fitted_cnn(images):
    X, y = images
    return GCCNNClassifier(epochs=4, batch_size=32, mc_passes=10, random_state=0).fit(X, y)


def test_cnn_learns_and_nan_is_handled(fitted_cnn, images):
    X, y = images
    proba = fitted_cnn.predict_proba(X)
    assert np.isfinite(proba).all() and proba.shape == (len(X), 2)
    assert (fitted_cnn.predict(X) == y).mean() > 0.8
    scores = [h["val_score"] for h in fitted_cnn.history_]
    assert scores[fitted_cnn.best_epoch_ - 1] == max(scores)


def test_cnn_mc_dropout_is_seeded_and_differs_from_single_pass(fitted_cnn, images):
    X, _ = images
    a = fitted_cnn.predict_proba(X)
    assert np.array_equal(a, fitted_cnn.predict_proba(X))
    single = clone(fitted_cnn).set_params(mc_passes=1)
    single.network_, single.classes_ = fitted_cnn.network_, fitted_cnn.classes_
    d = single.predict_proba(X)
    assert np.array_equal(d, single.set_params(mc_passes=0).predict_proba(X))
    assert not np.array_equal(a, d)
    assert np.abs(a - d).max() < 0.3  # dropout 0.05: MC mean stays near the deterministic pass


def test_cnn_training_is_deterministic_and_round_trips(fitted_cnn, images):
    X, y = images
    again = GCCNNClassifier(epochs=4, batch_size=32, mc_passes=10, random_state=0).fit(X, y)
    assert np.array_equal(again.predict_proba(X), fitted_cnn.predict_proba(X))
    state = fitted_cnn._export_state()
    assert _plain_only(state)
    assert np.array_equal(_roundtrip(fitted_cnn).predict_proba(X), fitted_cnn.predict_proba(X))


def test_cnn_bad_input(images):
    X, y = images
    with pytest.raises(GlobsmlError, match=r"expected cut-outs of shape \(n, 2, 20, 20\)"):
        GCCNNClassifier(epochs=1).fit(X[:, :1], y)
    with pytest.raises(GlobsmlError, match="floating-point"):
        GCCNNClassifier(epochs=1).fit(np.zeros((2, 2, 20, 20), np.int32), y[:2])


# -- CNN + kNN -----------------------------------------------------------------

def test_cnn_knn_probabilities_and_round_trip(images):
    X, y = images
    params = {"epochs": 2, "batch_size": 32}
    one = CNNKNNClassifier(n_neighbors=1, cnn_params=params).fit(X, y)
    p1 = one.predict_proba(X)[:, 1]
    assert set(np.unique(p1)) <= {0.0, 1.0}
    assert np.array_equal(one.predict(X), y)  # each training cut-out is its own nearest neighbour
    twelve = CNNKNNClassifier(n_neighbors=12, cnn_params=params).fit(X, y)
    p12 = twelve.predict_proba(X)[:, 1]
    assert np.allclose(p12 * 12, np.round(p12 * 12))
    # the same CNN underneath (same parameters and seed)
    assert np.array_equal(one.cnn_.embed(X), twelve.cnn_.embed(X))
    assert one.cnn_.embed(X).shape == (len(X), 50)
    state = twelve._export_state()
    assert _plain_only(state)
    assert np.array_equal(_roundtrip(twelve).predict_proba(X), twelve.predict_proba(X))
    with pytest.raises(GlobsmlError, match="n_neighbors"):
        CNNKNNClassifier(n_neighbors=0, cnn_params=params).fit(X, y)


# -- on the mock survey, as `globsml benchmark` runs them ------------------------

@pytest.mark.slow
def test_quick_models_on_the_mock_survey(small_mock):
    from globsml import load_dataset

    ds = load_dataset(small_mock)
    y = ds.y
    train = np.flatnonzero(ds.cluster == "Virgo")
    test = np.flatnonzero(ds.cluster == "Fornax")
    images = ds.images()
    for name in ("cnn+12nn",):  # trains the quick CNN inside
        est = make_model(name, quick=True).fit(images[train], y[train])
        p = est.predict_proba(images[test])[:, 1]
        assert p.shape == (len(test),) and np.isfinite(p).all()
    features = ds.features()
    for name in ("mlp",):
        est = make_model(name, quick=True).fit(features.iloc[train], y[train])
        p = est.predict_proba(features.iloc[test])[:, 1]
        assert p.shape == (len(test),) and np.isfinite(p).all()


def test_cnn_training_resumes_from_its_checkpoint(images, tmp_path, monkeypatch):
    X, y = images
    X, y = X[:64], y[:64]
    params = {"epochs": 3, "batch_size": 16, "mc_passes": 1}
    full = GCCNNClassifier(**params).fit(X, y)
    ckpt = tmp_path / "cnn.ckpt"
    calls = {"n": 0}
    real = _cnn.flip_augment

    def interrupted(x, gen):
        calls["n"] += 1
        if calls["n"] > 7:  # 4 training batches per epoch: dies in epoch 2
            raise KeyboardInterrupt
        return real(x, gen)

    monkeypatch.setattr(_cnn, "flip_augment", interrupted)
    with pytest.raises(KeyboardInterrupt):
        GCCNNClassifier(**params, checkpoint_path=ckpt).fit(X, y)
    assert len(torch.load(ckpt, weights_only=True)["history"]) == 1
    monkeypatch.setattr(_cnn, "flip_augment", real)
    resumed = GCCNNClassifier(**params, checkpoint_path=ckpt).fit(X, y)
    assert resumed.history_ == full.history_
    assert np.array_equal(resumed.predict_proba(X), full.predict_proba(X))
    with pytest.raises(GlobsmlError, match="another training run"):
        GCCNNClassifier(**{**params, "lr": 0.01}, checkpoint_path=ckpt).fit(X, y)


def test_cnn_and_cnn_knn_share_one_training_inside_reusing_fits(images, monkeypatch):
    X, y = images
    X, y = X[:64], y[:64]
    calls = {"n": 0}
    real = _torch.train_binary

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(_torch, "train_binary", counting)
    params = {"epochs": 2, "batch_size": 16, "mc_passes": 1}
    cnn = GCCNNClassifier(**params).fit(X, y)
    GCCNNClassifier(**params).fit(X, y)
    assert calls["n"] == 2  # outside the block nothing is kept
    with reusing_fits():
        first = GCCNNClassifier(**params).fit(X, y)
        knn = CNNKNNClassifier(cnn_params=params).fit(X, y)
        other = GCCNNClassifier(**{**params, "lr": 0.01}).fit(X, y)
    assert calls["n"] == 4  # the CNN of cnn+1nn came from the first; other parameters train anew
    assert np.array_equal(first.predict_proba(X), cnn.predict_proba(X))
    assert np.array_equal(knn.cnn_.predict_proba(X), cnn.predict_proba(X))
    assert first.history_ == cnn.history_ and other.history_ != cnn.history_


def test_validation_without_gcs_keeps_the_last_epoch():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=gen)
    y = (x[:, 0] > 0).float()
    module = torch.nn.Linear(3, 1)
    best, history = _torch.train_binary(module, x, y, x_val=x[:10], y_val=torch.zeros(10), epochs=3,
                                        batch_size=8, lr=0.01, weight_decay=0.0, gen=gen)
    assert best == 3 and all(np.isnan(h["val_score"]) for h in history)
    # With GCs in the validation rows the score is TPR - FDR and picks an epoch.
    best, history = _torch.train_binary(module, x, y, x_val=x, y_val=y, epochs=3, batch_size=8, lr=0.01,
                                        weight_decay=0.0, gen=gen)
    scores = [h["val_score"] for h in history]
    assert best == 1 + int(np.argmax(scores)) and np.isfinite(scores).all()


def test_cnn_same_numbers_for_any_thread_count_and_device_choice(fitted_cnn, images):
    """The CPU forward and training chunks do not depend on the threads; device='cpu' is the default here."""
    X, y = images
    # batches of 144 rows: two chunks (128 + 16)
    one = GCCNNClassifier(epochs=2, batch_size=200, mc_passes=10, random_state=0, n_threads=1).fit(X, y)
    two = GCCNNClassifier(epochs=2, batch_size=200, mc_passes=10, random_state=0, n_threads=2).fit(X, y)
    for a, b in zip(one.network_.parameters(), two.network_.parameters()):
        assert torch.equal(a, b)
    assert np.array_equal(one.predict_proba(X), two.predict_proba(X))
    if not torch.cuda.is_available():
        cpu = clone(fitted_cnn).set_params(device="cpu")
        cpu.network_, cpu.classes_ = fitted_cnn.network_, fitted_cnn.classes_
        assert np.array_equal(cpu.predict_proba(X), fitted_cnn.predict_proba(X))


def test_ieee_float32_switches_tf32_off_on_a_gpu_only_and_restores_it():
    flags = lambda: (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)  # noqa: E731
    before = flags()
    with _torch.ieee_float32("cpu"):
        assert flags() == before  # nothing changes on the CPU
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        # a cuda device object needs no GPU: the block only sets the flags
        with _torch.ieee_float32(torch.device("cuda")):
            assert flags() == (False, False)
        assert flags() == (True, True)
        with pytest.raises(RuntimeError, match="inside"):
            with _torch.ieee_float32(torch.device("cuda")):
                raise RuntimeError("inside")
        assert flags() == (True, True)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_torch_device_choice_and_errors():
    assert _torch.torch_device("cpu") == torch.device("cpu")
    assert _torch.torch_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(GlobsmlError, match="device must be"):
        _torch.torch_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(GlobsmlError, match="sees no GPU"):
            _torch.torch_device("cuda")
