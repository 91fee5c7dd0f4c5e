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
    return _king_from_u(1.0 + (r / rc) ** 2, c)


def _king_from_u(u, c):
    """King (1962) profile from u = 1 + (r / r_c)^2; zero beyond the tidal radius r_t = c r_c.

    Beyond r_t the bracket is negative, so clipping it at zero is the
    truncation; computed in place on ``u``'s precision.
    """
    val = np.sqrt(u)
    np.reciprocal(val, out=val)
    val -= (1.0 / np.sqrt(1.0 + np.asarray(c) ** 2)).astype(val.dtype)
    np.maximum(val, 0, out=val)
    val *= val
    return val


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
    inv = 1.0 / (rc * rc)
    # 1 + r^2 / r_c^2 with r^2 = x^2 + y^2 + softening^2: the x and y terms
    # are computed on their own axes, one full-size addition joins them
    u = (x * x + dtype.type(SOFTENING**2)) * inv + dtype.type(1.0) + (y * y) * inv
    return _king_from_u(u, np.asarray(concentration, dtype=dtype))


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
    ct, st = np.cos(theta), np.sin(theta)
    # (x', y'/q)^2 / r_e^2 of the rotated frame as a quadratic form in x and
    # y: the x^2 and y^2 terms live on their own axes, so only the cross
    # term and two additions run over the whole grid
    inv_q2, inv_re2 = 1.0 / (q * q), 1.0 / (r_eff * r_eff)
    a = np.asarray((ct * ct + st * st * inv_q2) * inv_re2, dtype=dtype)
    c = np.asarray((st * st + ct * ct * inv_q2) * inv_re2, dtype=dtype)
    cross = np.asarray(2.0 * ct * st * (1.0 - inv_q2) * inv_re2, dtype=dtype)
    soft = np.asarray(SOFTENING**2 * inv_re2, dtype=dtype)
    r2 = (a * (x * x) + soft) + (cross * x) * y
    r2 += c * (y * y)
    # total flux of exp(-b ((r/re)^(1/n) - 1)) over the ellipse
    total = 2 * np.pi * n * np.exp(b) * b ** (-2 * n) * special.gamma(2 * n) * r_eff**2 * q
    # exp(-b (r/re)^(1/n) + b) / total, with (r / re)^(1/n) as
    # exp(ln(r^2 / re^2) / 2n), in place: one log and two exps
    np.log(r2, out=r2)
    r2 *= np.asarray(0.5 / n, dtype=dtype)
    np.exp(r2, out=r2)
    r2 *= -b
    r2 += np.asarray(b - np.log(total), dtype=dtype)
    return np.exp(r2, out=r2)
