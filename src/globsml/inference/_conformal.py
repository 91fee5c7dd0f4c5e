"""Error control a person can ask for: conformal p-values and Benjamini-Hochberg selection.

A bundle trained by :func:`globsml.inference.train_bundle` keeps the p_gc of
a calibration part of its training data that the model never saw. For a new
source with score ``s`` the conformal p-value of the null hypothesis "this
source is not a GC" is (Bates, Candes, Lei, Romano & Sesia 2023, "Testing
for outliers with conformal p-values")

    p = (1 + #{calibration non-GCs with p_gc >= s}) / (n_non-GC + 1),

which is super-uniform for a non-GC that is exchangeable with the
calibration non-GCs. Selecting the sources whose p-values pass the
Benjamini-Hochberg procedure at level ``alpha`` keeps the expected false
discovery rate (the fraction of non-GCs among the candidates) at or below
``alpha`` (the p-values are PRDS, Bates et al., Theorem 3). Since p is
monotone in p_gc, the selection is a threshold on p_gc: the catalogue
keeps the single rule "a candidate is p_gc > threshold", with the threshold
chosen by the data.

The guarantee needs the target's non-GCs to look like the calibration
ones. :func:`calibration_shift` tests that on the bulk of the scores
(below the calibration non-GCs' 90 % quantile, where few GCs lie): a
two-sample Kolmogorov-Smirnov test between the target's and the
calibration non-GCs' p_gc there.
"""

import warnings

import numpy as np

from .._errors import GlobsmlError

__all__ = [
    "conformal_pvalues",
    "benjamini_hochberg",
    "fdr_threshold",
    "calibration_shift",
    "CalibrationShiftWarning",
    "SHIFT_QUANTILE",
    "SHIFT_PVALUE",
    "SHIFT_STATISTIC",
]

#: The shift test looks at scores below this quantile of the calibration non-GCs.
SHIFT_QUANTILE = 0.9
#: A shift is reported when the KS test's p-value is below this ...
SHIFT_PVALUE = 1e-3
#: ... and the KS distance is above this (huge samples make tiny shifts significant).
SHIFT_STATISTIC = 0.05


class CalibrationShiftWarning(UserWarning):
    """The target's scores do not look like the calibration data's: the FDR guarantee may not hold."""


def _null_scores(calibration):
    scores = np.asarray(calibration["scores"], dtype=np.float64)
    labels = np.asarray(calibration["labels"])
    null = np.sort(scores[labels == 0])
    if len(null) == 0:
        raise GlobsmlError("the calibration data hold no non-GCs: no conformal p-values can be computed")
    return null


def conformal_pvalues(scores, calibration):
    """Conformal p-values of "not a GC" for new sources.

    Parameters
    ----------
    scores : array-like of float
        p_gc of the new sources.
    calibration : dict
        ``{"scores": p_gc, "labels": 0/1}`` of the calibration sources (a
        bundle's :attr:`~globsml.inference.Bundle.calibration`); only the
        non-GCs are used.

    Returns
    -------
    numpy.ndarray
        One p-value per source, in ``(0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from globsml.inference import conformal_pvalues
    >>> cal = {"scores": np.array([0.1, 0.2, 0.3, 0.9]), "labels": np.array([0, 0, 0, 1])}
    >>> conformal_pvalues([0.05, 0.25, 0.95], cal)
    array([1.  , 0.5 , 0.25])
    """
    null = _null_scores(calibration)
    scores = np.asarray(scores, dtype=np.float64)
    at_least = len(null) - np.searchsorted(null, scores, side="left")
    return (1.0 + at_least) / (len(null) + 1.0)


def benjamini_hochberg(pvalues, alpha):
    """Boolean mask of the hypotheses rejected by Benjamini-Hochberg at level ``alpha``.

    Examples
    --------
    >>> from globsml.inference import benjamini_hochberg
    >>> benjamini_hochberg([0.001, 0.02, 0.04, 0.5], 0.05).tolist()
    [True, True, False, False]
    """
    alpha = _check_alpha(alpha)
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.sort(p)
    passed = np.flatnonzero(order <= alpha * np.arange(1, m + 1) / m)
    if len(passed) == 0:
        return np.zeros(m, dtype=bool)
    return p <= order[passed[-1]]


