"""Learning from label proportions: a galaxy's number of GCs, without knowing which.

Published catalogues give the number of GCs of each galaxy even where the
per-source labels are not at hand. On such a galaxy's real, unlabelled
cut-outs a model's probabilities are moved to the galaxy's known GC share
(the prior-shift rule of :mod:`._prior`), which makes them soft labels that
add up to the known number; fitting to them teaches the model the real
images (:func:`~globsml.adapt.fit_soft_labels`).
"""

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from ._prior import _check_proba, adjust_to_prior

__all__ = ["labels_from_proportions"]


def _share_matching(p, train_prior, count, *, iters=60):
    """The prior under which the adjusted probabilities add up to ``count`` (bisection on the log odds)."""
    lo, hi = -30.0, 30.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        total = adjust_to_prior(p, train_prior, 1 / (1 + np.exp(-mid))).sum()
        lo, hi = (mid, hi) if total < count else (lo, mid)
    return 1 / (1 + np.exp(-0.5 * (lo + hi)))


def labels_from_proportions(p_gc, galaxy, counts, *, train_prior):
    """Soft labels that respect each galaxy's known number of GCs.

    Parameters
    ----------
    p_gc : array_like
        A model's probabilities on the sources (calibrated at GC share
        ``train_prior``).
    galaxy : array_like
        The galaxy of each source.
    counts : mapping or pandas.Series
        Known number of GCs per galaxy. Sources of galaxies without a count
        get NaN.
    train_prior : float
        GC share the probabilities are calibrated at.

    Returns
    -------
    numpy.ndarray
        For each source, its probability under its galaxy's known share:
        the labels of one galaxy add up to its count (NaN where the count is
        not known).

    Examples
    --------
    >>> q = labels_from_proportions([0.9, 0.6, 0.2, 0.1], ["A"] * 4, {"A": 1}, train_prior=0.3)
    >>> round(float(q.sum()), 6), bool(q[0] > q[1] > q[2] > q[3])
    (1.0, True)
    """
    p = _check_proba(p_gc)
    galaxy = np.asarray(galaxy)
    if galaxy.shape != p.shape:
        raise GlobsmlError(f"labels_from_proportions: {len(galaxy)} galaxy names for {len(p)} sources")
    counts = pd.Series(counts, dtype=float)
    q = np.full(len(p), np.nan)
    for name in np.unique(galaxy):
        if name not in counts.index or not np.isfinite(counts[name]):
            continue
        rows = np.flatnonzero(galaxy == name)
        count = float(counts[name])
        if not 0 <= count <= len(rows):
            raise GlobsmlError(f"labels_from_proportions: galaxy {name}: {count:g} GCs among "
                               f"{len(rows)} sources")
        if count == 0 or count == len(rows):
            q[rows] = count / len(rows)
            continue
        share = _share_matching(p[rows], train_prior, count)
        q[rows] = adjust_to_prior(p[rows], train_prior, share)
    return q
