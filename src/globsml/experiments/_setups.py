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
from typing import Callable

import numpy as np

from .._errors import GlobsmlError

__all__ = [
    "Split",
    "Setup",
    "SETUPS",
    "SETUP_ALIASES",
    "LGO_FOLDS",
    "all2all_split",
    "cluster2cluster_split",
    "leave_galaxies_out_splits",
    "get_setup",
    "register_setup",
    "setup_names",
    "setup_title",
    "setup_runs",
    "resolve_setups",
]

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


# -- the registry of set-ups --------------------------------------------------

@dataclass(frozen=True)
class Setup:
    """One experimental set-up: its name, what it is, and how it splits a data set.

    Attributes
    ----------
    name : str
        The registry name (``"all2all"``, ...), as ``--setups`` and
        ``--setup`` take it.
    title : str
        The printed name (``"All2All"``), in tables, figures and notes.
    description : str
        One line for ``--help``.
    make_runs : callable
        ``make_runs(setup, data, *, seeds, n_folds)``: the benchmark's runs,
        a list of (run index, :class:`Split`); the run index also seeds the
        model.
    make_split : callable or None
        ``make_split(data, *, seed)``: the one split of a model trained
        with ``seed`` (``globsml train``, explanations). None for a set-up
        that gives several models at once (the folds of leave-galaxies-out).
    train_cluster : str or None
        The cluster a Cluster2Cluster set-up trains on (the published
        networks' training data), None for the others.
    """

    name: str
    title: str
    description: str
    make_runs: Callable
    make_split: Callable = None
    train_cluster: str = None

    @property
    def one_model(self):
        """Whether one seed gives one model (so it can be trained into a bundle)."""
        return self.make_split is not None

    def split(self, data, *, seed=0):
        """The :class:`Split` of the model trained with ``seed`` on ``data``."""
        if self.make_split is None:
            raise GlobsmlError(
                f"set-up {self.name!r} gives several models, not one; choose one of "
                f"{', '.join(setup_names(one_model=True))}"
            )
        return self.make_split(data, seed=int(seed))

    def runs(self, data, *, seeds=10, n_folds=LGO_FOLDS):
        """The benchmark's runs on ``data``: a list of (run index, :class:`Split`)."""
        return self.make_runs(self, data, seeds=seeds, n_folds=n_folds)


def _one_run_per_seed(setup, data, *, seeds, n_folds):
    if seeds < 1:
        raise GlobsmlError(f"--seeds must be at least 1, got {seeds}")
    return [(s, setup.split(data, seed=s)) for s in range(seeds)]


def _one_run(setup, data, *, seeds, n_folds):
    # The test set does not depend on the seed: one run, seed 0.
    return [(0, setup.split(data, seed=0))]


def _one_run_per_fold(setup, data, *, seeds, n_folds):
    # Galaxies are dealt with seed 0; the fold index is the run index.
    return list(enumerate(leave_galaxies_out_splits(data.sources["galaxy"].to_numpy(), n_folds=n_folds, seed=0)))


def _all2all(data, *, seed):
    return all2all_split(len(data), seed=seed)


def _trained_on(cluster):
    def make_split(data, *, seed):
        return cluster2cluster_split(data.cluster, train_cluster=cluster, seed=seed)

    return make_split


_SETUP_REGISTRY = {}
#: Names that stand for several set-ups.
SETUP_ALIASES = {
    "cluster2cluster": ("virgo2fornax", "fornax2virgo"),
    "all": None,  # every registered set-up
}


def register_setup(setup):
    """Add a :class:`Setup` to the registry (its name must be new); return it."""
    if not isinstance(setup, Setup):
        raise TypeError(f"register_setup takes a Setup, got {type(setup).__name__}")
    if setup.name in _SETUP_REGISTRY or setup.name in SETUP_ALIASES:
        raise ValueError(f"set-up {setup.name!r} is registered already")
    _SETUP_REGISTRY[setup.name] = setup
    return setup


for _setup in (
    Setup("all2all", "All2All", "all sources, random 76:4:20 train/validation/test split per seed",
          _one_run_per_seed, _all2all),
    Setup("virgo2fornax", "Virgo2Fornax", "train (95:5) on Virgo, test on Fornax", _one_run,
          _trained_on("Virgo"), train_cluster="Virgo"),
    Setup("fornax2virgo", "Fornax2Virgo", "train (95:5) on Fornax, test on Virgo", _one_run,
          _trained_on("Fornax"), train_cluster="Fornax"),
    Setup("lgo", "LeaveGalaxiesOut", "leave galaxies out: folds of whole galaxies, each tested once",
          _one_run_per_fold),
):
    register_setup(_setup)
del _setup

#: The registered set-ups by name (read-only view of the registry).
SETUPS = _SETUP_REGISTRY


def get_setup(name):
    """The registered :class:`Setup` of ``name`` (case-insensitive); a clear error otherwise."""
    if isinstance(name, Setup):
        return name
    try:
        return _SETUP_REGISTRY[str(name).lower()]
    except KeyError:
        raise GlobsmlError(f"unknown set-up {name!r}; known set-ups: {', '.join(_SETUP_REGISTRY)}") from None


def setup_names(*, one_model=None):
    """Registered set-up names, in registration order; ``one_model=True``: those a bundle can be trained under."""
    return [s.name for s in _SETUP_REGISTRY.values() if one_model is None or s.one_model == one_model]


def setup_title(name):
    """The printed name of a set-up (the name itself when it is not registered)."""
    setup = _SETUP_REGISTRY.get(str(name))
    return setup.title if setup is not None else str(name)


def resolve_setups(names):
    """Expand aliases (``cluster2cluster``, ``all``) and check the names; keep order, drop repeats."""
    out = []
    for name in names:
        key = str(name).lower()
        expanded = SETUP_ALIASES.get(key, (key,)) or tuple(_SETUP_REGISTRY)
        for s in expanded:
            if s not in _SETUP_REGISTRY:
                known = ", ".join([*_SETUP_REGISTRY, *SETUP_ALIASES])
                raise GlobsmlError(f"unknown set-up {name!r}; known set-ups: {known}")
            if s not in out:
                out.append(s)
    return out


def setup_runs(setup, data, *, seeds=10, n_folds=LGO_FOLDS):
    """The runs of one set-up on a data set: a list of (run index, Split).

    Parameters
    ----------
    setup : str or Setup
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
    return get_setup(setup).runs(data, seeds=seeds, n_folds=n_folds)
