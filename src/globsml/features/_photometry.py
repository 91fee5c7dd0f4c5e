"""Vectorised circular-aperture photometry and the published magnitudes.

The exact overlap of a circle with a pixel is computed in closed form for
every pixel near every source at once, so that photometry of many sources
costs a handful of numpy operations instead of a Python loop per source.
It agrees with ``photutils.aperture.aperture_photometry(method="exact")``
to rounding error (see ``benchmarks/bench_photometry.py``).
"""

import numpy as np

from .._errors import GlobsmlError
from ..data._schema import EXTINCTION_COEFFICIENTS, ZERO_POINTS

__all__ = [
    "APERTURE_RADII",
    "aperture_photometry",
    "circular_overlap",
    "correct_extinction",
    "magnitudes",
    "photometric_columns",
]

#: Aperture radii (pixels) of the published photometry: CI uses 1 and 3,
#: CI4/CI5 use 1 and 4/5, m3/m4/m5 use 3/4/5.
APERTURE_RADII = (1.0, 3.0, 4.0, 5.0)

_CHUNK = 8192  # sources per block: bounds the temporary arrays to ~100 MB


def _quadrant_area(x, y, r):
    """Area of the disc of radius ``r`` at the origin with X <= x and Y <= y.

    Closed form of the integral over X of the length of the chord
    ``{Y <= y} & {|Y| <= sqrt(r^2 - X^2)}``; every argument broadcasts.
    """
    r2 = r * r
    xc = np.clip(x, -r, r)

    def strip(t):  # integral of sqrt(r^2 - X^2) from -r to t, for |t| <= r
        return 0.5 * (t * np.sqrt(np.maximum(r2 - t * t, 0.0)) + r2 * np.arcsin(np.clip(t / r, -1.0, 1.0))) + 0.25 * np.pi * r2

    ay = np.abs(y)
    c = np.sqrt(np.maximum(r2 - ay * ay, 0.0))  # half-chord where |Y| = |y|
    t = np.clip(xc, -c, c)
    # The part of the disc between -|y| and |y| in Y that lies left of x... is
    # handled through the cap integral: cap = integral over [-c, t] of (s - |y|).
    cap = strip(t) - strip(-c) - ay * (t + c)
    return np.where(y >= 0, 2.0 * strip(xc) - cap, cap)


def circular_overlap(x0, x1, y0, y1, r):
    """Exact area of overlap of rectangles with a disc of radius ``r`` at the origin.

    Parameters
    ----------
    x0, x1, y0, y1 : array_like
        Rectangle edges relative to the disc centre (``x0 <= x1``, ``y0 <= y1``);
        they broadcast together.
    r : float or array_like
        Disc radius (> 0).

    Returns
    -------
    numpy.ndarray
        The overlap areas.
    """
    return (_quadrant_area(x1, y1, r) - _quadrant_area(x0, y1, r)
            - _quadrant_area(x1, y0, r) + _quadrant_area(x0, y0, r))


