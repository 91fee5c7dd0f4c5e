"""Numbers of GCs per galaxy, with their uncertainty."""

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._checks import check_threshold
from .._errors import GlobsmlError
from ..data import GC_THRESHOLD
from ._prior import _check_proba

__all__ = ["galaxy_counts"]


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
