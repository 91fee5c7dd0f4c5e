import numpy as np
import pytest
from photutils.aperture import CircularAperture
from photutils.aperture import aperture_photometry as pu_aperture_photometry

from globsml import GlobsmlError
from globsml.features import APERTURE_RADII, aperture_photometry, circular_overlap, magnitudes, photometric_columns


def _photutils(image, x, y, r, method="exact", mask=None):
    t = pu_aperture_photometry(image, CircularAperture(np.c_[x, y], r=r), method=method, mask=mask)
    return np.asarray(t["aperture_sum"], dtype=float)


@pytest.mark.parametrize("method", ["exact", "center"])
def test_matches_photutils_on_one_image(method):
    rng = np.random.default_rng(0)
    image = rng.normal(5.0, 1.0, (40, 50))
    # Positions inside, straddling the edges and fully off the image.
    x = rng.uniform(-7, 57, 300)
    y = rng.uniform(-7, 47, 300)
    ours = aperture_photometry(image, x, y, APERTURE_RADII, method=method)
    for j, r in enumerate(APERTURE_RADII):
        ref = _photutils(image, x, y, r, method)
        np.testing.assert_array_equal(np.isnan(ours[:, j]), np.isnan(ref))
        assert np.nanmax(np.abs(ours[:, j] - ref)) < 1e-9


def test_stack_with_nan_matches_photutils_with_mask():
    rng = np.random.default_rng(1)
    stack = rng.normal(0.1, 0.05, (30, 20, 20))
    stack[::3, :, :4] = np.nan  # off-detector strips
    x = 10 + rng.uniform(-0.5, 0.5, 30)
    y = 10 + rng.uniform(-0.5, 0.5, 30)
    ours = aperture_photometry(stack, x, y, [1.0, 3.0, 5.0, 7.5])
    for k in range(30):
        for j, r in enumerate([1.0, 3.0, 5.0, 7.5]):
            ref = _photutils(stack[k], [x[k]], [y[k]], r, mask=~np.isfinite(stack[k]))[0]
            assert abs(ours[k, j] - ref) < 1e-10
    assert np.all(np.isfinite(ours))


def test_overlap_areas():
    # A disc fully inside a big rectangle, and the four quadrants of it.
    assert circular_overlap(-10, 10, -10, 10, 2.0) == pytest.approx(np.pi * 4, rel=1e-12)
    assert circular_overlap(0, 10, 0, 10, 2.0) == pytest.approx(np.pi, rel=1e-12)
    # Unit pixel at the centre of a big circle is fully covered.
    assert circular_overlap(-0.5, 0.5, -0.5, 0.5, 3.0) == pytest.approx(1.0, rel=1e-12)
    # Sum of the overlaps of a pixel grid is the disc area.
    e = np.arange(-6, 7) - 0.3
    w = circular_overlap(e[None, :-1], e[None, 1:], e[:-1, None], e[1:, None], 4.2)
    assert w.sum() == pytest.approx(np.pi * 4.2 ** 2, rel=1e-12)


def test_bad_input_raises():
    with pytest.raises(GlobsmlError, match="radii"):
        aperture_photometry(np.zeros((5, 5)), [1], [1], [-1])
    with pytest.raises(GlobsmlError, match="one position per image"):
        aperture_photometry(np.zeros((3, 5, 5)), [1, 2], [1, 2], [1])
    with pytest.raises(GlobsmlError, match="method"):
        aperture_photometry(np.zeros((5, 5)), [1], [1], [1], method="subpixel")


def test_magnitudes():
    m = magnitudes([1.0, 10.0, 0.0, -1.0, np.nan], "g", ebv=0.1)
    assert m[0] == pytest.approx(26.068 - 0.3634)
    assert m[1] == pytest.approx(26.068 - 2.5 - 0.3634)
    assert np.all(np.isnan(m[2:]))
    assert magnitudes(1.0, "z") == pytest.approx(24.871)
    with pytest.raises(GlobsmlError, match="band"):
        magnitudes(1.0, "r")


def test_photometric_columns():
    fg = np.array([[1.0, 3.0, 3.5, 4.0], [0.0, 1.0, 1.0, 1.0]])
    fz = np.array([[2.0, 5.0, 6.0, 7.0], [1.0, 2.0, 2.0, -1.0]])
    c = photometric_columns(fg, fz, ebv=0.0)
    assert c["CI_g"][0] == pytest.approx(2.5 * np.log10(3.0))
    assert c["CI5_z"][0] == pytest.approx(2.5 * np.log10(3.5))
    assert c["colour"][0] == pytest.approx(c["m3_g"][0] - c["m3_z"][0])
    assert np.isnan(c["CI_g"][1]) and np.isnan(c["m5_z"][1]) and np.isfinite(c["m3_g"][1])
    assert not any(np.isinf(v).any() for v in c.values())