def _check_alpha(alpha):
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise GlobsmlError(f"the FDR level must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < alpha < 1.0:
        raise GlobsmlError(f"the FDR level must lie in (0, 1), got {alpha}")
    return alpha


def fdr_threshold(scores, calibration, alpha):
    """The p_gc threshold that keeps the false discovery rate at or below ``alpha``.

    Conformal p-values (:func:`conformal_pvalues`) and Benjamini-Hochberg
    selection (:func:`benjamini_hochberg`); since the p-values fall as p_gc
    rises, the selected sources are exactly those with ``p_gc > threshold``.

    Parameters
    ----------
    scores : array-like of float
        p_gc of the target sources (all of them: BH needs the whole list).
    calibration : dict
        The bundle's calibration scores and labels.
    alpha : float
        The false discovery rate asked for, in (0, 1).

    Returns
    -------
    threshold : float
        ``p_gc > threshold`` selects the BH candidates (``1.0`` when none).
    pvalues : numpy.ndarray
        The conformal p-values of the sources.
    """
    scores = np.asarray(scores, dtype=np.float64)
    pvalues = conformal_pvalues(scores, calibration)
    selected = benjamini_hochberg(pvalues, alpha)
    if not selected.any():
        return 1.0, pvalues
    # Just below the lowest selected score: p_gc > t <=> p_gc >= that score.
    return float(np.nextafter(scores[selected].min(), -np.inf)), pvalues


def calibration_shift(scores, calibration, *, warn=True, where="target"):
    """Whether the target's scores look unlike the calibration non-GCs'.

    Compares the p_gc of the target sources with those of the calibration
    non-GCs below the latter's :data:`SHIFT_QUANTILE` quantile (the bulk
    of the non-GCs, where few GCs lie, so that a different GC fraction
    does not count as a shift), with a two-sample Kolmogorov-Smirnov test.

    Parameters
    ----------
    scores : array-like of float
        p_gc of the target sources.
    calibration : dict
        The bundle's calibration scores and labels.
    warn : bool
        Issue a :class:`CalibrationShiftWarning` when a shift is found.
    where : str
        What the target is, for the warning.

    Returns
    -------
    dict
        ``statistic`` (the KS distance D), ``pvalue``, ``n_target`` and
        ``n_calibration`` (the scores compared), ``shifted`` (D above
        :data:`SHIFT_STATISTIC` and p-value below :data:`SHIFT_PVALUE`) and
        ``target_above`` / ``calibration_above``: the fractions of the
        compared target and calibration scores above the calibration
        non-GCs' median there (0.5 for the calibration; larger for the
        target means its non-GCs score higher, and more of them pass the
        threshold than the FDR level allows for).
    """
    from scipy.stats import ks_2samp

    null = _null_scores(calibration)
    scores = np.asarray(scores, dtype=np.float64)
    cut = np.quantile(null, SHIFT_QUANTILE)
    target = scores[scores <= cut]
    reference = null[null <= cut]
    if len(target) < 20 or len(reference) < 20:
        return {"statistic": float("nan"), "pvalue": float("nan"), "n_target": int(len(target)),
                "n_calibration": int(len(reference)), "shifted": False,
                "target_above": float("nan"), "calibration_above": float("nan")}
    test = ks_2samp(target, reference)
    median = np.median(reference)
    out = {
        "statistic": float(test.statistic),
        "pvalue": float(test.pvalue),
        "n_target": int(len(target)),
        "n_calibration": int(len(reference)),
        "shifted": bool(test.statistic > SHIFT_STATISTIC and test.pvalue < SHIFT_PVALUE),
        "target_above": float(np.mean(target > median)),
        "calibration_above": float(np.mean(reference > median)),
    }
    if warn and out["shifted"]:
        warnings.warn(
            f"{where}: its p_gc do not look like the calibration non-GCs' (KS D = {out['statistic']:.3f}, "
            f"p = {out['pvalue']:.1e}; {out['target_above']:.0%} of its low scores lie above the calibration "
            f"median, against {out['calibration_above']:.0%}): the false discovery rate asked for is not "
            "guaranteed on these data",
            CalibrationShiftWarning,
            stacklevel=2,
        )
    return out
