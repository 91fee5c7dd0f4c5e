"""Numbers of GCs per galaxy, with their uncertainty."""

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._checks import check_threshold
from .._errors import GlobsmlError
from ..data import GC_THRESHOLD
from ._prior import _check_proba

__all__ = ["COUNT_THRESHOLDS", "count_errors", "count_threshold", "galaxy_count_errors", "galaxy_counts",
           "galaxy_folds"]


def galaxy_counts(p_gc, galaxy, *, threshold=GC_THRESHOLD, level=0.9):
    """Predicted numbers of GCs per galaxy, with an interval.

    Parameters
    ----------
    p_gc : array_like
        Probability of each source being a GC.
    galaxy : array_like
        The galaxy of each source.
    threshold : float
        A source is a candidate when ``p_gc > threshold``.
    level : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by galaxy: ``n_sources``; ``n_candidates`` (sources above
        the threshold: the published way of counting); ``expected`` (the sum
        of the probabilities: the expected number of GCs if they are
        calibrated); ``low`` and ``high``, the ``level`` interval of that
        number from the sources' own uncertainty (the variance of a sum of
        independent Bernoulli variables, ``sum p (1 - p)``, normal
        approximation, floored at 0). The interval covers the randomness of
        which uncertain sources are GCs, not a bias of the model: a model
        moved to a new target by :func:`prior_shift_em` has the least of it.

    Examples
    --------
    >>> int(galaxy_counts([0.9, 0.8, 0.1, 0.5], ["A", "A", "A", "B"]).loc["A", "n_candidates"])
    2
    """
    p = _check_proba(p_gc)
    galaxy = np.asarray(galaxy)
    if galaxy.shape != p.shape:
        raise GlobsmlError(f"galaxy_counts: {len(galaxy)} galaxy names for {len(p)} sources")
    threshold = check_threshold(threshold, "galaxy_counts: threshold")
    if not 0 < level < 1:
        raise GlobsmlError(f"galaxy_counts: level must be in (0, 1), got {level}")
    frame = pd.DataFrame({"galaxy": galaxy, "p": p, "var": p * (1 - p), "cand": p > threshold})
    grouped = frame.groupby("galaxy", sort=True)
    out = pd.DataFrame({
        "n_sources": grouped.size(),
        "n_candidates": grouped["cand"].sum().astype(int),
        "expected": grouped["p"].sum(),
    })
    half = norm.ppf(0.5 + level / 2) * np.sqrt(grouped["var"].sum())
    out["low"] = np.maximum(out["expected"] - half, 0.0)
    out["high"] = out["expected"] + half
    out.index.name = "galaxy"
    return out


#: The thresholds :func:`count_threshold` tries.
COUNT_THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.30, 0.71, 0.02), 2))


def _known_counts(counts):
    """Known numbers of GCs as a float Series indexed by galaxy (NaN dropped), checked."""
    counts = pd.Series(counts, dtype=object) if isinstance(counts, dict) else pd.Series(counts)
    values = pd.to_numeric(counts, errors="coerce").astype(float)
    bad = values.isna() & counts.notna()
    if bad.any():
        raise GlobsmlError(f"number of GCs of galaxy {bad.index[bad][0]}: {counts[bad].iloc[0]!r} is not a number")
    values = values.dropna()
    if (values <= 0).any() or not np.isfinite(values).all():
        galaxy = values.index[(values <= 0) | ~np.isfinite(values)][0]
        raise GlobsmlError(f"number of GCs of galaxy {galaxy}: {values[galaxy]:g}; a relative count error "
                           "needs a positive, finite number")
    values.index = values.index.astype(str)
    return values


def count_threshold(p_gc, galaxy, counts, *, thresholds=COUNT_THRESHOLDS):
    """The threshold whose per-galaxy numbers of candidates best match known numbers of GCs.

    A model trained on one set of images may rank sources well on another
    and still count too many or too few above 0.5. Where the numbers of GCs
    of some galaxies are known (a published catalogue's), the threshold that
    reproduces them best can be carried to galaxies whose numbers are not
    known. Fit it on predictions of galaxies the model was not trained on
    (:func:`galaxy_folds`), or it only learns the model's fit to them.

    Parameters
    ----------
    p_gc : array_like
        Probability of each source being a GC.
    galaxy : array_like
        The galaxy of each source.
    counts : pandas.Series or dict
        Known number of GCs per galaxy (NaN: unknown); galaxies without
        sources are ignored.
    thresholds : sequence of float
        The candidates, each in [0, 1].

    Returns
    -------
    threshold : float
        The one with the smallest median absolute relative count error
        (the lowest of equals).
    error : float
        That median.

    Examples
    --------
    >>> p = [0.9, 0.6, 0.4, 0.2, 0.8, 0.45]
    >>> count_threshold(p, ["A", "A", "A", "A", "B", "B"], {"A": 3, "B": 2})
    (0.3, 0.0)
    """
    errors = count_errors(p_gc, galaxy, counts, thresholds=thresholds)
    best = int(np.argmin(errors))
    return float(thresholds[best]), float(errors[best])


