"""Segmentation morphology of the source at the centre of many cut-outs at once.

Each band of a stack of cut-outs is smoothed and thresholded, labelled in
one ``scipy.ndimage.label`` call (a structure that never connects two
cut-outs), deblended as photutils ``deblend_sources`` does (multi-level
thresholds and a watershed, all segments at once), the segment under (or
nearest to) the cut-out centre is picked, and its photutils
``SourceCatalog`` properties are computed with array operations over the
whole stack: centroid, second moments, min/max, segment flux and Kron
flux. No Python loop runs per cut-out.
"""

import numpy as np
from scipy import ndimage

from .._errors import GlobsmlError

__all__ = ["background_stats", "segment_properties", "moment_properties", "kron_flux_of", "DETECTION_DEFAULTS"]

#: Detection parameters used on cut-outs (see :func:`segment_properties`).
DETECTION_DEFAULTS = {"n_sigma": 2.5, "n_pixels": 3, "kernel_fwhm": 2.0, "search_radius": 3.0, "border": 3,
                      "deblend": True}

_DELTA = 1.0 / 12  # SourceExtractor/photutils regularisation of thin covariances
_KRON_SUBPIXELS = 4  # per axis; the Kron aperture is integrated on a 4x4 sub-grid
_CHUNK = 4096


