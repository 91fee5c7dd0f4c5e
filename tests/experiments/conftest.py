"""A tiny made-up labelled data set (table only) for the experiment tests."""

import numpy as np
import pandas as pd
import pytest

from globsml.data import FEATURES, GCDataset


def synthetic_dataset(n_per_galaxy=60, seed=0):
    """Six galaxies (3 Virgo, 3 Fornax) of GC-like and contaminant sources, some NaN."""
    rng = np.random.default_rng(seed)
    galaxies = ["VCC1", "VCC2", "VCC3", "FCC1", "FCC2", "FCC3"]
    frames = []
    for g in galaxies:
        n = n_per_galaxy
        pgc = np.where(rng.random(n) < 0.3, rng.uniform(0.5, 1, n), rng.uniform(0, 0.5, n))
        y = pgc >= 0.5
        X = rng.normal(size=(n, len(FEATURES)))
        X[:, :8] += np.where(y, 1.2, -0.4)[:, None]  # informative, not separable
        frame = pd.DataFrame(X, columns=list(FEATURES))
        frame["area"] = np.exp(frame["area"])
        frame.insert(0, "galaxy", g)
        frame.insert(0, "ID", np.arange(n))
        frame["pGC"] = pgc
        frames.append(frame)
    sources = pd.concat(frames, ignore_index=True)
    sources.loc[rng.choice(len(sources), 5, replace=False), "m3_g"] = np.nan
    return GCDataset(sources, name="synthetic")


@pytest.fixture(scope="session")
def tiny_data():
    return synthetic_dataset()
