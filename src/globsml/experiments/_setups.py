"""The publication's experimental set-ups as deterministic index splits.

A set-up says which sources a model trains on, which it may use for
validation (early stopping, calibration) and which it is tested on:

- **All2All**: all sources, a random 76:4:20 train/validation/test split,
  one split per seed (the publication repeats it with 10 seeds).
- **Cluster2Cluster** (``virgo2fornax``, ``fornax2virgo``): train on one
  cluster (95:5 train/validation inside it, seeded), test on every source of
  the other cluster.
- **Leave-galaxies-out** (``lgo``, beyond the publication): the galaxies
  are dealt into ``n_folds`` groups (seeded shuffle, sizes balanced by number
  of sources); fold k tests on the galaxies of group k and trains (95:5) on
  the others, so that no galaxy is seen in training and testing.

Every function returns sorted ``int64`` position arrays into the data set's
rows; the same arguments give the same arrays.
"""

from dataclasses import dataclass

import numpy as np

from .._errors import GlobsmlError

__all__ = [
    "Split",
    "SETUPS",
    "SETUP_ALIASES",
    "LGO_FOLDS",
    "all2all_split",
    "cluster2cluster_split",
    "leave_galaxies_out_splits",
    "setup_runs",
    "resolve_setups",
]

#: Registry names of the set-ups, with their printed names.
SETUPS = {
    "all2all": "All2All",
    "virgo2fornax": "Virgo2Fornax",
    "fornax2virgo": "Fornax2Virgo",
    "lgo": "LeaveGalaxiesOut",
}
#: Names that stand for several set-ups.
SETUP_ALIASES = {
    "cluster2cluster": ("virgo2fornax", "fornax2virgo"),
    "all": tuple(SETUPS),
}
#: Number of leave-galaxies-out folds of the benchmark.
LGO_FOLDS = 5


