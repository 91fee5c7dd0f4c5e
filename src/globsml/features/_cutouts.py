"""Features of images-only data: the published table computed from 20x20 cut-outs."""

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from ..data._schema import CUTOUT_SHAPE, FEATURE_TABLE_COLUMNS, SEGMENTATION_COLUMNS
from ._fwhm import gaussian_fwhm
from ._photometry import APERTURE_RADII, aperture_photometry, photometric_columns
from ._segmentation import DETECTION_DEFAULTS, kron_flux_of, segment_properties

__all__ = ["cutout_features", "cutout_features_later", "directory_features", "LATER_COLUMNS"]

_BLOCK = 4096  # cut-outs per block: bounds memory, drives the progress bar


def cutout_features(cutouts, *, galaxy="", ids=None, ebv=0.0, progress=False, **detection):
    """The published feature table computed from cut-outs alone.

    For each (2, 20, 20) cut-out pair (g, z) the source at the cut-out centre
    is segmented in each band (:func:`segment_properties`), its segmentation
    morphology is measured as photutils ``SourceCatalog`` does, and aperture
    photometry in 1, 3, 4 and 5 pixel radii is done at that band's
    segment centroid, giving m3/m4/m5, CI/CI4/CI5 and the colour exactly as
    the published pipeline defines them.

    Parameters
    ----------
    cutouts : array_like
        ``(n, 2, 20, 20)`` cut-outs in the published format (band 0 = g,
        band 1 = z, electrons/s, background-subtracted, NaN off the
        detector).
    galaxy : str, optional
        Value of the ``galaxy`` column.
    ids : array_like of int, optional
        Value of the ``ID`` column (default ``0 .. n-1``, the frame index).
    ebv : float or array_like, optional
        Galactic E(B-V) for the extinction correction (one value or one per
        cut-out).
    progress : bool, optional
        Show a progress bar.
    **detection
        Overrides of the detection parameters in
        :data:`~globsml.features.DETECTION_DEFAULTS`.

    Returns
    -------
    pandas.DataFrame
        Exactly the columns of :data:`globsml.data.FEATURE_TABLE_COLUMNS`, in
        order, one row per cut-out.

    Notes
    -----
    Columns that have a different meaning without the full frame:

    * ``xcentroid``, ``ycentroid`` (and ``_z``) are in cut-out pixel
      coordinates (the source sits near (10, 10)), not frame coordinates;
      ``sky_centroid.ra``/``.dec`` are NaN (cut-outs carry no WCS).
    * ``label``/``label_z`` number the segment within the cut-out's own
      segmentation (1 = first in raster order), 0 when nothing was
      detected within ``search_radius`` of the centre; the morphology is
      then that of the central 3x3 pixels.
    * ``fwhm``/``e_fwhm``: FWHM of a circular Gaussian fitted to the g
      band and its uncertainty, 0 when the fit failed (see
      :func:`~globsml.features.gaussian_fwhm`).

    Segmentation (per band, on the cut-out alone): background level and
    noise from the sigma-clipped 3-pixel border, detection at ``n_sigma``
    (2.5) times the noise on the image smoothed with a Gaussian of FWHM 2
    px, segments of at least 3 pixels, deblending as photutils
    ``deblend_sources`` does (same segment areas as photutils for 99 % of
    the real cut-outs tried), and the segment under or nearest to pixel
    (10, 10). The thresholds were chosen so that the area and min_value
    distributions resemble the published table's; the published values
    themselves came from the full frames, so they differ source by source.
    """
    return _cutout_features(cutouts, galaxy=galaxy, ids=ids, ebv=ebv, progress=progress, detection=detection)[0]


#: The columns :func:`cutout_features_later` leaves for later: the fitted
#: FWHM and the Kron fluxes, a third of the cost of the features.
LATER_COLUMNS = ("fwhm", "e_fwhm", "kron_flux", "kron_flux_z")


