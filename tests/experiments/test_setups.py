"""The set-ups: sizes, disjointness, determinism, clear errors."""

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.experiments import (
    all2all_split,
    cluster2cluster_split,
    leave_galaxies_out_splits,
    resolve_setups,
    setup_runs,
)


def _disjoint_cover(split, n=None):
    parts = [split.train, split.validation, split.test]
    allrows = np.concatenate(parts)
    assert len(np.unique(allrows)) == len(allrows)
    if n is not None:
        assert set(allrows) == set(range(n))


def test_all2all_sizes_and_determinism():
    s = all2all_split(1000, seed=3)
    assert (len(s.train), len(s.validation), len(s.test)) == (760, 40, 200)
    _disjoint_cover(s, 1000)
    t = all2all_split(1000, seed=3)
    np.testing.assert_array_equal(s.test, t.test)
    assert not np.array_equal(s.test, all2all_split(1000, seed=4).test)
    with pytest.raises(GlobsmlError, match="validation"):
        all2all_split(10, seed=0, validation=0.5, test=0.6)


def test_cluster2cluster():
    cluster = np.array(["Virgo"] * 200 + ["Fornax"] * 100)
    s = cluster2cluster_split(cluster, train_cluster="Virgo", seed=0)
    assert (len(s.train), len(s.validation)) == (190, 10)
    assert set(cluster[s.train]) == set(cluster[s.validation]) == {"Virgo"}
    np.testing.assert_array_equal(s.test, np.arange(200, 300))
    r = cluster2cluster_split(cluster, train_cluster="Fornax", seed=0)
    assert len(r.test) == 200 and len(r.train) == 95
    with pytest.raises(GlobsmlError, match="no Fornax sources"):
        cluster2cluster_split(np.array(["Virgo"] * 5), train_cluster="Virgo")


def test_leave_galaxies_out():
    galaxy = np.repeat(["A", "B", "C", "D", "E", "F", "G"], [50, 40, 30, 30, 20, 20, 10])
    splits = leave_galaxies_out_splits(galaxy, n_folds=3, seed=0)
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested) == list(range(len(galaxy)))  # every source tested exactly once
    for s in splits:
        _disjoint_cover(s, len(galaxy))
        assert not set(galaxy[s.test]) & set(galaxy[np.r_[s.train, s.validation]])
    sizes = [len(s.test) for s in splits]
    assert max(sizes) - min(sizes) <= 20  # balanced by sources
    again = leave_galaxies_out_splits(galaxy, n_folds=3, seed=0)
    for a, b in zip(splits, again):
        np.testing.assert_array_equal(a.train, b.train)
    with pytest.raises(GlobsmlError, match="cannot fill"):
        leave_galaxies_out_splits(galaxy, n_folds=8)


def test_resolve_and_runs(tiny_data):
    assert resolve_setups(["cluster2cluster", "all2all", "virgo2fornax"]) == [
        "virgo2fornax", "fornax2virgo", "all2all"]
    assert resolve_setups(["all"]) == ["all2all", "virgo2fornax", "fornax2virgo", "lgo"]
    with pytest.raises(GlobsmlError, match="unknown set-up 'x2y'"):
        resolve_setups(["x2y"])
    assert [k for k, _ in setup_runs("all2all", tiny_data, seeds=3)] == [0, 1, 2]
    assert len(setup_runs("fornax2virgo", tiny_data)) == 1
    assert len(setup_runs("lgo", tiny_data, n_folds=3)) == 3