def _validate(images, x, y, radii):
    images = np.asarray(images)
    if images.ndim not in (2, 3):
        raise GlobsmlError(f"aperture_photometry: expected one 2-D image or a stack (n, ny, nx), got shape {images.shape}")
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if x.shape != y.shape or x.ndim != 1:
        raise GlobsmlError(f"aperture_photometry: x and y must be 1-D of the same length, got {x.shape} and {y.shape}")
    if images.ndim == 3 and len(images) != len(x):
        raise GlobsmlError(
            f"aperture_photometry: a stack of {len(images)} images needs one position per image, got {len(x)}")
    radii = np.atleast_1d(np.asarray(radii, dtype=float))
    if radii.ndim != 1 or not np.all(np.isfinite(radii) & (radii > 0)):
        raise GlobsmlError(f"aperture_photometry: radii must be positive numbers, got {radii}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise GlobsmlError("aperture_photometry: positions must be finite")
    return images, x, y, radii


def aperture_photometry(images, x, y, radii, *, method="exact"):
    """Sum of pixel values in circular apertures, for many sources at once.

    Pixel ``(j, i)`` covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]`` (the
    photutils convention: integer coordinates are pixel centres).

    Parameters
    ----------
    images : array_like
        Either one image ``(ny, nx)`` on which every position is measured,
        or a stack ``(n, ny, nx)`` where position ``k`` is measured on image
        ``k`` (e.g. cut-outs).
    x, y : array_like
        Aperture centres in pixel coordinates, shape ``(n,)``.
    radii : float or sequence of float
        Aperture radii in pixels.
    method : {"exact", "center"}, optional
        ``"exact"``: each pixel is weighted by its exact area of overlap
        with the circle (photutils ``method="exact"``); ``"center"``: a
        pixel counts fully when its centre lies inside the circle.

    Returns
    -------
    numpy.ndarray
        Fluxes, shape ``(n, len(radii))``.

    Notes
    -----
    Non-finite pixels (NaN off the detector) and pixels beyond the image
    edge contribute nothing, as with photutils when given
    ``mask=~np.isfinite(data)``; an aperture that does not overlap the
    image at all gives NaN, as in photutils. The work is vectorised over sources in
    blocks of a few thousand; no Python loop runs per source.
    """
    if method not in ("exact", "center"):
        raise GlobsmlError(f"aperture_photometry: method must be 'exact' or 'center', got {method!r}")
    images, x, y, radii = _validate(images, x, y, radii)
    out = np.empty((len(x), len(radii)))
    for start in range(0, len(x), _CHUNK):
        sl = slice(start, start + _CHUNK)
        stack_index = np.arange(len(x))[sl] if images.ndim == 3 else None
        # One radius at a time: each gets the smallest window that holds it
        # (4x4 pixels for r = 1 instead of the 12x12 that r = 5 needs).
        for j, r in enumerate(radii):
            out[sl, j] = _photometry_block(images, x[sl], y[sl], radii[j:j + 1], method, stack_index)[:, 0]
    return out


def _photometry_block(images, x, y, radii, method, stack_index):
    ny, nx = images.shape[-2:]
    rmax = radii.max()
    size = int(np.ceil(2 * rmax)) + 2  # pixels spanned by the largest circle, plus slack
    ix0 = np.floor(x - rmax + 0.5).astype(np.int64)
    iy0 = np.floor(y - rmax + 0.5).astype(np.int64)
    k = np.arange(size)
    cols = ix0[:, None] + k  # (n, size)
    rows = iy0[:, None] + k
    inside = ((cols >= 0) & (cols < nx))[:, None, :] & ((rows >= 0) & (rows < ny))[:, :, None]
    ci = np.clip(cols, 0, nx - 1)[:, None, :]
    ri = np.clip(rows, 0, ny - 1)[:, :, None]
    if stack_index is None:
        values = images[ri, ci]
    else:
        values = images[stack_index[:, None, None], ri, ci]
    values = np.where(inside & np.isfinite(values), values, 0.0).astype(float, copy=False)

    # Pixel edges relative to each centre: (n, size + 1).
    ex = cols.astype(float) - 0.5 - x[:, None]
    ex = np.concatenate([ex, ex[:, -1:] + 1.0], axis=1)
    ey = rows.astype(float) - 0.5 - y[:, None]
    ey = np.concatenate([ey, ey[:, -1:] + 1.0], axis=1)
    out = np.empty((len(x), len(radii)))
    if method == "center":
        dx = ex[:, :-1] + 0.5
        dy = ey[:, :-1] + 0.5
        d2 = dx[:, None, :] ** 2 + dy[:, :, None] ** 2
        for j, r in enumerate(radii):
            w = (d2 <= r * r).astype(float)
            out[:, j] = (values * w).sum(axis=(1, 2))
        out[_off_image(x, y, radii, nx, ny)] = np.nan
        return out
    for j, r in enumerate(radii):
        # Cumulative area on the grid of pixel corners, then differences.
        corner = _quadrant_area(ex[:, None, :], ey[:, :, None], r)  # (n, size+1, size+1)
        w = corner[:, 1:, 1:] - corner[:, :-1, 1:] - corner[:, 1:, :-1] + corner[:, :-1, :-1]
        out[:, j] = (values * w).sum(axis=(1, 2))
    out[_off_image(x, y, radii, nx, ny)] = np.nan
    return out


def _off_image(x, y, radii, nx, ny):
    """(n, n_radii) True where the aperture's bounding box misses the image (photutils gives NaN)."""
    r = radii[None, :]
    xmin = np.floor(x[:, None] - r + 0.5)
    xmax = np.floor(x[:, None] + r + 1.5)
    ymin = np.floor(y[:, None] - r + 0.5)
    ymax = np.floor(y[:, None] + r + 1.5)
    return (xmax <= 0) | (xmin >= nx) | (ymax <= 0) | (ymin >= ny)


def magnitudes(flux, band, *, ebv=0.0):
    """AB magnitudes of fluxes (electrons/s) with the published zero points.

    ``m = -2.5 log10(flux) + ZP_band - A_band`` with ``A_band =
    EXTINCTION_COEFFICIENTS[band] * ebv``.

    Parameters
    ----------
    flux : array_like
        Fluxes in electrons per second.
    band : {"g", "z"}
        Band of the zero point and extinction coefficient.
    ebv : float or array_like, optional
        Galactic colour excess E(B-V) (broadcast against ``flux``).

    Returns
    -------
    numpy.ndarray
        Magnitudes; NaN where the flux is not positive or not finite (as in
        the published table), never inf.
    """
    if band not in ZERO_POINTS:
        raise GlobsmlError(f"magnitudes: band must be one of {sorted(ZERO_POINTS)}, got {band!r}")
    flux = np.asarray(flux, dtype=float)
    ebv = np.asarray(ebv, dtype=float)
    if np.any(~np.isfinite(ebv)) or np.any(ebv < 0):
        raise GlobsmlError(f"magnitudes: E(B-V) must be a finite non-negative number, got {ebv}")
    good = np.isfinite(flux) & (flux > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = -2.5 * np.log10(np.where(good, flux, 1.0)) + ZERO_POINTS[band] - EXTINCTION_COEFFICIENTS[band] * ebv
    return np.where(good, mag, np.nan)


def photometric_columns(flux_g, flux_z, *, ebv=0.0):
    """The published photometric columns from 1, 3, 4, 5 px aperture fluxes.

    Parameters
    ----------
    flux_g, flux_z : array_like
        Aperture fluxes, shape ``(n, 4)``, in the radii of
        :data:`APERTURE_RADII` (1, 3, 4, 5 pixels).
    ebv : float or array_like, optional
        E(B-V) per source or for all.

    Returns
    -------
    dict of numpy.ndarray
        ``m3_g, m4_g, m5_g, CI_g, CI4_g, CI5_g`` (likewise ``_z``) and
        ``colour = m3_g - m3_z``. CIn is the 1 px magnitude minus the n px
        one; NaN wherever a flux involved is not positive.
    """
    cols = {}
    for band, flux in (("g", flux_g), ("z", flux_z)):
        flux = np.asarray(flux, dtype=float)
        if flux.ndim != 2 or flux.shape[1] != len(APERTURE_RADII):
            raise GlobsmlError(f"photometric_columns: {band} fluxes must have shape (n, 4), got {flux.shape}")
        m1, m3, m4, m5 = (magnitudes(flux[:, i], band, ebv=ebv) for i in range(4))
        cols.update({f"m3_{band}": m3, f"m4_{band}": m4, f"m5_{band}": m5,
                     f"CI_{band}": m1 - m3, f"CI4_{band}": m1 - m4, f"CI5_{band}": m1 - m5})
    cols["colour"] = cols["m3_g"] - cols["m3_z"]
    return cols


#: The columns of a feature table that the Galactic extinction correction
#: changes (the concentration indices are differences within one band).
EXTINCTION_COLUMNS = {"g": ("m3_g", "m4_g", "m5_g"), "z": ("m3_z", "m4_z", "m5_z")}


def correct_extinction(table, ebv):
    """A feature table measured without extinction correction, corrected for E(B-V).

    ``cutout_features(c, ebv=e)`` equals ``correct_extinction(cutout_features(c), e)``:
    the magnitudes m3/m4/m5 lose ``A_band = EXTINCTION_COEFFICIENTS[band] * ebv``
    and the colour ``A_g - A_z``; nothing else changes.

    Parameters
    ----------
    table : pandas.DataFrame
        Holds the published magnitude columns and ``colour``.
    ebv : float or array_like
        Galactic E(B-V), one value or one per row.

    Returns
    -------
    pandas.DataFrame
        A corrected copy.
    """
    ebv = np.asarray(ebv, dtype=float)
    if np.any(~np.isfinite(ebv)) or np.any(ebv < 0):
        raise GlobsmlError(f"correct_extinction: E(B-V) must be a finite non-negative number, got {ebv}")
    missing = [c for cols in EXTINCTION_COLUMNS.values() for c in cols + ("colour",) if c not in table.columns]
    if missing:
        raise GlobsmlError(f"correct_extinction: the table has no column(s) {sorted(set(missing))}")
    out = table.copy()
    for band, cols in EXTINCTION_COLUMNS.items():
        for c in cols:
            out[c] = out[c].to_numpy(dtype=float) - EXTINCTION_COEFFICIENTS[band] * ebv
    out["colour"] = out["colour"].to_numpy(dtype=float) - (EXTINCTION_COEFFICIENTS["g"] - EXTINCTION_COEFFICIENTS["z"]) * ebv
    return out
