"""Calibration constants of the mock survey, and how each was obtained.

Measured from the REAL cut-outs (``../shared/gcdata/ImageData``, 105
galaxies, no labels) by ``benchmarks/calibrate_mock.py``, which writes
``data/calibration.json`` and ``data/psf.npz``; those derived numbers are
shipped, the real data are not. Constants typed in below come from the
literature (see ``/work/shared/notes``, section 3 and 4) and say so.
"""

import functools
import json
from importlib import resources

import numpy as np

__all__ = ["calibration", "psf_model", "SURVEY", "strip_correlations", "noise_excess", "noise_at", "NOISE_EXCESS_EDGES",
           "NOISE_QUANTILE_LEVELS"]

#: Literature constants (typed in, with their source).
SURVEY = {
    # Distances of the published data set (Dold & Fahrion 2022), in Mpc.
    "distance_mpc": {"Virgo": 16.5, "Fornax": 20.0},
    # Distance moduli 5 log10(d / 10 pc) [derived]; Virgo has ~0.1 mag depth.
    "distance_modulus": {"Virgo": 31.087, "Fornax": 31.505},
    "distance_modulus_scatter": {"Virgo": 0.10, "Fornax": 0.05},
    # Exposure times in s (ACSVCS ~750/1210, ACSFCS ~760/1220): Poisson
    # noise of sources and host light in electrons/s images is flux / t.
    "exposure_s": {"Virgo": (750.0, 1210.0), "Fornax": (760.0, 1220.0)},
    # ACS/WFC drizzled frame, pixels (the footprint that holds the sources).
    "frame_px": 4096,
    # Cluster centres on the sky (deg) around which galaxies are placed.
    "sky_centre": {"Virgo": (187.70, 12.39), "Fornax": (54.62, -35.45)},
    # Galactic E(B-V) ranges of the two fields (Schlegel et al. maps).
    "ebv_range": {"Virgo": (0.018, 0.040), "Fornax": (0.009, 0.020)},
}


@functools.cache
def calibration():
    """The measured calibration (``data/calibration.json``) as a dict.

    Keys: ``noise_sigma_quantiles`` (galaxy -> per band the quantiles, at
    ``noise_quantile_levels`` (:data:`NOISE_QUANTILE_LEVELS`), of the
    robust standard deviation of the outer 3-pixel border of each
    cut-out, electrons/s), ``clusters`` (per
    cluster: background residual over noise, lag-1 noise correlation,
    ``noise_model`` per band (drizzle lag-1 correlation, scale of the
    smooth part and its share in bins of :func:`noise_excess`, fitted to
    :func:`strip_correlations` of the real cut-outs, see
    :func:`._render.background_noise`), ``border_peak_fractions``
    (share of cut-outs with a border pixel above 3, 5, 10, 30 sigma, per
    band), share of cut-outs with NaN pixels and their NaN pixel fraction,
    and the quantiles of the real m3, colour and CI for comparison).
    """
    with resources.files(__package__).joinpath("data/calibration.json").open() as fh:
        return json.load(fh)


@functools.cache
def psf_model():
    """The empirical PSF of each band, oversampled.

    Returns
    -------
    dict
        ``"g"`` and ``"z"``: 2-D arrays sampled every ``1 / oversampling``
        pixel, normalised so that they sum to ``oversampling**2`` (the
        pixel-sampled PSF sums to 1); ``"oversampling"``: int.
    """
    with resources.files(__package__).joinpath("data/psf.npz").open("rb") as fh:
        data = np.load(fh)
        return {"g": np.array(data["g"], dtype=np.float64), "z": np.array(data["z"], dtype=np.float64),
                "oversampling": int(data["oversampling"])}


#: Bin edges of :func:`noise_excess` in which the real noise correlation is
#: measured and the smooth share fitted.
NOISE_EXCESS_EDGES = (-np.inf, 0.15, 0.3, 0.5, 1.0, 2.0, 4.0, 8.0, np.inf)


#: Levels of the cut-out noise quantiles (``noise_sigma_quantiles``):
#: dense in the tails, which are long (the noisiest 1% of a galaxy's
#: cut-outs, in its centre, are 1.5-3 times noisier than the 95th
#: percentile; steps of 5% there made the mock's top 1% 40% too noisy).
NOISE_QUANTILE_LEVELS = tuple(np.round(np.r_[0.0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.04, np.linspace(0.05, 0.95, 19),
                                             0.96, 0.97, 0.98, 0.99, 0.995, 0.999, 1.0], 4).tolist())


def noise_at(quantiles, u):
    """Cut-out noise per band at quantile level(s) ``u``: (2,) for a scalar, (n, 2) for n levels.

    ``quantiles`` is ``(levels, values)``, values (2, len(levels)).
    """
    levels, values = quantiles
    return np.stack([np.interp(u, levels, np.asarray(values[b], dtype=float)) for b in range(2)], axis=-1)


def noise_excess(sigma, base):
    """Noise variance above the galaxy's quietest, ``(sigma / base)**2 - 1``.

    ``base`` is the 10th percentile of the galaxy's cut-out noise (the sky
    and read noise far from the host); the excess is the host light's
    share of the noise.
    """
    return (np.asarray(sigma, dtype=float) / np.asarray(base, dtype=float)) ** 2 - 1.0


def strip_correlations(frames, *, width=4, clip=5.0):
    """Noise correlation of each cut-out's border strips, one band, (n, 4).

    The top and bottom ``width`` rows and the left and right ``width``
    columns, less their median and in units of their robust sigma; pixel
    pairs with both members within ``clip`` sigma (stray source pixels
    left out) give the correlation at lag 1, 2 and 3 along the strips and
    at the diagonal lag (1, 1). NaN where a strip holds NaN pixels.
    """
    f = np.asarray(frames, dtype=np.float64)
    rows = np.concatenate([f[:, :width, :], f[:, -width:, :]], axis=1)
    cols = np.concatenate([f[:, :, :width], f[:, :, -width:]], axis=2).transpose(0, 2, 1)
    strips = np.concatenate([rows, cols], axis=1)  # (n, 4 width, 20), lags along the last axis
    flat = strips.reshape(len(f), -1)
    med = np.median(flat, axis=1)
    sig = 1.4826 * np.median(np.abs(flat - med[:, None]), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (strips - med[:, None, None]) / sig[:, None, None]
        ok = np.abs(z) < clip
        z4, ok4 = z.reshape(len(f), 4, width, -1), ok.reshape(len(f), 4, width, -1)
        out = []
        for a, b, w in ((z[:, :, 1:], z[:, :, :-1], ok[:, :, 1:] & ok[:, :, :-1]),
                        (z[:, :, 2:], z[:, :, :-2], ok[:, :, 2:] & ok[:, :, :-2]),
                        (z[:, :, 3:], z[:, :, :-3], ok[:, :, 3:] & ok[:, :, :-3]),
                        (z4[:, :, 1:, 1:], z4[:, :, :-1, :-1], ok4[:, :, 1:, 1:] & ok4[:, :, :-1, :-1])):
            axes = tuple(range(1, a.ndim))
            num = np.where(w, a * b, 0.0).sum(axis=axes)
            den = np.where(w, 0.5 * (a * a + b * b), 0.0).sum(axis=axes)
            out.append(num / den)
    return np.stack(out, axis=1)
