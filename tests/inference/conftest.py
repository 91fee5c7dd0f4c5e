"""Tiny labelled data sets made on the fly, and a fast test model in the registry."""

import contextlib

import numpy as np
import pandas as pd
import pytest

from globsml.data import FEATURES, IMAGE_DIRNAME, TABLE_FILENAME, write_cutouts
from globsml.models import model_names, register_model

#: A registry name used only by these tests: fast, deterministic, plain scikit-learn.
TEST_MODEL = "test-inference-forest"


def _test_forest(random_state=0, n_estimators=10, **params):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        SimpleImputer(),
        RandomForestClassifier(n_estimators=n_estimators, max_depth=6, random_state=random_state, **params),
    )


@contextlib.contextmanager
def _test_registry():
    """The test model registered for the duration; it and the fast path that
    train_bundle registers are removed afterwards, so that tests listing the
    registry (benchmark "all" ...) never see them."""
    from globsml.models import _registry

    before = set(model_names())
    if TEST_MODEL not in before:
        register_model(TEST_MODEL, _test_forest, description="tests only", published=False,
                       quick={"n_estimators": 5})
    try:
        yield
    finally:
        for name in set(model_names()) - before:
            _registry._REGISTRY.pop(name, None)


@pytest.fixture(scope="module", autouse=True)
def _registered_test_model():
    with _test_registry():
        yield


def make_table(n_per_galaxy=120, galaxies=("FCC1", "FCC2", "VCC1", "VCC2"), seed=0):
    """A labelled published-format table whose features carry some signal."""
    rng = np.random.default_rng(seed)
    rows = []
    for galaxy in galaxies:
        n = n_per_galaxy
        gc = rng.random(n) < 0.3
        frame = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
        frame["colour"] = np.where(gc, rng.normal(1.1, 0.15, n), rng.normal(1.6, 0.6, n))
        frame["CI_g"] += gc * 1.0
        frame.loc[rng.random(n) < 0.03, "m3_g"] = np.nan
        frame.insert(0, "ID", np.arange(n))
        frame.insert(1, "galaxy", galaxy)
        frame["xcentroid"] = rng.uniform(0, 4000, n)
        frame["ycentroid"] = rng.uniform(0, 4000, n)
        frame["sky_centroid.ra"] = rng.uniform(55, 56, n)
        frame["sky_centroid.dec"] = rng.uniform(-36, -35, n)
        frame["pGC"] = np.where(gc, rng.uniform(0.5, 1, n), rng.uniform(0, 0.5, n))
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def make_cutouts(table, seed=0):
    """(n, 2, 20, 20) cut-outs: a Gaussian blob whose width follows the label."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:20, :20] - 9.5
    sigma = np.where(table["pGC"].to_numpy() >= 0.5, 1.2, 2.5)[:, None, None]
    blob = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    out = np.stack([blob, 0.8 * blob], axis=1) + rng.normal(0, 0.02, (len(table), 2, 20, 20))
    return out.astype(np.float32)


@pytest.fixture(scope="session")
def tiny_table():
    return make_table()


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, tiny_table):
    """A data directory: table + ImageData/ cut-outs."""
    root = tmp_path_factory.mktemp("tiny_data")
    tiny_table.to_csv(root / TABLE_FILENAME)
    cut = make_cutouts(tiny_table)
    for galaxy in tiny_table["galaxy"].unique():
        rows = (tiny_table["galaxy"] == galaxy).to_numpy()
        write_cutouts(root / IMAGE_DIRNAME / f"{galaxy}_images.fits", cut[rows])
    return root


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, tiny_data):
    """A saved bundle of the test model, trained Virgo -> Fornax."""
    from globsml.inference import train_bundle

    path = tmp_path_factory.mktemp("bundles") / "forest.bundle"
    with _test_registry():
        train_bundle(tiny_data, TEST_MODEL, setup="virgo2fornax", seed=0, out=path)
    return path
