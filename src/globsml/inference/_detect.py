"""Full frames in, candidates out: detection, features, cut-outs and prediction in one step."""

import re
from pathlib import Path

import numpy as np

from .._checks import check_file_name, check_threshold
from .._errors import DataFormatError, GlobsmlError
from .._io import atomic_path
from .._paths import check_output_dir, is_inside
from ..data import IMAGE_DIRNAME, IMAGE_SUFFIX, write_cutouts
from ._bundle import load_bundle
from ._catalogue import catalogue_format, catalogue_provenance, write_catalogue
from ._predict import catalogue_frame

__all__ = ["detect_candidates"]


def _galaxy_name(header, path):
    name = header.get("OBJECT") or header.get("TARGNAME") or Path(path).stem
    name = re.sub(r"[^A-Za-z0-9_+-]", "", str(name).replace(" ", ""))
    return name or "galaxy"


def detect_candidates(g_image, z_image, *, bundle, out, galaxy=None, ebv=0.0, threshold=None,
                      catalogue_name="candidates.csv"):
    """Detect sources in a g/z frame pair and write sources, cut-outs and candidates.

    Parameters
    ----------
    g_image, z_image : str or Path
        FITS frames in F475W (g) and F850LP (z), same pixel grid; the WCS of
        the g frame gives ``sky_centroid.ra/dec``.
    bundle : Bundle, str or Path
        A bundle, its path, or a published network's name.
    out : str or Path
        Output directory: ``<galaxy>_sources.csv`` (the feature table),
        ``ImageData/<galaxy>_images.fits`` (cut-outs) and the catalogue.
    galaxy : str, optional
        Name of the galaxy (the header's OBJECT, or the file name, by default).
    ebv : float
        Galactic E(B-V) for the extinction correction of the magnitudes.
    threshold : float, optional
        The bundle's threshold by default.
    catalogue_name : str
        File name of the catalogue in ``out`` (its extension chooses the format).

    Returns
    -------
    dict
        Paths (``sources``, ``cutouts``, ``catalogue``) and the catalogue
        (``catalogue_frame``).
    """
    from ..features import extract_sources, read_frame

    # options first: nothing computed before a mistake in them is found
    if threshold is not None:
        threshold = check_threshold(threshold)
    catalogue_format(check_file_name(catalogue_name, "catalogue name"))
    if galaxy is not None:
        check_file_name(galaxy, "galaxy name")
    check_output_dir(out, option="out")
    bundle = load_bundle(bundle)
    g, g_header, wcs = read_frame(g_image)
    z, _, _ = read_frame(z_image)
    if g.shape != z.shape:
        raise DataFormatError(f"{g_image} is {g.shape}, {z_image} is {z.shape}: the frames must share one pixel grid")
    galaxy = check_file_name(galaxy or _galaxy_name(g_header, g_image), f"{g_image}: galaxy name")
    table, cutouts = extract_sources(g, z, wcs=wcs, ebv=ebv, galaxy=galaxy)
    if len(table) == 0:
        raise GlobsmlError(f"{g_image}: no sources detected")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in (f"{galaxy}_sources.csv", f"{IMAGE_DIRNAME}/{galaxy}{IMAGE_SUFFIX}", catalogue_name):
        if not is_inside(out / name, out):  # a symlink in OUT pointing elsewhere
            raise GlobsmlError(f"{out / name}: resolves outside {out}; refusing to write through the link")
    sources_path = out / f"{galaxy}_sources.csv"
    with atomic_path(sources_path) as tmp:
        table.to_csv(tmp, index=False)
    cutouts_path = out / IMAGE_DIRNAME / f"{galaxy}{IMAGE_SUFFIX}"
    write_cutouts(cutouts_path, np.asarray(cutouts, dtype=np.float32))
    inputs = np.asarray(cutouts, dtype=np.float32) if bundle.input == "images" else table
    p, std = bundle.predict_proba(inputs, return_std=True)
    threshold = bundle.threshold if threshold is None else float(threshold)
    cat = catalogue_frame(table, p, threshold, p_gc_std=std)
    meta = catalogue_provenance(bundle, threshold=threshold, data=f"{g_image} + {z_image}")
    cat_path = write_catalogue(cat, out / catalogue_name, meta=meta)
    return {"sources": sources_path, "cutouts": cutouts_path, "catalogue": cat_path, "catalogue_frame": cat}
