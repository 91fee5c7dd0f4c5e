"""Reading and writing cut-out files (``ImageData/<galaxy>_images.fits``)."""

import math
import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from .._errors import DataFormatError
from .._io import atomic_path
from ._schema import CUTOUT_SHAPE, IMAGE_SUFFIX

__all__ = ["read_cutouts", "cutout_count", "write_cutouts", "galaxy_of_image_file", "image_files"]


def galaxy_of_image_file(path):
    """Return the galaxy name of ``<galaxy>_images.fits``."""
    name = Path(path).name
    if not name.endswith(IMAGE_SUFFIX):
        raise DataFormatError(f"{path}: expected a file named <galaxy>{IMAGE_SUFFIX}")
    return name[: -len(IMAGE_SUFFIX)]


def image_files(directory):
    """Map galaxy name to cut-out file for every ``*_images.fits`` in ``directory``."""
    directory = Path(directory)
    return {galaxy_of_image_file(p): p for p in sorted(directory.glob(f"*{IMAGE_SUFFIX}"))}


def _open_hdu(path):
    try:
        hdul = fits.open(path, memmap=True, lazy_load_hdus=False)
    except Exception as exc:  # astropy raises OSError, ValueError, TypeError...
        raise DataFormatError(f"{path}: unreadable FITS file ({exc})") from None
    if len(hdul) < 2:
        hdul.close()
        raise DataFormatError(f"{path}: expected the cut-outs in HDU 1, the file has {len(hdul)} HDU(s)")
    return hdul


def check_data_size(path, hdu):
    """Refuse an HDU whose header promises more data than the file holds, before any of it is read.

    A hostile or truncated header (NAXIS1 = NAXIS2 = 100000) would otherwise
    make the reader allocate the array it promises. Compressed files
    (``.fits.gz``) are left to the reader.

    Raises
    ------
    DataFormatError
    """
    info = hdu.fileinfo()
    if info is None or getattr(info.get("file"), "compression", None):
        return
    header = hdu.header
    shape = tuple(int(header.get(f"NAXIS{i}", 0)) for i in range(int(header.get("NAXIS", 0)), 0, -1))
    n_bytes = math.prod(shape) * abs(int(header.get("BITPIX", 8))) // 8 if shape else 0
    needed = info["datLoc"] + n_bytes
    size = os.stat(path).st_size
    if size < needed:
        raise DataFormatError(
            f"{path}: truncated file: {size:,} bytes, the header promises an array of shape "
            f"{shape} ending at byte {needed:,}"
        )


def _check_header(path, header):
    naxis = header.get("NAXIS", 0)
    shape = tuple(header.get(f"NAXIS{i}", 0) for i in range(naxis, 0, -1))
    if len(shape) != 4 or shape[1:] != CUTOUT_SHAPE:
        raise DataFormatError(
            f"{path}: cut-out array has shape {shape}, expected (n_sources, {', '.join(map(str, CUTOUT_SHAPE))})"
        )
    if header.get("BITPIX") not in (-32, -64):
        raise DataFormatError(
            f"{path}: cut-out array has BITPIX {header.get('BITPIX')}, expected floating point (-32 or -64)"
        )
    return shape


def cutout_count(path):
    """Number of sources in a cut-out file, read from its header only.

    Raises
    ------
    DataFormatError
        If the file is unreadable or its HDU 1 is not an (n, 2, 20, 20)
        floating-point array.
    """
    with _open_hdu(path) as hdul:
        return _check_header(path, hdul[1].header)[0]


def read_cutouts(path, *, memmap=True):
    """Read the (n, 2, 20, 20) cut-out array of one galaxy.

    Parameters
    ----------
    path : str or Path
        A ``<galaxy>_images.fits`` file.
    memmap : bool, optional
        Map the file instead of reading it, so that only the frames that
        are used are read from disk.

    Returns
    -------
    numpy.ndarray
        Band 0 is F475W (g), band 1 F850LP (z); frame ``i`` is source ``ID == i``.
        With ``memmap=True`` the array is a read-only big-endian view of the file.

    Raises
    ------
    DataFormatError
        If the file is unreadable, truncated or holds the wrong array.
    """
    hdul = _open_hdu(path)
    try:
        shape = _check_header(path, hdul[1].header)
        check_data_size(path, hdul[1])
        try:
            data = hdul[1].data if memmap else np.array(hdul[1].data)
        except Exception as exc:
            raise DataFormatError(f"{path}: cannot read the cut-out array ({exc})") from None
        if data is None or data.shape != shape:
            raise DataFormatError(f"{path}: truncated file, the header promises {shape}")
    except DataFormatError:
        hdul.close()
        raise
    if not memmap:
        hdul.close()
    return data


def write_cutouts(path, cutouts):
    """Write an (n, 2, 20, 20) array as a published-format cut-out file, atomically."""
    cutouts = np.asarray(cutouts)
    if cutouts.ndim != 4 or cutouts.shape[1:] != CUTOUT_SHAPE:
        raise ValueError(f"cut-outs must have shape (n, 2, 20, 20), got {cutouts.shape}")
    if not np.issubdtype(cutouts.dtype, np.floating):
        raise ValueError(f"cut-outs must be floating point, got {cutouts.dtype}")
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cutouts)])
    with atomic_path(path) as tmp:
        hdul.writeto(tmp, overwrite=True)