def cutout_features_later(cutouts, *, galaxy="", ids=None, ebv=0.0, **detection):
    """:func:`cutout_features` without :data:`LATER_COLUMNS`, which are measured afterwards for chosen rows.

    For a caller that needs the costly columns for a few of many cut-outs
    only (the mock survey measures every candidate source and keeps one
    in six).

    Parameters
    ----------
    cutouts, galaxy, ids, ebv, **detection
        As for :func:`cutout_features`.

    Returns
    -------
    table : pandas.DataFrame
        The :func:`cutout_features` table, with NaN in :data:`LATER_COLUMNS`.
    finish : callable
        ``finish(rows)`` returns ``table.iloc[rows]`` (index reset) with
        :data:`LATER_COLUMNS` measured: the same numbers as
        :func:`cutout_features` gives for those rows (each of those
        columns depends on its own cut-out alone). It reads ``cutouts``
        again, which must not change in between.
    """
    cutouts = np.asarray(cutouts)
    table, states = _cutout_features(cutouts, galaxy=galaxy, ids=ids, ebv=ebv, progress=False,
                                     detection=detection, later=True)

    def finish(rows):
        rows = np.asarray(rows, dtype=np.int64)
        out = table.iloc[rows].reset_index(drop=True)
        block = rows // _BLOCK
        for k in np.unique(block):
            at = np.flatnonzero(block == k)
            local = rows[at] - k * _BLOCK
            images = np.asarray(cutouts[rows[at]], dtype=float)
            for name, values in _later_columns(images, states[k], local).items():
                out.loc[at, name] = values
        return out

    return table, finish


def _cutout_features(cutouts, *, galaxy, ids, ebv, progress, detection, later=False):
    cutouts = np.asarray(cutouts)
    if cutouts.ndim != 4 or cutouts.shape[1:] != CUTOUT_SHAPE:
        raise GlobsmlError(
            f"cutout_features: cut-outs of {galaxy or 'the input'} have shape {cutouts.shape}, "
            f"expected (n, {', '.join(map(str, CUTOUT_SHAPE))})")
    if not np.issubdtype(cutouts.dtype, np.number):
        raise GlobsmlError(f"cutout_features: cut-outs of {galaxy or 'the input'} are not numeric ({cutouts.dtype})")
    unknown = set(detection) - set(DETECTION_DEFAULTS)
    if unknown:
        raise GlobsmlError(f"cutout_features: unknown detection parameter(s) {sorted(unknown)}; "
                           f"known: {sorted(DETECTION_DEFAULTS)}")
    n = len(cutouts)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    if ids.shape != (n,):
        raise GlobsmlError(f"cutout_features: {galaxy or 'input'}: {len(ids)} IDs for {n} cut-outs")
    ebv = np.broadcast_to(np.asarray(ebv, dtype=float), (n,)) if np.ndim(ebv) == 0 else np.asarray(ebv, dtype=float)
    if ebv.shape != (n,):
        raise GlobsmlError(f"cutout_features: {galaxy or 'input'}: {ebv.shape[0]} E(B-V) values for {n} cut-outs")

    blocks = range(0, n, _BLOCK)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=galaxy or "cut-outs", unit="src", leave=False)
    parts = []
    for start in blocks:
        stop = min(start + _BLOCK, n)
        parts.append(_block_features(np.asarray(cutouts[start:stop], dtype=float), ebv[start:stop], detection,
                                     later=later))
        if progress:
            bar.update(stop - start)
    if progress:
        bar.close()
    states = [p.pop("_later") for p in parts] if later else None
    cols = {k: np.concatenate([p[k] for p in parts]) if parts else np.empty(0) for k in _computed_columns()}
    cols["ID"] = ids.astype(np.int64)
    cols["galaxy"] = np.full(n, str(galaxy), dtype=object)
    cols["sky_centroid.ra"] = np.full(n, np.nan)
    cols["sky_centroid.dec"] = np.full(n, np.nan)
    table = pd.DataFrame({c: cols[c] for c in FEATURE_TABLE_COLUMNS})
    table["galaxy"] = table["galaxy"].astype(str)
    for c in ("label", "label_z"):
        table[c] = table[c].astype(np.int64)
    return table, states


