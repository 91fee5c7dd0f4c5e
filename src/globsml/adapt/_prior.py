"""Label shift: re-estimate the share of GCs in a target from its unlabelled sources.

A classifier's probabilities carry the GC share of the data it was trained
on. A galaxy with many more (or fewer) GCs than that pulls every uncertain
source the wrong way, and the count inherits the bias. Saerens, Latinne &
Decaestecker (2002, Neural Computation 14, 21) re-estimate the target's
share by expectation-maximisation on the unlabelled target alone: rescale
the posteriors by the ratio of the shares, average them, repeat.
"""

import numpy as np

from .._errors import GlobsmlError

__all__ = ["prior_shift_em", "adjust_to_prior"]


def _check_proba(p, what="p_gc"):
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise GlobsmlError(f"{what}: expected one probability per source, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or p.min(initial=0) < 0 or p.max(initial=0) > 1:
        raise GlobsmlError(f"{what}: probabilities must be finite and in [0, 1]")
    return p


def _check_share(share, what):
    share = float(share)
    if not 0 < share < 1:
        raise GlobsmlError(f"{what} must be in (0, 1), got {share}")
    return share


def adjust_to_prior(p_gc, train_prior, target_prior):
    """Posteriors of a classifier trained at one GC share, moved to another.

    Parameters
    ----------
    p_gc : array_like
        Probabilities of being a GC, calibrated on data with GC share
        ``train_prior``.
    train_prior, target_prior : float
        GC shares in (0, 1).

    Returns
    -------
    numpy.ndarray
        ``p' = r p / (r p + s (1 - p))`` with ``r = target/train`` and
        ``s = (1 - target)/(1 - train)`` (Bayes' rule with the new prior).

    Examples
    --------
    >>> adjust_to_prior([0.5], 0.2, 0.2)
    array([0.5])
    >>> float(adjust_to_prior([0.5], 0.2, 0.5)[0]) > 0.5
    True
    """
    p = _check_proba(p_gc)
    train_prior = _check_share(train_prior, "train_prior")
    target_prior = _check_share(target_prior, "target_prior")
    up = target_prior / train_prior * p
    down = (1 - target_prior) / (1 - train_prior) * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = up / (up + down)
    return np.where(up + down > 0, out, p)


def prior_shift_em(p_gc, train_prior, *, max_iter=200, tol=1e-7, min_prior=1e-4):
    """Estimate a target's GC share and its posteriors without labels (EM).

    Parameters
    ----------
    p_gc : array_like
        The classifier's probabilities on the target's sources, calibrated
        on data with GC share ``train_prior``.
    train_prior : float
        GC share of the calibration data, in (0, 1).
    max_iter : int
        Most EM steps.
    tol : float
        Stop when the share moves by less than this.
    min_prior : float
        Floor (and ``1 - min_prior`` ceiling) of the estimated share, so
        that a target with no GC-like source keeps finite odds.

    Returns
    -------
    p_adjusted : numpy.ndarray
        The posteriors under the estimated share.
    prior : float
        The estimated GC share of the target.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(20000) < 0.6                      # a GC-rich target
    >>> odds = np.exp(rng.normal(np.where(y, 1.5, -1.5), 1.5)) * 0.2 / 0.8
    >>> p = odds / (1 + odds)                            # calibrated at a 20 % share
    >>> _, prior = prior_shift_em(p, 0.2)
    >>> abs(prior - 0.6) < 0.03
    True
    """
    p = _check_proba(p_gc)
    train_prior = _check_share(train_prior, "train_prior")
    if len(p) == 0:
        return p.copy(), train_prior
    prior = train_prior
    adjusted = p
    for _ in range(int(max_iter)):
        adjusted = adjust_to_prior(p, train_prior, prior)
        new = float(np.clip(adjusted.mean(), min_prior, 1 - min_prior))
        if abs(new - prior) < tol:
            prior = new
            break
        prior = new
    return adjust_to_prior(p, train_prior, prior), prior
