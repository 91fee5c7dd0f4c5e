"""FITS files whose header promises more data than the file holds are refused before anything is allocated."""

import numpy as np
import pytest
from astropy.io import fits

from globsml import DataFormatError
from globsml.data import read_cutouts, validate


def _hostile(path, shape, bitpix=-64, extension=False, data_bytes=2880):
    """A header that claims ``shape`` (tens of GB), followed by a few blocks of data."""
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = bitpix if not extension else 8
    header["NAXIS"] = 0 if extension else len(shape)
    if not extension:
        for i, n in enumerate(reversed(shape), start=1):
            header[f"NAXIS{i}"] = n
    blocks = header.tostring().encode()
    if extension:
        ext = fits.Header()
        ext["XTENSION"] = "IMAGE"
        ext["BITPIX"] = bitpix
        ext["NAXIS"] = len(shape)
        for i, n in enumerate(reversed(shape), start=1):
            ext[f"NAXIS{i}"] = n
        ext["PCOUNT"] = 0
        ext["GCOUNT"] = 1
        blocks += ext.tostring().encode()
    path.write_bytes(blocks + b"\0" * data_bytes)
    return path


#: (reader, claimed shape, extension HDU?)
CASES = {
    "frame (features.read_frame)": ("features", (60000, 60000), False),
    "frame in an extension": ("features", (50000, 70000), True),
    "cut-outs (read_cutouts, memmap=False)": ("cutouts", (10_000_000, 2, 20, 20), True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_header_promising_more_than_the_file_is_refused(tmp_path, case):
    reader, shape, extension = CASES[case]
    path = _hostile(tmp_path / "FCC1_images.fits", shape, bitpix=-32 if reader == "cutouts" else -64,
                    extension=extension)
    if reader == "features":
        from globsml.features import read_frame

        call = lambda: read_frame(path)  # noqa: E731
    else:
        call = lambda: read_cutouts(path, memmap=False)  # noqa: E731
    with pytest.raises(DataFormatError, match=r"truncated file: [\d,]+ bytes, the header promises an array of shape"):
        call()


def test_validate_reports_the_same_line(tmp_path):
    (tmp_path / "ImageData").mkdir()
    _hostile(tmp_path / "ImageData" / "FCC1_images.fits", (10_000_000, 2, 20, 20), bitpix=-32, extension=True)
    report = validate(tmp_path)
    assert any("truncated file" in p and "promises an array of shape (10000000, 2, 20, 20)" in p
               for p in report.problems), report.problems


def test_an_honest_file_still_reads(tmp_path):
    from globsml.data import write_cutouts

    cut = np.ones((3, 2, 20, 20), np.float32)
    write_cutouts(tmp_path / "FCC1_images.fits", cut)
    np.testing.assert_array_equal(read_cutouts(tmp_path / "FCC1_images.fits", memmap=False), cut)