def _computed_columns():
    skip = {"ID", "galaxy", "sky_centroid.ra", "sky_centroid.dec"}
    return [c for c in FEATURE_TABLE_COLUMNS if c not in skip]


def _block_features(block, ebv, detection, *, later=False):
    """The computed columns of one block; with ``later`` NaN in LATER_COLUMNS and what measures them in ``_later``."""
    cols = {}
    fluxes = {}
    state = []
    for b, band in enumerate(("g", "z")):
        props = segment_properties(block[:, b], kron=not later, **detection)
        suffix = "" if band == "g" else "_z"
        for c in SEGMENTATION_COLUMNS:
            cols[c + suffix] = props[c]
        fluxes[band] = aperture_photometry(block[:, b], props["xcentroid"], props["ycentroid"], APERTURE_RADII)
        if later:
            state.append({k: props[k] for k in ("xcentroid", "ycentroid", "neighbours", "kron_inputs")})
            if band == "g":
                cols["fwhm"], cols["e_fwhm"] = np.full(len(block), np.nan), np.full(len(block), np.nan)
        elif band == "g":
            cols["fwhm"], cols["e_fwhm"] = gaussian_fwhm(block[:, 0], props["xcentroid"], props["ycentroid"])
    cols.update(photometric_columns(fluxes["g"], fluxes["z"], ebv=ebv))
    if later:
        cols["_later"] = state
    return cols


def _later_columns(images, state, rows):
    """LATER_COLUMNS of ``rows`` of a block measured with ``later``; ``images`` (len(rows), 2, ny, nx) are theirs."""
    g, z = state
    fwhm, e_fwhm = gaussian_fwhm(images[:, 0], g["xcentroid"][rows], g["ycentroid"][rows])
    return {"fwhm": fwhm, "e_fwhm": e_fwhm, "kron_flux": kron_flux_of(images[:, 0], g, rows),
            "kron_flux_z": kron_flux_of(images[:, 1], z, rows)}


def directory_features(directory, *, ebv=0.0, progress=True, **detection):
    """:func:`cutout_features` of every galaxy of an images-only directory, as one table.

    Parameters
    ----------
    directory : str or Path
        A directory of ``<galaxy>_images.fits`` files, or a data directory
        holding them in ``ImageData/``.
    ebv : float or dict, optional
        E(B-V) for all galaxies, or a mapping galaxy -> E(B-V) (galaxies
        not in it get 0).
    progress : bool, optional
        Show one progress bar per galaxy.
    **detection
        Detection parameters passed on to :func:`cutout_features`.

    Returns
    -------
    pandas.DataFrame
        The published feature-table columns, galaxies in name order, ``ID``
        = frame index within each galaxy.
    """
    from pathlib import Path

    from ..data import image_files, read_cutouts
    from ..data._schema import IMAGE_DIRNAME

    directory = Path(directory)
    if not directory.is_dir():
        raise GlobsmlError(f"{directory}: no such directory")
    files = image_files(directory)
    if not files and (directory / IMAGE_DIRNAME).is_dir():
        files = image_files(directory / IMAGE_DIRNAME)
    if not files:
        raise GlobsmlError(f"{directory}: no <galaxy>_images.fits files here or in {IMAGE_DIRNAME}/")
    tables = []
    for galaxy, path in files.items():
        e = ebv.get(galaxy, 0.0) if isinstance(ebv, dict) else ebv
        tables.append(cutout_features(read_cutouts(path), galaxy=galaxy, ebv=e, progress=progress, **detection))
    return pd.concat(tables, ignore_index=True)
