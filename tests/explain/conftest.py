"""Synthetic data whose label is decided by one feature, by construction."""

import numpy as np
import pandas as pd
import pytest

from globsml.data import FEATURES, write_cutouts

#: The label is ``colour > COLOUR_CUT``: nothing else carries information.
COLOUR_CUT = 1.1


def make_synthetic(directory, *, n_per_galaxy=80, seed=0):
    """A data directory (table + cut-outs) of 2 Fornax and 2 Virgo galaxies.

    Every feature is noise except ``colour``; a source is a GC exactly when
    its colour exceeds :data:`COLOUR_CUT`. The cut-outs hold a Gaussian
    source whose z-band peak is bright for GCs and faint otherwise, so an
    image model can learn the label from the central z pixels.
    """
    rng = np.random.default_rng(seed)
    rows, cutouts = [], {}
    for galaxy in ("FCC1", "FCC2", "VCC1", "VCC2"):
        n = n_per_galaxy
        feats = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
        feats["colour"] = rng.normal(COLOUR_CUT, 0.3, n)
        gc = feats["colour"].to_numpy() > COLOUR_CUT
        feats.insert(0, "galaxy", galaxy)
        feats.insert(0, "ID", np.arange(n))
        feats["pGC"] = np.where(gc, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.3, n))
        feats.loc[3, "m3_g"] = np.nan  # a source with NaN photometry, as in the real table
        rows.append(feats)
        yy, xx = np.mgrid[:20, :20]
        blob = np.exp(-((yy - 10) ** 2 + (xx - 10) ** 2) / (2 * 1.2**2))
        imgs = rng.normal(0, 0.05, (n, 2, 20, 20)).astype(np.float32)
        imgs[:, 0] += 0.5 * blob
        imgs[:, 1] += np.where(gc, 2.0, 0.4)[:, None, None] * blob
        imgs[0, :, :2, :] = np.nan  # off the detector
        cutouts[galaxy] = imgs
    table = pd.concat(rows, ignore_index=True)
    directory.mkdir(parents=True, exist_ok=True)
    table.to_csv(directory / "ACS_sources_original.csv")
    for galaxy, imgs in cutouts.items():
        write_cutouts(directory / "ImageData" / f"{galaxy}_images.fits", imgs)
    return directory


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """Path of the synthetic data directory (made once per test session)."""
    return make_synthetic(tmp_path_factory.mktemp("synthetic"))


# -- small registry models, so that the name-based paths are tested whatever
#    models the registry holds ----------------------------------------------
class TinyCNN:
    """A small torch CNN on (n, 2, 20, 20) cut-outs, trained for a few epochs."""

    def __init__(self, random_state=0, epochs=30):
        self.random_state = random_state
        self.epochs = epochs

    def fit(self, X, y):
        import torch

        torch.manual_seed(self.random_state)
        torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared machine
        self.module_ = torch.nn.Sequential(
            torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveMaxPool2d(1),
            torch.nn.Flatten(), torch.nn.Linear(4, 1),
        )
        x = torch.as_tensor(np.nan_to_num(np.asarray(X, dtype=np.float32)))
        t = torch.as_tensor(np.asarray(y, dtype=np.float32))
        opt = torch.optim.Adam(self.module_.parameters(), lr=0.05)
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self.module_(x)[:, 0], t)
            loss.backward()
            opt.step()
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        import torch

        with torch.no_grad():
            x = torch.as_tensor(np.nan_to_num(np.asarray(X, dtype=np.float32)))
            p = torch.sigmoid(self.module_(x)[:, 0]).numpy()
        return np.column_stack([1 - p, p])


#: Registry names of the models these tests add (and remove again).
TEST_MODELS = ("explain-test-logistic", "explain-test-forest", "explain-test-cnn")


@pytest.fixture(scope="module", autouse=True)
def _test_models():
    """Register small test models for one test module, then remove them, so that
    other tests that list the registry (benchmark "all" ...) never see them."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from globsml.models import _registry, model_names, register_model
    from globsml.preprocessing import make_preprocessor

    added = [n for n in TEST_MODELS if n not in model_names()]
    if "explain-test-logistic" in added:
        register_model(
            "explain-test-logistic",
            lambda random_state=0: make_pipeline(make_preprocessor(), LogisticRegression(max_iter=500)),
            description="test only", published=False,
        )
    if "explain-test-forest" in added:
        register_model(
            "explain-test-forest",
            lambda random_state=0: make_pipeline(make_preprocessor(),
                                                 RandomForestClassifier(30, random_state=random_state)),
            description="test only", published=False,
        )
    if "explain-test-cnn" in added:
        register_model("explain-test-cnn", lambda random_state=0: TinyCNN(random_state, epochs=12), input="images",
                       description="test only", published=False)
    yield
    for name in added:
        _registry._REGISTRY.pop(name, None)


@pytest.fixture(scope="session")
def tiny_cnn():
    """The TinyCNN class (a trainable image model exposing ``module_``)."""
    return TinyCNN
