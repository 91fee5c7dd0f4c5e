"""Rendering: fluxes, positions and sizes of rendered sources; noise and NaN regions."""

import numpy as np
import pytest

from globsml.mock._profiles import king_core_radius, king_profile, sersic_profile
from globsml.mock._render import (
    KING,
    POINT,
    SERSIC,
    STAMP,
    _separable_weight,
    add_noise,
    add_templates,
    background_noise,
    noise_acf,
    apply_nan_regions,
    render_stamps,
)


def _moments(img):
    yy, xx = np.mgrid[0 : img.shape[-2], 0 : img.shape[-1]]
    tot = img.sum()
    cx, cy = (img * xx).sum() / tot, (img * yy).sum() / tot
    r2 = (img * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / tot
    return tot, cx, cy, r2


def test_point_and_king_sources_keep_flux_and_position():
    kind = np.array([POINT, KING, KING])
    dx = np.array([0.3, -0.2, 0.0])
    dy = np.array([-0.4, 0.1, 0.0])
    params = np.array([[0, 0, 0, 0], [0.6, 30, 0, 0], [2.5, 30, 0, 0]], float)
    flux = np.array([[10.0, 5.0], [10.0, 5.0], [10.0, 5.0]])
    stamps = render_stamps(kind, dx, dy, params, flux)
    assert stamps.shape == (3, 2, STAMP, STAMP)
    ref = STAMP // 2
    r2 = []
    for i in range(3):
        for band, f in enumerate((10.0, 5.0)):
            tot, cx, cy, m2 = _moments(stamps[i, band])
            assert tot == pytest.approx(f, rel=0.05)
            assert cx == pytest.approx(ref + dx[i], abs=0.1)
            assert cy == pytest.approx(ref + dy[i], abs=0.1)
        r2.append(_moments(stamps[i, 0])[3])
    # a bigger GC is more extended than a small one, which is more than a star
    assert r2[0] < r2[1] < r2[2]


def test_sersic_is_normalised_and_elliptical():
    yy, xx = np.mgrid[-60:60:0.25, -60:60:0.25]
    prof = sersic_profile(xx, yy, 3.0, 1.0, 0.5, 0.0)
    assert prof.sum() * 0.25**2 == pytest.approx(1.0, rel=0.02)
    # elongated along x
    assert (prof * xx**2).sum() > 2 * (prof * yy**2).sum()
    stamps = render_stamps(np.array([SERSIC]), np.zeros(1), np.zeros(1), np.array([[2.0, 1.0, 0.5, 0.0]]),
                           np.array([[1.0, 1.0]]))
    assert 0.8 < stamps[0, 0].sum() <= 1.0


@pytest.mark.parametrize("r_half, concentration", [(3.0, 30.0), (2.0, 10.0), (4.0, 100.0)])
def test_king_half_light_radius(r_half, concentration):
    # Half the light of the rendered profile falls inside r_half (summed on a fine grid out to r_t).
    r_tidal = concentration * king_core_radius(r_half, concentration)
    s = np.arange(-r_tidal, r_tidal, 0.04) + 0.02
    profile = king_profile(s[None, :], s[:, None], r_half, concentration)
    inside = np.hypot(s[None, :], s[:, None]) < r_half
    assert profile[inside].sum() / profile.sum() == pytest.approx(0.5, abs=0.005)
    # Not so for another radius: the test sees the radius.
    assert profile[np.hypot(s[None, :], s[:, None]) < 0.8 * r_half].sum() / profile.sum() < 0.45


def test_noise_level_and_correlation():
    rng = np.random.default_rng(1)
    n = 4000
    model = np.zeros((n, 2, 20, 20))
    sigma = np.full((n, 2), 0.01)
    models = [(0.3, 0.15, 2.0), (0.0, 0.0, 1.0)]
    out = add_noise(model, sigma, (750.0, 1210.0), models, np.zeros((n, 2)), np.zeros((n, 2, 2)), rng)
    assert out[:, 0].std() == pytest.approx(0.01, rel=0.03)
    acf = noise_acf(0.3, 0.15, 2.0, half=3)
    for lag in (1, 2, 3):
        got = np.mean(out[:, 0, :, lag:] * out[:, 0, :, :-lag]) / out[:, 0].var()
        assert got == pytest.approx(acf[3, 3 + lag], abs=0.03)
        got_y = np.mean(out[:, 0, lag:, :] * out[:, 0, :-lag, :]) / out[:, 0].var()
        assert got_y == pytest.approx(acf[3 + lag, 3], abs=0.03)
    # the smooth part keeps correlation at lag 3 that the drizzle kernel alone has not
    assert acf[3, 6] > 0.05 > noise_acf(0.3, 0.0, 2.0, half=3)[3, 6]
    lag_z = np.mean(out[:, 1, :, 1:] * out[:, 1, :, :-1]) / out[:, 1].var()
    assert abs(lag_z) < 0.03
    assert _separable_weight(0.0) == 0.0


def test_smooth_share_per_cutout_and_common_to_both_bands():
    rng = np.random.default_rng(2)
    n = 3000
    share = np.where(np.arange(n) < n // 2, 0.0, 0.8)
    f = background_noise(n, 0.25, share, 2.0, rng)
    assert f.std() == pytest.approx(1.0, rel=0.03)
    lag2 = [np.mean(f[s, :, 2:] * f[s, :, :-2]) / f[s].var() for s in (slice(0, n // 2), slice(n // 2, n))]
    assert lag2[0] == pytest.approx(noise_acf(0.25, 0.0, 2.0, half=3)[3, 5], abs=0.02)
    assert lag2[1] == pytest.approx(noise_acf(0.25, 0.8, 2.0, half=3)[3, 5], abs=0.04)
    # bands: independent unless the smooth part is shared
    model, sigma = np.zeros((n, 2, 20, 20)), np.full((n, 2), 1.0)
    models = [(0.25, 0.8, 2.0), (0.25, 0.8, 2.5)]
    for common, lo, hi in ((0.0, -0.03, 0.03), (0.8, 0.5, 0.7)):
        out = add_noise(model, sigma, (1e9, 1e9), models, np.zeros((n, 2)), np.zeros((n, 2, 2)), rng,
                        common_share=common)
        gz = np.mean(out[:, 0] * out[:, 1]) / np.sqrt(out[:, 0].var() * out[:, 1].var())
        assert lo < gz < hi, (common, gz)


def test_templates_land_at_their_offsets():
    bank = render_stamps(np.array([POINT]), np.zeros(1), np.zeros(1), np.zeros((1, 4)), np.ones((1, 2)))
    cut = np.zeros((3, 2, 20, 20))
    add_templates(cut, bank, np.array([1, 2, 0]), np.array([0, 0, 0]),
                  np.array([[2.0, 1.0], [1.0, 1.0], [3.0, 0.5]]), np.array([[-5, 3], [30, 0], [0, 0]]))
    # the second copy lies wholly outside its cut-out
    assert cut[2].sum() == 0
    # the first peaks at (10 + 3, 10 - 5)
    assert np.unravel_index(np.argmax(cut[1, 0]), (20, 20)) == (13, 5)
    # at offset 0 the cut-out is the stamp's centre, scaled by the flux of each band
    lo = (STAMP - 20) // 2
    assert np.allclose(cut[0, 0], 3.0 * bank[0, 0, lo : lo + 20, lo : lo + 20])
    assert np.allclose(cut[0, 1], 0.5 * bank[0, 1, lo : lo + 20, lo : lo + 20])


def test_poisson_noise_of_sources():
    rng = np.random.default_rng(2)
    n = 3000
    model = np.full((n, 2, 20, 20), 7.5)
    white = [(0.0, 0.0, 1.0), (0.0, 0.0, 1.0)]
    out = add_noise(model, np.zeros((n, 2)), (750.0, 750.0), white, np.zeros((n, 2)), np.zeros((n, 2, 2)), rng)
    assert out[:, 0].std() == pytest.approx(np.sqrt(7.5 / 750), rel=0.03)


def test_nan_regions_cover_straight_edges():
    rng = np.random.default_rng(3)
    cut = np.zeros((2000, 2, 20, 20))
    apply_nan_regions(cut, rng, probability=0.1, fraction_quantiles=np.linspace(0.05, 0.5, 21), angle=0.3)
    hit = np.isnan(cut).any(axis=(1, 2, 3))
    assert 0.07 < hit.mean() < 0.13
    frac = np.isnan(cut[hit, 0]).mean(axis=(1, 2))
    assert (frac > 0.02).all() and (frac < 0.6).all()


def test_defects_add_bad_pixels_and_spikes_at_their_rates(monkeypatch):
    from globsml.mock import _render

    monkeypatch.setitem(_render.DEFECTS, "residual_rate", (0.0, 0.0))
    DEFECTS, add_defects = _render.DEFECTS, _render.add_defects
    n = 20000
    cut = np.zeros((n, 2, 20, 20))
    sigma = np.ones((n, 2))
    add_defects(cut, sigma, np.random.default_rng(0))
    for band in range(2):
        changed = cut[:, band] != 0
        expected = DEFECTS["tail_fraction"] * n * 400 + DEFECTS["spike_rate"][band] * n
        assert abs(changed.sum() - expected) < 5 * np.sqrt(expected)
    # spikes are positive; bad pixels are symmetric about zero
    excess = (cut[:, 0] > 6).sum() - (cut[:, 0] < -6).sum()
    assert excess > 0.5 * DEFECTS["spike_rate"][0] * n
    again = add_defects(np.zeros((n, 2, 20, 20)), sigma, np.random.default_rng(0))
    np.testing.assert_array_equal(again, cut)


def test_cosmic_ray_residuals_are_positive_drizzled_tracks_in_one_band(monkeypatch):
    from globsml.mock import _render

    d = dict(_render.DEFECTS, tail_fraction=0.0, spike_rate=(0.0, 0.0), residual_rate=(0.5, 0.0),
             residual_length=1, residual_sigma=(4.0, 0.0), residual_spread=0.3)
    monkeypatch.setattr(_render, "DEFECTS", d)
    n = 4000
    sigma = np.full((n, 2), 2.0)
    cut = _render.add_defects(np.zeros((n, 2, 20, 20)), sigma, np.random.default_rng(1))
    assert (cut >= 0).all() and not cut[:, 1].any()  # the z band untouched
    g = cut[:, 0]
    # one hit of 4 sigma: a 3x3 patch, centre 8, edges 0.3 * 8, corners 0.09 * 8
    hits = np.argwhere(np.isclose(g, 8.0))
    inner = hits[(hits[:, 1] > 1) & (hits[:, 1] < 18) & (hits[:, 2] > 1) & (hits[:, 2] < 18)]
    k, y, x = inner[0]
    np.testing.assert_allclose(g[k, y - 1 : y + 2, x - 1 : x + 2], 8.0 * np.outer([0.3, 1, 0.3], [0.3, 1, 0.3]))
    # about 0.5 hits per cut-out: the total light is 0.5 * 8 * 1.6^2 per cut-out, less what falls off the edge
    per_cutout = g.sum() / n
    assert 0.85 * 0.5 * 8 * 1.6**2 < per_cutout < 1.05 * 0.5 * 8 * 1.6**2


def test_zshift_moves_the_z_band_only():
    flux = np.array([[10.0, 10.0], [10.0, 10.0]])
    params = np.array([[0, 0, 0, 0], [0.8, 30.0, 0, 0]], dtype=float)
    kind = np.array([POINT, KING])
    zero = np.zeros(2)
    shift = np.array([[0.4, -0.3], [-0.25, 0.45]])
    plain = render_stamps(kind, zero, zero, params, flux)
    moved = render_stamps(kind, zero, zero, params, flux, zshift=shift)
    np.testing.assert_allclose(moved[:, 0], plain[:, 0], atol=1e-10)
    yy, xx = np.mgrid[:STAMP, :STAMP]

    def centroid(img):
        return np.array([(img * xx).sum() / img.sum(), (img * yy).sum() / img.sum()])

    for i in range(2):
        d = centroid(moved[i, 1]) - centroid(plain[i, 1])
        np.testing.assert_allclose(d, shift[i], atol=0.05)
        # (the pixel sampling of the shifted profile keeps the flux to a few 0.1%)
        assert moved[i, 1].sum() == pytest.approx(plain[i, 1].sum(), rel=5e-3)