@dataclass(frozen=True)
class Split:
    """Row positions of one run: train, validation, test (disjoint, sorted)."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def __post_init__(self):
        for name in ("train", "validation", "test"):
            object.__setattr__(self, name, np.sort(np.asarray(getattr(self, name), dtype=np.int64)))


def _check_fraction(name, value):
    if not 0.0 <= value < 1.0:
        raise GlobsmlError(f"{name} must be in [0, 1), got {value!r}")


def _split_off(rows, fraction, rng):
    """Shuffle ``rows`` and return (rest, the first round(fraction * n))."""
    rows = rng.permutation(rows)
    k = int(round(fraction * len(rows)))
    return rows[k:], rows[:k]


def all2all_split(n_sources, *, seed, validation=0.04, test=0.20):
    """The All2All split of ``n_sources`` rows: random 76:4:20 by default.

    Parameters
    ----------
    n_sources : int
    seed : int
    validation, test : float
        Shares of the validation and test sets (the rest trains).

    Returns
    -------
    Split
    """
    _check_fraction("validation", validation)
    _check_fraction("test", test)
    if validation + test >= 1.0:
        raise GlobsmlError(f"validation + test must be < 1, got {validation} + {test}")
    if n_sources < 3:
        raise GlobsmlError(f"All2All needs at least 3 sources, got {n_sources}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_sources)
    n_test = int(round(test * n_sources))
    n_val = int(round(validation * n_sources))
    return Split(perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test])


def cluster2cluster_split(cluster, *, train_cluster, seed=0, validation=0.05):
    """Train (95:5 train/validation) on one cluster, test on the other.

    Parameters
    ----------
    cluster : array-like of str
        The cluster (``"Virgo"`` or ``"Fornax"``) of each source.
    train_cluster : {"Virgo", "Fornax"}
    seed : int
        Seeds the validation split.
    validation : float

    Returns
    -------
    Split
    """
    _check_fraction("validation", validation)
    cluster = np.asarray(cluster, dtype=object)
    if train_cluster not in ("Virgo", "Fornax"):
        raise GlobsmlError(f"train_cluster must be 'Virgo' or 'Fornax', got {train_cluster!r}")
    test_cluster = "Fornax" if train_cluster == "Virgo" else "Virgo"
    for name in (train_cluster, test_cluster):
        if not np.any(cluster == name):
            raise GlobsmlError(
                f"Cluster2Cluster: the data hold no {name} sources (clusters present: "
                f"{', '.join(sorted(map(str, set(cluster)))) or 'none'}); choose --setups all2all or lgo"
            )
    rng = np.random.default_rng(seed)
    train, val = _split_off(np.flatnonzero(cluster == train_cluster), validation, rng)
    return Split(train, val, np.flatnonzero(cluster == test_cluster))


def leave_galaxies_out_splits(galaxy, *, n_folds=LGO_FOLDS, seed=0, validation=0.05):
    """Folds over galaxies: each galaxy is tested exactly once, never trained on then.

    Galaxies are shuffled (seeded) and dealt, largest first, to the fold
    with the fewest sources so far, so the folds hold similar numbers of
    sources (like scikit-learn's ``GroupKFold``, but seeded).

    Parameters
    ----------
    galaxy : array-like of str
        The galaxy of each source.
    n_folds : int
    seed : int
    validation : float
        Share of each fold's training sources held out for validation.

    Returns
    -------
    list of Split
        One per fold.
    """
    _check_fraction("validation", validation)
    galaxy = np.asarray(galaxy, dtype=object)
    names, codes, sizes = np.unique(galaxy, return_inverse=True, return_counts=True)
    if n_folds < 2:
        raise GlobsmlError(f"leave-galaxies-out needs at least 2 folds, got {n_folds}")
    if len(names) < n_folds:
        raise GlobsmlError(
            f"leave-galaxies-out: {len(names)} galaxies cannot fill {n_folds} folds"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of = np.empty(len(names), dtype=np.int64)
    load = np.zeros(n_folds, dtype=np.int64)
    for g in order:
        k = int(np.argmin(load))
        fold_of[g] = k
        load[k] += sizes[g]
    source_fold = fold_of[codes]
    splits = []
    for k in range(n_folds):
        fold_rng = np.random.default_rng([seed, k])
        train, val = _split_off(np.flatnonzero(source_fold != k), validation, fold_rng)
        splits.append(Split(train, val, np.flatnonzero(source_fold == k)))
    return splits


def resolve_setups(names):
    """Expand aliases (``cluster2cluster``, ``all``) and check the names; keep order, drop repeats."""
    out = []
    for name in names:
        key = str(name).lower()
        for s in SETUP_ALIASES.get(key, (key,)):
            if s not in SETUPS:
                known = ", ".join([*SETUPS, *SETUP_ALIASES])
                raise GlobsmlError(f"unknown set-up {name!r}; known set-ups: {known}")
            if s not in out:
                out.append(s)
    return out


def setup_runs(setup, data, *, seeds=10, n_folds=LGO_FOLDS):
    """The runs of one set-up on a data set: a list of (run index, Split).

    Parameters
    ----------
    setup : str
        A name of :data:`SETUPS`.
    data : GCDataset
    seeds : int
        All2All: one run per seed 0..seeds-1. Cluster2Cluster: one run
        (seed 0; its test set does not depend on the seed). Leave-galaxies-
        out: one run per fold (the fold index is the run index), galaxies
        dealt with seed 0.
    n_folds : int
        Leave-galaxies-out folds.

    Returns
    -------
    list of (int, Split)
        The run index also seeds the model.
    """
    if setup == "all2all":
        if seeds < 1:
            raise GlobsmlError(f"--seeds must be at least 1, got {seeds}")
        return [(s, all2all_split(len(data), seed=s)) for s in range(seeds)]
    if setup in ("virgo2fornax", "fornax2virgo"):
        train = "Virgo" if setup == "virgo2fornax" else "Fornax"
        return [(0, cluster2cluster_split(data.cluster, train_cluster=train, seed=0))]
    if setup == "lgo":
        splits = leave_galaxies_out_splits(data.sources["galaxy"].to_numpy(), n_folds=n_folds, seed=0)
        return list(enumerate(splits))
    raise GlobsmlError(f"unknown set-up {setup!r}; known set-ups: {', '.join(SETUPS)}")