def count_errors(p_gc, galaxy, counts, *, thresholds=COUNT_THRESHOLDS):
    """Median absolute relative count error at each threshold.

    Parameters are those of :func:`count_threshold`.

    Returns
    -------
    numpy.ndarray
        One median per threshold, over the galaxies of the sources with a
        known number of GCs: ``median(|n_candidates - n| / n)``.

    Examples
    --------
    >>> count_errors([0.9, 0.6, 0.4, 0.2], ["A"] * 4, {"A": 2}, thresholds=(0.3, 0.5, 0.7)).tolist()
    [0.5, 0.0, 0.5]
    """
    return np.median(_relative_errors(p_gc, galaxy, counts, thresholds, "count_errors")[1], axis=1)


def galaxy_count_errors(p_gc, galaxy, counts, *, threshold=GC_THRESHOLD):
    """Each galaxy's relative count error at one threshold.

    Parameters are those of :func:`count_threshold`, with one ``threshold``.

    Returns
    -------
    pandas.Series
        ``|n_candidates - n| / n`` indexed by galaxy, for the galaxies of the
        sources with a known number of GCs.

    Examples
    --------
    >>> galaxy_count_errors([0.9, 0.6, 0.4, 0.8], ["A", "A", "A", "B"], {"A": 4, "B": 1}).to_dict()
    {'A': 0.5, 'B': 0.0}
    """
    names, errors = _relative_errors(p_gc, galaxy, counts, (threshold,), "galaxy_count_errors")
    return pd.Series(errors[0], index=pd.Index(names, name="galaxy"), name="abs_rel_count_error")


def _relative_errors(p_gc, galaxy, counts, thresholds, caller):
    """(galaxy names, |n_candidates - n| / n for each threshold and galaxy) of the counted galaxies."""
    p = _check_proba(p_gc)
    galaxy = np.asarray(galaxy).astype(str)
    if galaxy.shape != p.shape:
        raise GlobsmlError(f"{caller}: {len(galaxy)} galaxy names for {len(p)} sources")
    known = _known_counts(counts)
    known = known[known.index.isin(galaxy)]
    if known.empty:
        raise GlobsmlError(f"{caller}: no galaxy of the sources has a known number of GCs")
    rows = np.isin(galaxy, known.index)
    names, index = np.unique(galaxy[rows], return_inverse=True)
    truth = known.reindex(names).to_numpy()
    errors = np.empty((len(thresholds), len(names)))
    for k, t in enumerate(thresholds):
        t = check_threshold(t, f"{caller}: threshold")
        errors[k] = np.abs(np.bincount(index, weights=p[rows] > t, minlength=len(names)) - truth) / truth
    return names, errors


def galaxy_folds(galaxies, n_folds, *, seed=0):
    """Galaxies dealt into ``n_folds`` folds, shuffled with ``seed``.

    Parameters
    ----------
    galaxies : iterable of str
        Distinct galaxy names (sorted first, so that their order does not matter).
    n_folds : int
        At least 2, at most the number of galaxies.
    seed : int
        Same seed, same folds.

    Returns
    -------
    list of numpy.ndarray
        The galaxies of each fold.

    Examples
    --------
    >>> [sorted(map(str, f)) for f in galaxy_folds(["A", "B", "C", "D"], 2, seed=0)]
    [['B', 'C'], ['A', 'D']]
    """
    names = np.array(sorted(set(map(str, galaxies))))
    if not 2 <= int(n_folds) <= len(names):
        raise GlobsmlError(f"galaxy_folds: {n_folds} folds of {len(names)} galaxies; need 2 to {len(names)} folds")
    np.random.default_rng(seed).shuffle(names)
    return [names[i::int(n_folds)] for i in range(int(n_folds))]
