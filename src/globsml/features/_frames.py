"""The full-frame path: from a pair of HST g/z images to the published table and cut-outs."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS
from scipy.spatial import cKDTree

from .._errors import DataFormatError, GlobsmlError
from ..data._cutouts import check_data_size
from ..data._schema import CUTOUT_SHAPE, FEATURE_TABLE_COLUMNS, SEGMENTATION_COLUMNS
from ._fwhm import gaussian_fwhm
from ._photometry import APERTURE_RADII, aperture_photometry, photometric_columns
from ._segmentation import DETECTION_DEFAULTS

__all__ = ["extract_sources", "make_cutouts", "read_frame", "FRAME_DEFAULTS"]

#: Detection parameters of :func:`extract_sources`: threshold, minimum size
#: and smoothing are those of the cut-out path (:data:`DETECTION_DEFAULTS`),
#: so that a source gets the same features from its frame and its cut-out.
FRAME_DEFAULTS = {"n_sigma": DETECTION_DEFAULTS["n_sigma"], "n_pixels": DETECTION_DEFAULTS["n_pixels"],
                  "kernel_fwhm": DETECTION_DEFAULTS["kernel_fwhm"], "box_size": 32, "match_radius": 1.5}

# photutils 3 names (with photutils.future_column_names) -> published (1.x) names.
_CATALOG_NAMES = {
    "label": ("label",),
    "xcentroid": ("x_centroid", "xcentroid"),
    "ycentroid": ("y_centroid", "ycentroid"),
    "area": ("area",),
    "semimajor_sigma": ("semimajor_axis", "semimajor_sigma"),
    "semiminor_sigma": ("semiminor_axis", "semiminor_sigma"),
    "orientation": ("orientation",),
    "eccentricity": ("eccentricity",),
    "min_value": ("min_value",),
    "max_value": ("max_value",),
    "segment_flux": ("segment_flux",),
    "kron_flux": ("kron_flux",),
}


def read_frame(path):
    """Read a 2-D image, its header and its WCS from a FITS file.

    The first HDU named ``SCI`` is used (HST drizzled products), else the
    first HDU holding a 2-D array. Every header's promised data size is
    checked against the file before any data is read.

    Returns
    -------
    data : numpy.ndarray
        float64 image.
    header : astropy.io.fits.Header
        The header of that HDU (e.g. for the target's name).
    wcs : astropy.wcs.WCS or None
        The celestial WCS of that HDU, None if the header has none.

    Raises
    ------
    DataFormatError
        If the file is missing or unreadable, or holds no 2-D image.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    try:
        with fits.open(path) as hdul:
            for h in hdul:  # before any data is touched: a header may promise more than the file holds
                check_data_size(path, h)
            hdus = [h for h in hdul if h.name == "SCI" and h.data is not None and h.data.ndim == 2]
            hdus = hdus or [h for h in hdul if h.data is not None and getattr(h.data, "ndim", 0) == 2]
            if not hdus:
                raise DataFormatError(f"{path}: no 2-D image in any HDU")
            hdu = hdus[0]
            data = np.array(hdu.data, dtype=float)
            header = hdu.header.copy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wcs = WCS(header)
            wcs = wcs.celestial if wcs.has_celestial else None
    except GlobsmlError:
        raise
    except Exception as exc:
        raise DataFormatError(f"{path}: unreadable FITS image ({exc})") from None
    return data, header, wcs


def make_cutouts(images, x, y, *, size=CUTOUT_SHAPE[1:]):
    """Cut-outs of several aligned images centred on the given positions.

    The cut-out of a source at ``(x, y)`` spans rows ``round(y) - 10 ..
    round(y) + 9`` and the same for columns (the published convention:
    the source sits within half a pixel of pixel (10, 10)); pixels beyond
    the frame are NaN.

    Parameters
    ----------
    images : sequence of numpy.ndarray
        Aligned 2-D images (e.g. g and z), all of one shape.
    x, y : array_like
        Source positions (pixels).
    size : tuple of int, optional
        ``(ny, nx)`` of a cut-out.

    Returns
    -------
    numpy.ndarray
        ``(n, len(images), ny, nx)`` float32.
    """
    images = [np.asarray(im) for im in images]
    ny, nx = images[0].shape
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    hy, hx = size[0] // 2, size[1] // 2
    x0 = np.floor(x + 0.5).astype(np.int64) - hx
    y0 = np.floor(y + 0.5).astype(np.int64) - hy
    cols = x0[:, None] + np.arange(size[1])
    rows = y0[:, None] + np.arange(size[0])
    inside = ((cols >= 0) & (cols < nx))[:, None, :] & ((rows >= 0) & (rows < ny))[:, :, None]
    rc = np.clip(rows, 0, ny - 1)[:, :, None]
    cc = np.clip(cols, 0, nx - 1)[:, None, :]
    out = np.empty((len(x), len(images), *size), dtype=np.float32)
    for b, im in enumerate(images):
        out[:, b] = np.where(inside, im[rc, cc], np.nan)
    return out


def _background(data, valid, box_size):
    from photutils.background import Background2D, MedianBackground

    ny, nx = data.shape
    box = int(min(box_size, ny, nx))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bkg = Background2D(data, box, coverage_mask=~valid, fill_value=0.0, filter_size=(3, 3),
                               bkg_estimator=MedianBackground())
    except ValueError as exc:
        raise GlobsmlError(f"background estimation failed ({exc}); is the image mostly empty?") from None
    return bkg.background, bkg.background_rms


def _detect(data, valid, rms, *, n_sigma, n_pixels, kernel_fwhm, deblend, progress=False):
    from astropy.convolution import convolve
    from photutils.segmentation import deblend_sources, detect_sources, make_2dgaussian_kernel

    size = 2 * int(np.ceil(1.5 * kernel_fwhm)) + 1
    kernel = make_2dgaussian_kernel(kernel_fwhm, size=size)
    conv = convolve(np.where(valid, data, 0.0), kernel, normalize_kernel=True)
    threshold = n_sigma * rms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segm = detect_sources(conv, threshold, n_pixels, mask=~valid)
        if segm is not None and deblend and segm.n_labels > 0:
            segm = deblend_sources(conv, segm, n_pixels, n_levels=32, contrast=0.001, progress_bar=progress)
    return segm


def _catalog(data, valid, segm, wcs, progress=False):
    from photutils.segmentation import SourceCatalog

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat = SourceCatalog(np.where(valid, data, np.nan), segm, mask=~valid, wcs=wcs, progress_bar=progress)
        out = {}
        for name, candidates in _CATALOG_NAMES.items():
            for attr in candidates:
                if hasattr(cat, attr):
                    value = getattr(cat, attr)
                    break
            else:  # pragma: no cover - photutils without either name
                raise GlobsmlError(f"photutils SourceCatalog has none of {candidates}")
            out[name] = np.atleast_1d(np.asarray(getattr(value, "value", value), dtype=float))
        # photutils >= 2 reports [0, 360); the published table uses (-90, 90].
        out["orientation"] = 90.0 - (90.0 - out["orientation"]) % 180.0
        if wcs is not None:
            sky = wcs.pixel_to_world(out["xcentroid"], out["ycentroid"])
            out["sky_centroid.ra"] = np.atleast_1d(sky.ra.deg)
            out["sky_centroid.dec"] = np.atleast_1d(sky.dec.deg)
        else:
            out["sky_centroid.ra"] = np.full(len(out["label"]), np.nan)
            out["sky_centroid.dec"] = np.full(len(out["label"]), np.nan)
    return out


def extract_sources(g_image, z_image, *, wcs=None, ebv=0.0, galaxy="", n_sigma=FRAME_DEFAULTS["n_sigma"],
                    n_pixels=FRAME_DEFAULTS["n_pixels"], deblend=True, edge=10,
                    kernel_fwhm=FRAME_DEFAULTS["kernel_fwhm"], box_size=FRAME_DEFAULTS["box_size"],
                    match_radius=FRAME_DEFAULTS["match_radius"], progress=False):
    """Detect and measure sources on a g/z pair of full frames (the published pipeline).

    Steps, band by band: background and noise maps (photutils
    ``Background2D``, median in ``box_size`` boxes, 3x3 filtered),
    detection on the background-subtracted image smoothed with a Gaussian
    of ``kernel_fwhm`` (``detect_sources`` at ``n_sigma`` times the noise
    map, ``n_pixels`` connected pixels) and deblending
    (``deblend_sources``, 32 levels, contrast 0.001); morphology with
    photutils ``SourceCatalog`` (published column names). Then: removal of
    sources within ``edge`` pixels of the frame or of off-detector pixels,
    cross-match of each g source to the nearest z source within
    ``match_radius`` pixels (one-to-one), aperture photometry in 1, 3, 4
    and 5 pixel radii at each band's centroid, magnitudes with the
    published zero points and extinction, CI/CI4/CI5, colour, the fitted
    ``fwhm``, and 20x20 cut-outs of both bands centred on the g centroid.

    Parameters
    ----------
    g_image, z_image : array_like
        Aligned 2-D images in electrons/s (same shape, same WCS); NaN or
        exactly-zero pixels count as off the detector.
    wcs : astropy.wcs.WCS, optional
        Celestial WCS of the images; gives ``sky_centroid.ra``/``.dec``
        (NaN without it).
    ebv : float, optional
        Galactic E(B-V).
    galaxy : str, optional
        Value of the ``galaxy`` column.
    n_sigma, n_pixels, deblend, kernel_fwhm, box_size : optional
        Detection parameters (see above).
    edge : int, optional
        Sources whose g centroid lies closer than this to the frame edge or
        to an off-detector pixel are removed.
    match_radius : float, optional
        Maximum g-z centroid separation (pixels) of a match.
    progress : bool, optional
        Report each step and show photutils' progress bars (deblending and
        Kron measurements take minutes on a full 4k x 4k ACS frame).

    Returns
    -------
    table : pandas.DataFrame
        Columns :data:`globsml.data.FEATURE_TABLE_COLUMNS`, ``ID`` = 0..n-1.
    cutouts : numpy.ndarray
        ``(n, 2, 20, 20)`` float32 cut-outs of the background-subtracted
        images; frame ``i`` is source ``ID == i``.
    """
    where = f"extract_sources: {galaxy or 'images'}"
    g, z, valid = _check_frames(g_image, z_image, edge=edge, where=where)
    subtracted, cats = {}, {}
    for band, image in (("g", g), ("z", z)):
        subtracted[band], cats[band] = _detect_and_measure(
            image, valid, wcs=wcs, n_sigma=n_sigma, n_pixels=n_pixels, kernel_fwhm=kernel_fwhm,
            box_size=box_size, deblend=deblend, progress=progress, name=f"{galaxy or 'frame'} {band}")
    keep_g, keep_z = _match_bands(cats["g"], cats["z"], valid, edge=edge, match_radius=match_radius)
    return _source_table(cats, keep_g, keep_z, subtracted, ebv=ebv, galaxy=galaxy)


def _check_frames(g_image, z_image, *, edge, where):
    """The two frames as float arrays, checked, and the mask of on-detector pixels."""
    g = np.asarray(g_image, dtype=float)
    z = np.asarray(z_image, dtype=float)
    if g.ndim != 2 or z.ndim != 2:
        raise GlobsmlError(f"{where}: expected 2-D images, got shapes {g.shape} and {z.shape}")
    if g.shape != z.shape:
        raise GlobsmlError(f"{where}: the g image {g.shape} and z image {z.shape} "
                           "must be aligned on the same pixel grid")
    if min(g.shape) < 2 * edge + 20:
        raise GlobsmlError(f"{where}: images of {g.shape} are too small")
    valid = np.isfinite(g) & np.isfinite(z) & (g != 0) & (z != 0)
    if valid.mean() < 0.05:
        raise GlobsmlError(f"{where}: fewer than 5 % of the pixels are on the detector")
    return g, z, valid


def _detect_and_measure(image, valid, *, wcs, n_sigma, n_pixels, kernel_fwhm, box_size, deblend, progress, name):
    """One band: the background-subtracted image and the catalogue of its segments (None without any)."""
    if progress:
        print(f"{name}: background, detection{' and deblending' if deblend else ''}", flush=True)
    bkg, rms = _background(image, valid, box_size)
    sub = np.where(valid, image - bkg, np.nan)
    segm = _detect(sub, valid, rms, n_sigma=n_sigma, n_pixels=n_pixels, kernel_fwhm=kernel_fwhm, deblend=deblend,
                   progress=progress)
    if progress and segm is not None:
        print(f"{name}: {segm.n_labels} segments; measuring them", flush=True)
    cat = None if segm is None or segm.n_labels == 0 else _catalog(sub, valid, segm, wcs, progress=progress)
    return sub, cat


def _match_bands(cat_g, cat_z, valid, *, edge, match_radius):
    """Row positions (in the g and z catalogues) of the matched sources away from edges.

    A g source counts when its centroid lies more than ``edge`` pixels from
    the frame border and from any off-detector pixel; it is matched to the
    nearest z source within ``match_radius`` pixels, one to one (a z source
    claimed by several g sources goes to the nearest).
    """
    keep_g = keep_z = np.empty(0, np.int64)
    if cat_g is None or cat_z is None:
        return keep_g, keep_z
    from scipy import ndimage

    # Edge: distance of each pixel to the frame border or an off-detector pixel.
    ny, nx = valid.shape
    dist = ndimage.distance_transform_edt(np.pad(valid, 1, constant_values=False))[1:-1, 1:-1]
    gx, gy = cat_g["xcentroid"], cat_g["ycentroid"]
    ok = np.isfinite(gx) & np.isfinite(gy)
    ix = np.clip(np.floor(np.nan_to_num(gx) + 0.5).astype(int), 0, nx - 1)
    iy = np.clip(np.floor(np.nan_to_num(gy) + 0.5).astype(int), 0, ny - 1)
    ok &= dist[iy, ix] > edge
    ok &= (gx >= edge) & (gx <= nx - 1 - edge) & (gy >= edge) & (gy <= ny - 1 - edge)
    zx, zy = cat_z["xcentroid"], cat_z["ycentroid"]
    zidx = np.flatnonzero(np.isfinite(zx) & np.isfinite(zy))
    gidx = np.flatnonzero(ok)
    if len(zidx) and len(gidx):
        tree = cKDTree(np.c_[zx[zidx], zy[zidx]])
        d, j = tree.query(np.c_[gx[gidx], gy[gidx]], distance_upper_bound=match_radius)
        hit = np.isfinite(d)
        gi, zi, d = gidx[hit], zidx[j[hit]], d[hit]
        order = np.lexsort((d, zi))
        first = np.ones(len(order), bool)
        first[1:] = zi[order][1:] != zi[order][:-1]
        sel = np.sort(order[first])
        keep_g, keep_z = gi[sel], zi[sel]
    return keep_g, keep_z


def _source_table(cats, keep_g, keep_z, subtracted, *, ebv, galaxy):
    """The published table and the cut-outs of the matched sources.

    Morphology from both bands' catalogues, aperture photometry at each
    band's centroid, magnitudes and colours, cut-outs centred on the g
    centroid and the ``fwhm`` fitted on them.
    """
    n = len(keep_g)
    cols = {}
    for c in (*SEGMENTATION_COLUMNS, "sky_centroid.ra", "sky_centroid.dec"):
        cols[c] = cats["g"][c][keep_g] if n else np.empty(0)
        if c in SEGMENTATION_COLUMNS:
            cols[c + "_z"] = cats["z"][c][keep_z] if n else np.empty(0)
    flux_g = aperture_photometry(subtracted["g"], cols["xcentroid"], cols["ycentroid"], APERTURE_RADII)
    flux_z = aperture_photometry(subtracted["z"], cols["xcentroid_z"], cols["ycentroid_z"], APERTURE_RADII)
    cols.update(photometric_columns(flux_g, flux_z, ebv=ebv))
    cutouts = make_cutouts([subtracted["g"], subtracted["z"]], cols["xcentroid"], cols["ycentroid"])
    if n:
        cx = cols["xcentroid"] - np.floor(cols["xcentroid"] + 0.5) + CUTOUT_SHAPE[2] // 2
        cy = cols["ycentroid"] - np.floor(cols["ycentroid"] + 0.5) + CUTOUT_SHAPE[1] // 2
        cols["fwhm"], cols["e_fwhm"] = gaussian_fwhm(cutouts[:, 0].astype(float), cx, cy)
    else:
        cols["fwhm"] = cols["e_fwhm"] = np.empty(0)
    cols["ID"] = np.arange(n, dtype=np.int64)
    cols["galaxy"] = np.full(n, str(galaxy), dtype=object)
    table = pd.DataFrame({c: cols[c] for c in FEATURE_TABLE_COLUMNS})
    table["galaxy"] = table["galaxy"].astype(str)
    for c in ("label", "label_z"):
        table[c] = table[c].astype(np.int64)
    return table, cutouts
