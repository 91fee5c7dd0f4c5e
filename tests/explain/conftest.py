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