def _sigma_clipped(values, *, sigma=3.0, iters=5):
    """Median and standard deviation per row after iterative ``sigma`` clipping (NaN ignored).

    Each row is sorted once; clipping then only moves the bounds ``lo, hi``
    of the kept run of sorted values, and the sums that give the standard
    deviation come from cumulative sums, so no masked-array median is needed.
    """
    v = np.sort(values, axis=1)  # NaN sort last
    n, m = v.shape
    finite = np.isfinite(v)
    z = np.where(finite, v, 0.0)
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(z, axis=1)], axis=1)
    cs2 = np.concatenate([np.zeros((n, 1)), np.cumsum(z * z, axis=1)], axis=1)
    lo = np.zeros(n, np.int64)
    hi = finite.sum(axis=1)
    rows = np.arange(n)
    med = np.full(n, np.nan)
    std = np.full(n, np.nan)
    for _ in range(iters + 1):
        cnt = hi - lo
        has = cnt > 0
        i1 = np.clip(lo + (cnt - 1) // 2, 0, m - 1)
        i2 = np.clip(lo + cnt // 2, 0, m - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            med = np.where(has, 0.5 * (z[rows, i1] + z[rows, i2]), np.nan)
            mean = (cs[rows, hi] - cs[rows, lo]) / cnt
            var = (cs2[rows, hi] - cs2[rows, lo]) / cnt - mean * mean
            std = np.where(has, np.sqrt(np.maximum(var, 0.0)), np.nan)
            new_lo = (v < (med - sigma * std)[:, None]).sum(axis=1)
            new_hi = (v <= (med + sigma * std)[:, None]).sum(axis=1)
        new_lo = np.where(has, np.maximum(new_lo, lo), lo)
        new_hi = np.where(has, np.minimum(new_hi, hi), hi)
        if np.array_equal(new_lo, lo) and np.array_equal(new_hi, hi):
            break
        lo, hi = new_lo, new_hi
    return med, std


class _quiet:
    """Silence numpy's 'All-NaN slice' warnings: all-NaN rows are handled by the caller."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def background_stats(images, *, border=3):
    """Background level and noise of each image from its border pixels.

    Parameters
    ----------
    images : numpy.ndarray
        Stack ``(n, ny, nx)``; NaN pixels are ignored.
    border : int, optional
        Width in pixels of the frame of border pixels used.

    Returns
    -------
    level, rms : numpy.ndarray
        Sigma-clipped median and standard deviation per image. Images whose
        border is all NaN (or constant) get the median of the others.
    """
    images = np.asarray(images, dtype=float)
    n, ny, nx = images.shape
    frame = np.ones((ny, nx), bool)
    frame[border:ny - border, border:nx - border] = False
    level, rms = _sigma_clipped(images[:, frame])
    bad = ~(np.isfinite(rms) & (rms > 0))
    if bad.any():
        good_rms = rms[~bad]
        rms[bad] = np.median(good_rms) if good_rms.size else 1.0
        level[bad] = np.median(level[~bad]) if good_rms.size else 0.0
    level[~np.isfinite(level)] = 0.0
    return level, rms


def _gaussian_taps(fwhm):
    """One axis of the normalised Gaussian smoothing kernel (the kernel is their outer product)."""
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    half = max(1, int(np.ceil(2 * sigma)))
    k = np.arange(-half, half + 1, dtype=float)
    g = np.exp(-0.5 * (k / sigma) ** 2)
    return g / g.sum()


def _smooth(images, fwhm):
    """The stack smoothed by the Gaussian, one axis at a time (the 2-D kernel is separable)."""
    taps = _gaussian_taps(fwhm)
    rows = ndimage.correlate1d(images, taps, axis=2, mode="nearest")
    return ndimage.correlate1d(rows, taps, axis=1, mode="nearest")


def segment_properties(images, *, n_sigma=DETECTION_DEFAULTS["n_sigma"], n_pixels=DETECTION_DEFAULTS["n_pixels"],
                       kernel_fwhm=DETECTION_DEFAULTS["kernel_fwhm"],
                       search_radius=DETECTION_DEFAULTS["search_radius"], border=DETECTION_DEFAULTS["border"],
                       deblend=DETECTION_DEFAULTS["deblend"], centre=None, kron=True):
    """Segmentation properties of the central source of every image of a stack.

    Parameters
    ----------
    images : array_like
        Stack ``(n, ny, nx)`` of one band (e.g. the g cut-outs); NaN pixels
        are treated as masked.
    n_sigma : float, optional
        Detection threshold above the border background, in units of the
        border noise (photutils convention: the threshold applies to the
        smoothed image, the noise is that of the unsmoothed one).
    n_pixels : int, optional
        Minimum number of connected (8-connectivity) pixels of a segment.
    kernel_fwhm : float, optional
        FWHM (pixels) of the Gaussian that smooths the detection image.
    search_radius : float, optional
        When the centre pixel is not in a segment, the nearest segment
        within this many pixels of the centre is taken.
    border : int, optional
        Width of the border frame that measures background and noise.
    deblend : bool, optional
        Split segments that hold several sources (:func:`_deblend`), as the
        published pipeline's ``deblend_sources`` did on the full frames.
    centre : tuple of int, optional
        ``(x, y)`` pixel of the cut-out centre; defaults to ``(nx // 2,
        ny // 2)``, i.e. pixel (10, 10) of a 20x20 cut-out, where the
        published cut-outs put the source.
    kron : bool, optional
        Measure the Kron flux; False leaves ``kron_flux`` NaN (the costliest
        property), to be measured later for some rows with
        :func:`kron_flux_of`.

    Returns
    -------
    dict of numpy.ndarray
        ``label`` (number of the segment in the cut-out's own segmentation,
        in raster order from 1; 0 when no segment was found and the central
        3x3 pixels were measured instead), ``xcentroid``, ``ycentroid``
        (cut-out pixel coordinates; the centre where the segment has no
        finite pixel), ``area``, ``semimajor_sigma``,
        ``semiminor_sigma``, ``orientation`` (degrees in (-90, 90], counter-
        clockwise from +x, the published photutils 1.x convention),
        ``eccentricity``, ``min_value``, ``max_value``, ``segment_flux``,
        ``kron_flux``, plus ``detected`` (bool), ``background`` and ``rms``
        (border statistics), ``segment`` and ``neighbours`` (boolean masks
        of the segment and of the other segments) and ``kron_inputs`` (what
        :func:`kron_flux_of` reads).
    """
    images = np.asarray(images, dtype=float)
    if images.ndim != 3:
        raise GlobsmlError(f"segment_properties: expected a stack (n, ny, nx), got shape {images.shape}")
    n, ny, nx = images.shape
    cx, cy = (nx // 2, ny // 2) if centre is None else centre
    finite = np.isfinite(images)
    level, rms = background_stats(images, border=border)
    filled = np.where(finite, images, level[:, None, None])
    smooth = _smooth(filled, kernel_fwhm)
    detect = (smooth > (level + n_sigma * rms)[:, None, None]) & finite

    # One labelling call for the whole stack; the structure connects
    # neighbours within a cut-out (8-connectivity) but never across cut-outs.
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    labels, n_labels = ndimage.label(detect, structure=structure)
    if n_labels:
        counts = np.bincount(labels.ravel(), minlength=n_labels + 1)
        small = counts < n_pixels
        small[0] = False
        labels[small[labels]] = 0

    if deblend and n_labels:
        labels = _deblend(smooth, labels, n_pixels, structure)

    yy, xx = np.mgrid[0:ny, 0:nx]
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2).astype(float)
    flat = labels.reshape(n, -1)
    cand = np.where(flat > 0, d2.ravel()[None, :], np.inf)
    nearest = np.argmin(cand, axis=1)
    rows = np.arange(n)
    chosen = flat[rows, nearest]
    detected = cand[rows, nearest] <= search_radius ** 2
    chosen[~detected] = 0

    segment = (labels == chosen[:, None, None]) & detected[:, None, None]
    # Not detected: measure the central 3x3 pixels so that every row has
    # finite morphology (the published table has no missing areas).
    box = (np.abs(xx - cx) <= 1) & (np.abs(yy - cy) <= 1)
    segment[~detected] = box & finite[~detected]

    # Label within the cut-out: the rank of the chosen label among the
    # cut-out's labels (1 = the first segment in raster order).
    local_label = np.zeros(n, np.int64)
    if detected.any():
        key = np.unique(np.nonzero(flat)[0].astype(np.int64) * (flat.max() + 1) + flat[flat > 0])
        row_of = key // (flat.max() + 1)
        rank = np.arange(len(key)) - np.searchsorted(row_of, row_of)
        pos = np.searchsorted(key, rows[detected] * (flat.max() + 1) + chosen[detected])
        local_label[detected] = rank[pos] + 1

    neighbours = (labels > 0) & ~segment
    props = moment_properties(images, segment, neighbours=neighbours, kron=kron)
    # A cut-out without a single finite pixel in its segment (all NaN) has
    # no centroid; report the cut-out centre so that positions stay defined.
    nocen = ~(np.isfinite(props["xcentroid"]) & np.isfinite(props["ycentroid"]))
    props["xcentroid"][nocen] = cx
    props["ycentroid"][nocen] = cy
    props.update(label=local_label.astype(np.int64), detected=detected, background=level, rms=rms, segment=segment,
                 neighbours=neighbours)
    return props


def _max_3x3(images):
    """The largest value in each pixel's 3x3 neighbourhood within its image of a stack (n, ny, nx).

    scipy.ndimage.maximum_filter(images, size=(1, 3, 3)) (its reflected
    border repeats the edge, which changes no maximum), in four numpy
    maxima: a third of its time on cut-outs.
    """
    rows = images.copy()
    np.maximum(rows[:, :, 1:], images[:, :, :-1], out=rows[:, :, 1:])
    np.maximum(rows[:, :, :-1], images[:, :, 1:], out=rows[:, :, :-1])
    out = rows.copy()
    np.maximum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.maximum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _deblend(smooth, labels, n_pixels, structure, n_levels=16):
    """Split blended segments as photutils ``deblend_sources`` does, vectorised.

    For every segment of at least ``2 n_pixels`` pixels, the smoothed image
    is thresholded at ``n_levels`` levels spaced exponentially (linearly
    when the segment minimum is not positive) between the segment's minimum
    and maximum; going up the levels, a marker that contains two or more
    components of at least ``n_pixels`` pixels is replaced by them (the
    photutils tree of markers). The segment is then divided among its final
    markers by a watershed on the smoothed image. All segments of all
    cut-outs are processed together, level by level. Differences from
    photutils: scipy's ``watershed_ift`` on a 16-bit scaled image instead
    of scikit-image's watershed, and no flux-contrast pruning (photutils'
    default contrast of 0.001 removes only children with less than 0.1 %
    of the segment's flux). Only segments with two or more local maxima
    are examined.
    """
    n_max = int(labels.max()) + 1
    peaks = (labels > 0) & (smooth == _max_3x3(smooth))
    n_peaks = np.bincount(labels[peaks], minlength=n_max)
    area = np.bincount(labels.ravel(), minlength=n_max)
    # Only segments with two local maxima and room for two children can split.
    ids = np.flatnonzero((n_peaks >= 2) & (area >= 2 * n_pixels))
    ids = ids[ids > 0]
    if ids.size == 0:
        return labels
    todo = np.flatnonzero(np.isin(labels, ids).any(axis=(1, 2)))
    sm = smooth[todo]
    lab = labels[todo].astype(np.int64)
    candidate = np.zeros(n_max, bool)
    candidate[ids] = True
    inside = candidate[lab]
    smin = np.zeros(n_max)
    smax = np.zeros(n_max)
    smin[ids] = ndimage.minimum(sm, lab, ids)
    smax[ids] = ndimage.maximum(sm, lab, ids)
    lo, hi = smin[lab], smax[lab]
    expo = inside & (lo > 0)
    frac = np.arange(1, n_levels + 1) / (n_levels + 1)

    def components(mask):
        comp, n_comp = ndimage.label(mask, structure=structure)
        if n_comp:
            small = np.bincount(comp.ravel(), minlength=n_comp + 1) < n_pixels
            small[0] = False
            comp[small[comp]] = 0
        return comp

    # Position of each pixel between its segment's minimum (0) and maximum
    # (1) on the exponential (or linear) scale: "above level k" is then t > f_k.
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(expo, np.log(np.where(expo, sm / lo, 1.0)) / np.log(np.where(expo, hi / lo, 2.0)),
                     (sm - lo) / np.where(hi > lo, hi - lo, 1.0))
    t = np.where(inside, t, -1.0)
    markers = None
    for f in frac:
        upper = components(t > f)
        if markers is None:
            markers = upper
            continue
        # Lower markers holding >= 2 upper components are replaced by them.
        # Each upper component lies inside one marker (thresholds only rise),
        # so one pixel of it names its parent; no sorting needed.
        both = (markers > 0) & (upper > 0)
        parent = np.zeros(upper.max() + 1, np.int64)
        parent[upper[both]] = markers[both]
        n_children = np.bincount(parent[parent > 0], minlength=markers.max() + 1)
        split = n_children >= 2
        if not split.any():
            continue
        replace = split[markers]
        new = (markers > 0) & ~replace | (replace & (upper > 0))
        markers, _ = ndimage.label(new, structure=structure)

    # Segments with two or more markers are divided among them.
    owner = np.zeros(markers.max() + 1, np.int64)
    owner[markers[markers > 0]] = lab[markers > 0]
    n_markers = np.bincount(owner[owner > 0], minlength=n_max)
    divide = n_markers >= 2
    if not divide.any():
        return labels
    region = divide[lab]
    seeds = np.where(region, markers, 0).astype(np.int64)
    rows = np.flatnonzero(region.any(axis=(1, 2)))  # flood only the cut-outs being divided
    # Flood in the order of the pixel values: the height of a pixel is its
    # rank among the region's pixels of its cut-out, so that each flooding
    # step admits only a few pixels (close to a pixel-by-pixel watershed).
    m = len(rows)
    vals = np.where(region[rows], sm[rows], -np.inf).reshape(m, -1)
    order = np.argsort(vals, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(vals.shape[1])[None, :], axis=1)
    n_region = region[rows].reshape(m, -1).sum(axis=1, keepdims=True)
    height = ((rank - (vals.shape[1] - n_region) + 1) / n_region).reshape(region[rows].shape)
    height = np.where(region[rows], height, -1.0)
    ws = np.zeros_like(seeds)
    ws[rows] = _flood(height, seeds[rows], region[rows])
    out = np.where(region, ws + n_max, lab)  # children get labels above every existing one
    new_labels = labels.astype(np.int64, copy=True)
    new_labels[todo] = out
    return new_labels


def _flood(height, seeds, region, n_steps=48):
    """Watershed by flooding: grow the seeds downhill through ``region``, level by level.

    ``height`` lies in (0, 1] inside ``region``. At each of ``n_steps``
    descending levels the labels spread (8-connectivity, never across
    cut-outs) into the unlabelled region pixels above that level until
    nothing changes. A pixel reached by several labels at once takes the
    label of its highest labelled neighbour, as a priority-queue watershed
    (scikit-image's, used by photutils) would. Works on the list of region
    pixels and their neighbour table, so the cost scales with the number
    of pixels being divided, not with the cut-outs' size.
    """
    m, ny, nx = seeds.shape
    flat = region.ravel()
    pix = np.flatnonzero(flat)
    where = np.full(flat.size, -1, np.int64)
    where[pix] = np.arange(pix.size)
    img, rem = np.divmod(pix, ny * nx)
    yy, xx = np.divmod(rem, nx)
    nb = np.full((pix.size, 8), -1, np.int64)
    k = 0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if not (dy or dx):
                continue
            y2, x2 = yy + dy, xx + dx
            ok = (y2 >= 0) & (y2 < ny) & (x2 >= 0) & (x2 < nx)
            nb[ok, k] = where[img[ok] * ny * nx + y2[ok] * nx + x2[ok]]
            k += 1
    h = np.append(height.ravel()[pix], -np.inf)  # index -1 (no neighbour) reads -inf
    lab = np.append(seeds.ravel()[pix], 0)
    for level in np.linspace(1.0, 0.0, n_steps + 1)[1:]:
        todo = np.flatnonzero((lab[:-1] == 0) & (h[:-1] >= level))
        while todo.size:
            nbr = nb[todo]
            nh = np.where(lab[nbr] > 0, h[nbr], -np.inf)
            pick = nbr[np.arange(todo.size), np.argmax(nh, axis=1)]
            new = lab[pick]
            take = np.isfinite(nh.max(axis=1)) & (new > 0)
            if not take.any():
                break
            lab[todo[take]] = new[take]
            todo = todo[~take]
    out = np.zeros(flat.size, seeds.dtype)
    out[pix] = lab[:-1]
    return out.reshape(seeds.shape)


def moment_properties(images, segment, *, neighbours=None, kron=True):
    """photutils ``SourceCatalog`` properties of given segments, vectorised.

    Parameters
    ----------
    images : numpy.ndarray
        Stack ``(n, ny, nx)`` (background-subtracted data; NaN = masked).
    segment : numpy.ndarray of bool
        ``(n, ny, nx)``: the source segment of each image.
    neighbours : numpy.ndarray of bool, optional
        Pixels of other sources; in the Kron measurement they are replaced
        by the pixel mirrored through the centroid (photutils
        ``aperture_mask_method="correct"``).
    kron : bool, optional
        Measure ``kron_flux``; False leaves it NaN (see :func:`kron_flux_of`).

    Returns
    -------
    dict of numpy.ndarray
        ``xcentroid, ycentroid, area, semimajor_sigma, semiminor_sigma,
        orientation, eccentricity, min_value, max_value, segment_flux,
        kron_flux``, and ``kron_inputs`` (what :func:`kron_flux_of` reads).

    Notes
    -----
    As in photutils, the moments use the segment's non-negative pixels.
    Where these carry no flux at all the unweighted pixel positions are
    used instead (photutils would return NaN), so that centroid and shape
    stay defined.
    """
    images = np.asarray(images, dtype=float)
    n, ny, nx = images.shape
    finite = np.isfinite(images)
    sel = segment & finite
    data = np.where(finite, images, 0.0)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)

    area = sel.sum(axis=(1, 2)).astype(float)
    segment_flux = np.where(sel, data, 0.0).sum(axis=(1, 2))
    with _quiet():
        min_value = np.where(sel, data, np.inf).min(axis=(1, 2))
        max_value = np.where(sel, data, -np.inf).max(axis=(1, 2))
    empty = area == 0
    min_value[empty] = np.nan
    max_value[empty] = np.nan
    segment_flux[empty] = np.nan

    w = np.where(sel & (data > 0), data, 0.0)
    m00 = w.sum(axis=(1, 2))
    flat_weights = m00 <= 0
    if flat_weights.any():
        w[flat_weights] = sel[flat_weights].astype(float)
        m00 = w.sum(axis=(1, 2))
    # Raw moments of all images in one matrix product; the central second
    # moments follow from them (coordinates < 400: cancellation costs ~1e-14).
    basis = np.stack([xx.ravel(), yy.ravel(), (xx * xx).ravel(), (yy * yy).ravel(), (xx * yy).ravel()], axis=1)
    raw = w.reshape(n, -1) @ basis
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = raw / m00[:, None]
        xc, yc = raw[:, 0], raw[:, 1]
        cxx_ = raw[:, 2] - xc * xc
        cyy_ = raw[:, 3] - yc * yc
        cxy_ = raw[:, 4] - xc * yc
    cov = _regularised(cxx_, cyy_, cxy_)
    a2, b2, theta = _eigen(*cov)
    with np.errstate(invalid="ignore", divide="ignore"):
        semimajor = np.sqrt(a2)
        semiminor = np.sqrt(b2)
        eccentricity = np.sqrt(1.0 - b2 / a2)
    orientation = np.rad2deg(theta)

    if kron:
        kron_flux = _kron_flux(data, finite, neighbours, xc, yc, cov, semimajor, semiminor, theta)
    else:
        kron_flux = np.full(n, np.nan)
    return {
        "xcentroid": xc, "ycentroid": yc, "area": area,
        "semimajor_sigma": semimajor, "semiminor_sigma": semiminor,
        "orientation": orientation, "eccentricity": eccentricity,
        "min_value": min_value, "max_value": max_value,
        "segment_flux": segment_flux, "kron_flux": kron_flux,
        # what the Kron flux reads (the centroids as measured: segment_properties
        # replaces missing ones afterwards)
        "kron_inputs": (xc.copy(), yc.copy(), cov, semimajor, semiminor, theta),
    }


def kron_flux_of(images, props, rows):
    """The Kron flux of some rows of a stack whose properties were measured without it.

    Parameters
    ----------
    images : numpy.ndarray
        The images of ``rows`` only, ``(len(rows), ny, nx)``, as given to
        :func:`segment_properties`.
    props : dict
        What :func:`segment_properties` returned for the whole stack
        (with ``kron=False``).
    rows : array_like of int
        The rows of that stack that ``images`` holds.

    Returns
    -------
    numpy.ndarray
        ``kron_flux`` of those rows, the same numbers as
        :func:`segment_properties` with ``kron=True`` gives for them (each
        row's Kron flux depends on that row alone).
    """
    images = np.asarray(images, dtype=float)
    rows = np.asarray(rows, dtype=np.int64)
    finite = np.isfinite(images)
    data = np.where(finite, images, 0.0)
    neighbours = props.get("neighbours")
    xc, yc, cov, semimajor, semiminor, theta = props["kron_inputs"]
    return _kron_flux(data, finite, None if neighbours is None else neighbours[rows], xc[rows], yc[rows],
                      [c[rows] for c in cov], semimajor[rows], semiminor[rows], theta[rows])


def _regularised(cxx, cyy, cxy):
    """Add 1/12 to the diagonal until det >= 1/144, as photutils/SourceExtractor do."""
    # The moments come from one-pass sums, so a segment of collinear pixels
    # can give a variance or determinant of -1e-15 instead of 0: only a
    # clearly negative determinant marks an invalid covariance (photutils: NaN).
    cxx = np.maximum(cxx, 0.0)
    cyy = np.maximum(cyy, 0.0)
    cxy = cxy.copy()
    with np.errstate(invalid="ignore"):
        det = cxx * cyy - cxy * cxy
        bad = det < -1e-9
        cxx[bad] = cyy[bad] = cxy[bad] = np.nan
        todo = det < _DELTA ** 2
        while todo.any():
            cxx[todo] += _DELTA
            cyy[todo] += _DELTA
            det = cxx * cyy - cxy * cxy
            todo = det < _DELTA ** 2
    return cxx, cyy, cxy


def _eigen(cxx, cyy, cxy):
    """Eigenvalues (descending) and major-axis angle (radians, (-pi/2, pi/2]) of 2x2 covariances."""
    with np.errstate(invalid="ignore"):
        half_trace = 0.5 * (cxx + cyy)
        root = np.sqrt((0.5 * (cxx - cyy)) ** 2 + cxy * cxy)
        a2 = half_trace + root
        b2 = half_trace - root
        b2 = np.where(b2 < 0, np.where(b2 > -1e-12 * a2, 0.0, np.nan), b2)
        theta = 0.5 * np.arctan2(2.0 * cxy, cxx - cyy)
    return a2, b2, theta


def _kron_flux(data, finite, neighbours, xc, yc, cov, semimajor, semiminor, theta,
               kron_params=(2.5, 1.4, 0.0)):
    """photutils' Kron flux (first-moment radius in 6 sigma, 2.5 r_k ellipse), vectorised.

    The Kron radius is computed as photutils does (pixel centres inside the
    6-sigma ellipse, neighbours mirrored through the centroid); the flux in
    the Kron ellipse is integrated on a 4x4 sub-pixel grid instead of the
    exact overlap, which changes it by well under a percent.
    """
    n, ny, nx = data.shape
    out = np.full(n, np.nan)
    for start in range(0, n, _CHUNK):
        sl = slice(start, start + _CHUNK)
        out[sl] = _kron_block(data[sl], finite[sl], None if neighbours is None else neighbours[sl],
                              xc[sl], yc[sl], [c[sl] for c in cov], semimajor[sl], semiminor[sl], theta[sl],
                              kron_params)
    return out


def _kron_block(data, finite, neighbours, xc, yc, cov, semimajor, semiminor, theta, kron_params):
    n, ny, nx = data.shape
    cxx_, cyy_, cxy_ = cov
    ok = np.isfinite(xc) & np.isfinite(yc) & np.isfinite(cxx_) & np.isfinite(semimajor) & np.isfinite(semiminor)
    xc = np.where(ok, xc, 0.0)
    yc = np.where(ok, yc, 0.0)
    det = np.where(ok, cxx_ * cyy_ - cxy_ * cxy_, 1.0)
    # Inverse covariance: r^2 = ixx dx^2 + 2 ixy dx dy + iyy dy^2 (photutils' cxx, cxy/2, cyy).
    ixx = np.where(ok, cyy_ / det, 1.0)[:, None, None]
    iyy = np.where(ok, cxx_ / det, 1.0)[:, None, None]
    ixy = np.where(ok, -cxy_ / det, 0.0)[:, None, None]

    values = np.where(finite, data, 0.0)
    if neighbours is not None and neighbours.any():
        # Mirror neighbour pixels through the (rounded) centroid; zero when the
        # mirror pixel is off the image, masked, or itself a neighbour.
        rows, ys, xs = np.nonzero(neighbours)
        xm = 2 * np.floor(xc[rows] + 0.5).astype(np.int64) - xs
        ym = 2 * np.floor(yc[rows] + 0.5).astype(np.int64) - ys
        inside = (xm >= 0) & (xm < nx) & (ym >= 0) & (ym < ny)
        xmc = np.clip(xm, 0, nx - 1)
        ymc = np.clip(ym, 0, ny - 1)
        usable = inside & finite[rows, ymc, xmc] & ~neighbours[rows, ymc, xmc]
        values = values.copy()
        values[rows, ys, xs] = np.where(usable, data[rows, ymc, xmc], 0.0)
        values[~finite] = 0.0

    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    dx = xx[None] - xc[:, None, None]
    dy = yy[None] - yc[:, None, None]
    r = np.sqrt(np.maximum(ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy, 0.0))
    inap = (r <= 6.0) & finite
    num = np.where(inap, values * r, 0.0).sum(axis=(1, 2))
    den = np.where(inap, values, 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        kron_radius = np.where((num <= 0) | (den <= 0), kron_params[1], num / den)
    kron_radius[kron_radius > 6.0] = np.nan
    kron_radius = np.maximum(kron_radius, kron_params[1])
    scale = kron_params[0] * kron_radius  # the Kron ellipse is r <= scale in the same metric

    # Pixels whose centre is further than half a pixel diagonal (in the
    # ellipse metric, at most 0.71 / semiminor) from the Kron ellipse are
    # fully in or out; only the pixels near its edge are sub-sampled.
    scale_ = np.where(np.isfinite(scale), scale, 0.0)[:, None, None]
    margin = (0.71 / np.maximum(np.where(ok, semiminor, 1.0), 1e-3))[:, None, None]
    weight = (r <= scale_ - margin).astype(float)
    edge = np.nonzero(np.abs(r - scale_) < margin)
    if edge[0].size:
        s = _KRON_SUBPIXELS
        offs = (np.arange(s) + 0.5) / s - 0.5
        ex, ey = dx[edge], dy[edge]
        a, b, c = ixx[edge[0], 0, 0], ixy[edge[0], 0, 0], iyy[edge[0], 0, 0]
        lim = scale_[edge[0], 0, 0] ** 2
        count = np.zeros(ex.shape)
        for oy in offs:
            for ox in offs:
                ddx = ex + ox
                ddy = ey + oy
                count += (a * ddx * ddx + 2 * b * ddx * ddy + c * ddy * ddy) <= lim
        weight[edge] = count / (s * s)
    out = (np.where(finite, values, 0.0) * weight).sum(axis=(1, 2))
    out[~(ok & np.isfinite(scale))] = np.nan
    return out
