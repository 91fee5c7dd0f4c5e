"""Surface-brightness profiles evaluated for many sources at once.

The mock renders with numpy rather than GalSim or astropy.modeling: GalSim
is not installed here and has no King profile (it would need an
``InterpolatedImage`` per source), and astropy.modeling evaluates one model
at a time. Evaluating the analytic profiles on a supersampled grid for a
batch of sources at once, then convolving the batch with the empirical
PSF by FFT (:mod:`._render`), keeps the whole survey a few array
operations per batch.
"""

import functools

import numpy as np
from scipy import integrate, special

__all__ = ["king_profile", "sersic_profile", "king_core_radius", "sersic_b"]

#: Softening (pixels) of the radius where profiles are point-sampled: the
#: rms distance within a 1/4-pixel sample cell, so that cores smaller than
#: a sample are not dominated by the single nearest sample.
SOFTENING = 0.1


def _king_1d(r, rc, c):
    rt = c * rc
    val = 1.0 / np.sqrt(1.0 + (r / rc) ** 2) - 1.0 / np.sqrt(1.0 + c**2)
    return np.where(r < rt, val**2, 0.0)


@functools.cache
def _king_rh_over_rc_table():
    """Half-light radius over core radius of a projected King (1962) profile, versus log10 c."""
    logc = np.linspace(0.5, 2.6, 43)
    ratio = np.empty_like(logc)
    for i, lc in enumerate(logc):
        c = 10**lc
        r = np.concatenate([[0.0], np.geomspace(1e-4, c, 4000)])
        cum = integrate.cumulative_trapezoid(2 * np.pi * r * _king_1d(r, 1.0, c), r, initial=0.0)
        ratio[i] = np.interp(0.5 * cum[-1], cum, r)
    return logc, ratio


def king_core_radius(r_half, concentration):
    """Core radius of a King profile with the given half-light radius and c = r_t / r_c."""
    logc, ratio = _king_rh_over_rc_table()
    return np.asarray(r_half) / np.interp(np.log10(concentration), logc, ratio)


def king_profile(x, y, r_half, concentration):
    """Projected King (1962) surface brightness, unnormalised.

    Parameters
    ----------
    x, y : ndarray
        Offsets from the source centre in pixels, broadcastable with the
        per-source parameters (e.g. shapes (n, 1, 1) and (1, ny, nx)).
    r_half : ndarray
        Half-light radius in pixels, per source.
    concentration : ndarray
        r_t / r_c, per source.
    """
    dtype = np.result_type(x, y)
    rc = np.asarray(king_core_radius(r_half, concentration), dtype=dtype)
    r = np.sqrt(x * x + y * y + dtype.type(SOFTENING**2))
    return _king_1d(r, rc, np.asarray(concentration, dtype=dtype))


def sersic_b(n):
    """The Sersic b_n that makes r_e the half-light radius (exact, via the gamma function)."""
    return special.gammaincinv(2.0 * np.asarray(n, dtype=float), 0.5)


def sersic_profile(x, y, r_eff, n, q, theta):
    """Elliptical Sersic surface brightness, normalised to unit total flux.

    Parameters
    ----------
    x, y : ndarray
        Offsets from the centre in pixels (broadcast with the parameters).
    r_eff : ndarray
        Half-light radius along the major axis, pixels.
    n : ndarray
        Sersic index.
    q : ndarray
        Axis ratio b/a.
    theta : ndarray
        Position angle of the major axis, radians from the x axis.
    """
    dtype = np.result_type(x, y)
    b = np.asarray(sersic_b(n), dtype=dtype)
    ct, st = np.asarray(np.cos(theta), dtype=dtype), np.asarray(np.sin(theta), dtype=dtype)
    xp = x * ct + y * st
    yp = (-x * st + y * ct) / q
    r2 = (xp * xp + yp * yp + dtype.type(SOFTENING**2)) / (r_eff * r_eff)
    # (r / re)^(1/n) as exp(ln(r^2 / re^2) / 2n): one log and one exp
    powr = np.exp(np.log(r2) * np.asarray(0.5 / n, dtype=dtype))
    # total flux of exp(-b ((r/re)^(1/n) - 1)) over the ellipse
    total = np.asarray(2 * np.pi * n * np.exp(b) * b ** (-2 * n) * special.gamma(2 * n) * r_eff**2 * q, dtype=dtype)
    return np.exp(-b * (powr - 1)) / total
