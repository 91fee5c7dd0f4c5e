"""count_threshold, galaxy_folds and read_galaxy_counts."""

import numpy as np
import pandas as pd
import pytest

from globsml._errors import DataFormatError, GlobsmlError
from globsml.adapt import COUNT_THRESHOLDS, count_threshold, galaxy_folds
from globsml.data import read_galaxy_counts


def _overconfident(seed=0, n_galaxies=12):
    """Sources whose true GCs are those with score > 0.62: a model that counts above 0.5 counts too many."""
    rng = np.random.default_rng(seed)
    galaxy = np.repeat([f"G{i}" for i in range(n_galaxies)], 300)
    p = rng.uniform(0, 1, len(galaxy))
    truth = pd.Series(p > 0.62).groupby(galaxy).sum().astype(float)
    return p, galaxy, truth


def test_count_threshold_undoes_a_planted_overcount():
    p, galaxy, truth = _overconfident()
    assert (pd.Series(p > 0.5).groupby(galaxy).sum() > truth).all()  # counted at 0.5: too many everywhere
    threshold, error = count_threshold(p, galaxy, truth)
    assert threshold == 0.62 and error == 0.0


def test_count_threshold_ignores_unknown_and_foreign_galaxies():
    p, galaxy, truth = _overconfident()
    noisy = pd.concat([truth.astype(object), pd.Series({"ELSEWHERE": 10.0})])
    noisy["G0"] = np.nan
    assert count_threshold(p, galaxy, noisy) == (0.62, 0.0)


@pytest.mark.parametrize("counts, message", [
    ({"G0": 0}, "number of GCs of galaxy G0: 0"),
    ({"G0": "many"}, "number of GCs of galaxy G0: 'many' is not a number"),
    ({"NOWHERE": 5}, "no galaxy of the sources has a known number of GCs"),
])
def test_count_threshold_refuses_unusable_counts(counts, message):
    p, galaxy, _ = _overconfident()
    with pytest.raises(GlobsmlError, match=message):
        count_threshold(p, galaxy, counts)


def test_count_thresholds_are_proper_thresholds():
    assert all(0 < t < 1 for t in COUNT_THRESHOLDS) and 0.5 in COUNT_THRESHOLDS


def test_galaxy_folds_partition_the_galaxies_reproducibly():
    names = [f"G{i}" for i in range(10)]
    folds = galaxy_folds(reversed(names), 4, seed=3)
    assert sorted(g for fold in folds for g in fold) == names
    assert [len(f) for f in folds] == [3, 3, 2, 2]
    again = galaxy_folds(names, 4, seed=3)
    assert all(list(a) == list(b) for a, b in zip(folds, again))
    assert any(list(a) != list(b) for a, b in zip(folds, galaxy_folds(names, 4, seed=4)))
    with pytest.raises(GlobsmlError, match="5 folds of 4 galaxies"):
        galaxy_folds(names[:4], 5)


def test_read_galaxy_counts(tmp_path):
    good = tmp_path / "counts.csv"
    good.write_text("galaxy,cluster,n_gcs\nVCC1,Virgo,12\nVCC2,Virgo,\n")
    counts = read_galaxy_counts(good)
    assert counts["VCC1"] == 12 and np.isnan(counts["VCC2"])
    published = read_galaxy_counts("published")
    assert published.notna().sum() > 100 and (published.dropna() > 0).all()


@pytest.mark.parametrize("text, message", [
    ("galaxy,count\nA,3\n", "missing column(s) n_gcs"),
    ("galaxy,n_gcs\nA,3\nA,4\n", "galaxy A is named twice"),
    ("galaxy,n_gcs\nA,-3\n", "n_gcs of galaxy A is '-3'"),
    ("galaxy,n_gcs\nA,lots\n", "n_gcs of galaxy A is 'lots'"),
    ("galaxy,n_gcs\n,3\n", "empty galaxy name in row 0"),
])
def test_bad_count_tables_are_named(tmp_path, text, message):
    path = tmp_path / "counts.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=f"{path}: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        read_galaxy_counts(path)


def test_a_missing_count_table_is_named(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_galaxy_counts(tmp_path / "none.csv")
