"""Measure the mock survey's calibration from the REAL cut-outs.

Reads ``../shared/gcdata/ImageData`` (never copied into the project) and
writes the derived numbers that :mod:`globsml.mock` ships:

* ``src/globsml/mock/data/calibration.json``: per galaxy and band the
  quantiles of the per-cut-out background noise, and the share of
  artefacts (sources sharper than the PSF: hot pixels, cosmic rays); per cluster and band the
  background residual (border median) and its spread, the lag-1
  correlation of neighbouring noise pixels (drizzling correlates them), a
  noise model fitted to the border correlations of the real cut-outs in
  bins of the host light's share of the noise (:func:`fit_noise_model`),
  the share of cut-outs with border peaks above 3/5/10/30 sigma
  (:func:`border_peaks`: how busy the neighbourhood is), the share of
  cut-outs with NaN pixels (off the detector) and how much of the
  frame they cover; per cluster the quantiles of m3, colour and CI of the
  real sources (targets for the population parameters).
* ``src/globsml/mock/data/psf.npz``: the empirical PSF of each band,
  oversampled 4x and pixel-integrated: a Moffat core plus Gaussian halo
  fitted jointly to the most point-like bright isolated real sources,
  plus their median residual (see :func:`build_psf`). photutils'
  ``EPSFBuilder`` was tried first; on these undersampled 20x20 cut-outs
  its iterative recentring did not converge to a symmetric PSF.

Usage: ``python benchmarks/calibrate_mock.py [--data ../shared/gcdata]``.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "globsml" / "mock" / "data"
QUANTILES = np.linspace(0.0, 1.0, 21)
OVERSAMPLING = 4
PSF_SIZE = 15  # pixels; the largest square the 20x20 cut-outs give around (10, 10)


def border_pixels(frames, width=3):
    """Pixels of the outer ``width``-pixel frame of each cut-out, (n, bands, k)."""
    n, b, h, w = frames.shape
    mask = np.zeros((h, w), bool)
    mask[:width] = mask[-width:] = True
    mask[:, :width] = mask[:, -width:] = True
    return frames[:, :, mask]


def robust_sigma(x, axis=-1):
    """Sigma from the median absolute deviation, NaN-aware."""
    med = np.nanmedian(x, axis=axis, keepdims=True)
    return 1.4826 * np.nanmedian(np.abs(x - med), axis=axis)


def aperture_weights(radius, centre=(10.0, 10.0), shape=(20, 20), sub=10):
    """Fractional pixel overlap of a circular aperture (supersampled)."""
    yy, xx = np.mgrid[0:shape[0] * sub, 0:shape[1] * sub]
    yy = (yy + 0.5) / sub - 0.5
    xx = (xx + 0.5) / sub - 0.5
    inside = (xx - centre[1]) ** 2 + (yy - centre[0]) ** 2 <= radius**2
    return inside.reshape(shape[0], sub, shape[1], sub).mean(axis=(1, 3))


def photometry(frames):
    """Aperture fluxes (1 and 3 px) of each band at the cut-out centre."""
    w1, w3 = aperture_weights(1.0), aperture_weights(3.0)
    data = np.nan_to_num(frames)
    return np.einsum("nbyx,yx->nb", data, w1), np.einsum("nbyx,yx->nb", data, w3)


def noise_correlation(frames):
    """Lag-1 correlation of noise pixels in x and y, per band.

    From the border pixels (outer 3 rows and columns) by differences,
    which are blind to the background level and to smooth gradients, and
    with robust (MAD) variances, which are blind to sources: for noise
    made by the kernel [a, 1, a] (what the mock uses),
    var(p[i+1] - p[i]) / var(p[i+2] - p[i]) = (1 - rho1) / (1 - rho2) with
    rho1 = 2a / (1 + 2a^2) and rho2 = a^2 / (1 + 2a^2); solved for a.
    """
    from scipy.optimize import brentq

    def mad2(x):
        x = x[np.isfinite(x)]
        return (1.4826 * np.median(np.abs(x - np.median(x)))) ** 2

    def rho_of(ratio):
        f = lambda a: (1 - 2 * a / (1 + 2 * a * a)) / (1 - a * a / (1 + 2 * a * a)) - ratio  # noqa: E731
        a = brentq(f, 0.0, 1.0) if f(0.0) * f(1.0) < 0 else 0.0
        return 2 * a / (1 + 2 * a * a)

    out = []
    for band in range(frames.shape[1]):
        rows = np.concatenate([frames[:, band, :3, :], frames[:, band, -3:, :]], axis=1)
        cols = np.concatenate([frames[:, band, :, :3], frames[:, band, :, -3:]], axis=2)
        pair = []
        for arr, ax in ((rows, 2), (cols, 1)):
            n = arr.shape[ax]
            d1 = np.diff(arr, axis=ax).ravel()
            d2 = (np.take(arr, range(2, n), axis=ax) - np.take(arr, range(0, n - 2), axis=ax)).ravel()
            pair.append(float(rho_of(mad2(d1) / mad2(d2))))
        out.append(tuple(pair))
    return out


def _border_mask(width):
    mask = np.zeros((20, 20), bool)
    mask[:width] = mask[-width:] = True
    mask[:, :width] = mask[:, -width:] = True
    return mask


PEAK_LEVELS = (3, 5, 10, 30)  # border peaks (sigma) counted per cut-out


def border_peaks(frames):
    """Highest border pixel (outer 4 px) above the border median, in units of the border noise, (n, 2).

    The share of cut-outs with a border peak above 5, 10, 30 sigma
    measures the neighbours (faint galaxies, GCs, wings of bright
    sources) the mock must put around its sources.
    """
    mask = _border_mask(4)
    b = frames[:, :, mask]
    med = np.nanmedian(b, axis=-1)
    sig = 1.4826 * np.nanmedian(np.abs(b - med[..., None]), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((np.nanmax(b, axis=-1) - med) / sig, nan=0.0)


def fit_noise_model(frames, excess, *, n_sim=3000, seed=0):
    """Fit the mock's noise model to one band of real cut-outs.

    The model (:func:`globsml.mock._render.background_noise`): drizzle
    noise with lag-1 correlation ``lag1`` plus a smooth part of width
    ``smooth_scale_px`` whose share of the variance depends on the noise
    excess over the galaxy's quietest cut-outs
    (:func:`globsml.mock._calibration.noise_excess`; the host light's share
    of the noise). The real cut-outs are binned by excess
    (``NOISE_EXCESS_EDGES``) and the median :func:`strip_correlations`
    (lags 1, 2, 3 and diagonal) of each bin is the target.
    Simulation-based, so the estimator's biases (median subtraction on
    small strips) cancel: the mock's own generator makes ``n_sim``
    pure-noise cut-outs (common random numbers), measured the same way.
    ``lag1`` is fitted to the quietest bin (share 0), the scale to the
    bins of the largest excess, then the share of every bin.

    Before, one share for all cut-outs was fitted to the 2-D
    autocorrelation of "quiet" borders normalised by far lags; background
    gradients inflated it (lag-1 0.40 where the clipped strip estimator
    gives 0.30) and the mock's borders were more correlated than the real
    ones wherever the host light is faint.
    """
    from scipy.optimize import minimize_scalar

    from globsml.mock._calibration import NOISE_EXCESS_EDGES, strip_correlations
    from globsml.mock._render import _drizzle_taps, _separable_field, _smooth_taps

    stats = strip_correlations(frames)
    good = np.isfinite(stats).all(axis=1) & np.isfinite(excess)
    stats, excess = stats[good], excess[good]
    edges = np.asarray(NOISE_EXCESS_EDGES)
    which = np.digitize(excess, edges[1:-1])
    bins = [k for k in range(len(edges) - 1) if (which == k).sum() >= 30]
    target = {k: np.median(stats[which == k], axis=0) for k in bins}
    e_med = {k: float(np.median(excess[which == k])) for k in bins}

    def field(taps, stream):
        return _separable_field(n_sim, taps, np.random.default_rng([seed, stream])).astype(np.float64)

    def measure(d, s, share):
        return np.median(strip_correlations(np.sqrt(1 - share) * d + np.sqrt(share) * s), axis=0)

    def sq(a, b):
        return float(((a - b) ** 2).sum())

    zeros = np.zeros((n_sim, 20, 20))
    lag1 = minimize_scalar(lambda r: sq(measure(field(_drizzle_taps(r), 0), zeros, 0.0), target[bins[0]]),
                           bounds=(0.0, 0.49), method="bounded", options={"xatol": 1e-3}).x
    drizzle = field(_drizzle_taps(lag1), 0)

    def best_share(smooth, k):
        r = minimize_scalar(lambda f: sq(measure(drizzle, smooth, f), target[k]), bounds=(0.0, 0.95),
                            method="bounded", options={"xatol": 2e-3})
        return float(r.x), float(r.fun)

    top = bins[-3:]
    scale = minimize_scalar(lambda sc: sum(best_share(field(_smooth_taps(sc), 1), k)[1] for k in top),
                            bounds=(0.5, 5.0), method="bounded", options={"xatol": 0.02}).x
    smooth = field(_smooth_taps(scale), 1)
    shares = [0.0] + [best_share(smooth, k)[0] for k in bins[1:]]
    return {"lag1": float(lag1), "smooth_scale_px": float(scale),
            "excess_edges": [float(edges[k]) for k in bins] + [float(edges[bins[-1] + 1])],
            "excess_median": [e_med[k] for k in bins], "smooth_share": shares,
            "stats_real": [target[k].round(4).tolist() for k in bins],
            "stats_fit": [measure(drizzle, smooth, f).round(4).tolist() for f in shares],
            "n_cutouts": [int((which == k).sum()) for k in bins]}


def offset_by_excess(ratio, excess):
    """Background residual (border median over noise) in bins of the noise excess, per band.

    The real residual grows with the host light (0.02 far from the host,
    0.5 where the host makes most of the noise, in g): the host model
    subtracted before cutting leaves some of it. Per band the median excess,
    the mean ratio and its standard deviation of each bin of
    ``NOISE_EXCESS_EDGES`` (3-sigma clipped, so stray bright neighbours do
    not set them).
    """
    from globsml.mock._calibration import NOISE_EXCESS_EDGES

    edges = np.asarray(NOISE_EXCESS_EDGES)
    out = []
    for b in range(ratio.shape[1]):
        which = np.digitize(excess[:, b], edges[1:-1])
        e_med, mean, std = [], [], []
        for k in range(len(edges) - 1):
            r = ratio[which == k, b]
            if len(r) < 30:
                continue
            for _ in range(3):
                m, s = np.mean(r), np.std(r)
                r = r[np.abs(r - m) < 3 * s]
            e_med.append(float(np.median(excess[which == k, b])))
            mean.append(float(np.mean(r)))
            std.append(float(np.std(r)))
        out.append({"excess_median": e_med, "mean": mean, "std": std})
    return out


SUB = 8  # sub-pixel samples per pixel side for the pixel integration


def psf_continuous(dx, dy, fwhm, beta, halo_frac, halo_sigma):
    """Moffat core plus Gaussian halo, unit integral, at offsets (pixels)."""
    r2 = dx * dx + dy * dy
    alpha = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    moffat = (beta - 1) / (np.pi * alpha**2) * (1 + r2 / alpha**2) ** (-beta)
    halo = np.exp(-0.5 * r2 / halo_sigma**2) / (2 * np.pi * halo_sigma**2)
    return (1 - halo_frac) * moffat + halo_frac * halo


_SUBGRID = (np.arange(SUB) + 0.5) / SUB - 0.5


def psf_pixels(dx, dy, shape_params):
    """Pixel-integrated PSF at pixel-centre offsets ``dx``, ``dy`` (any shape)."""
    u = _SUBGRID
    val = psf_continuous(dx[..., None, None] + u[None, :], dy[..., None, None] + u[:, None], *shape_params)
    return val.mean(axis=(-1, -2))


def fit_star(img, shape_params, box=5):
    """Flux, centre and background of one star for a given PSF shape (least squares)."""
    from scipy.optimize import least_squares

    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w]
    sel = (np.abs(xx - 10) <= box) & (np.abs(yy - 10) <= box)
    x, y, d = xx[sel].astype(float), yy[sel].astype(float), img[sel]

    def resid(p):
        return p[0] * psf_pixels(x - p[1], y - p[2], shape_params) + p[3] - d

    p0 = [max(d.sum(), 1e-3), 10.0, 10.0, 0.0]
    return least_squares(resid, p0, method="lm").x


def build_psf(frames_by_band, n_compact=150):
    """Empirical PSF per band: a Moffat core plus Gaussian halo fitted to real point sources.

    1. Fit each bright isolated candidate with its own FWHM (beta 2.5,
       no halo); drop artefacts sharper than any PSF (FWHM < 1.2 px) and
       keep the ``n_compact`` with the smallest FWHM: foreground stars and
       the most compact GCs, not resolved sources.
    2. Fit the shape (FWHM, beta, halo share and width) jointly to those
       (each with its own flux, centre and background).
    3. Sample the pixel-integrated PSF every 1/4 pixel and add the median
       residual of the stars (shift-and-stack at 1/4 pixel), so that what
       the analytic form misses is kept.
    """
    from scipy.optimize import least_squares

    out = []
    fits = []
    for frames in frames_by_band:
        fwhm = []
        for img in frames:
            def resid(p, img=img):
                h, w = img.shape
                yy, xx = np.mgrid[5:16, 5:16]
                m = p[0] * psf_pixels(xx - p[1], yy - p[2], (p[3], 2.5, 0.0, 3.0)) + p[4]
                return (m - img[5:16, 5:16]).ravel()
            r = least_squares(resid, [img[5:16, 5:16].sum(), 10, 10, 2.0, 0.0],
                              bounds=([0, 8, 8, 0.8, -1], [np.inf, 12, 12, 8, 1]))
            fwhm.append(r.x[3])
        fwhm = np.asarray(fwhm)
        # below 1.2 px are artefacts (hot pixels, cosmic-ray residuals) that
        # survive in both bands; real point sources start at ~1.5 px
        fwhm_ok = np.where(fwhm > 1.2, fwhm, np.inf)
        keep = np.argsort(fwhm_ok)[:n_compact]
        stars = [frames[i] for i in keep]
        yy, xx = np.mgrid[3:18, 3:18]
        data = np.stack([s[3:18, 3:18] for s in stars])
        scale = data.reshape(len(stars), -1).max(axis=1)
        data = data / scale[:, None, None]
        n = len(stars)

        def joint(p):
            shape = (p[0], p[1], p[2], p[3])
            res = []
            for k in range(n):
                f, x0, y0, bg = p[4 + 4 * k: 8 + 4 * k]
                res.append((f * psf_pixels(xx - x0, yy - y0, shape) + bg - data[k]).ravel())
            return np.concatenate(res)

        p0 = [float(np.median(fwhm[keep])), 2.5, 0.1, 3.0]
        lo, hi = [0.8, 1.2, 0.0, 1.5], [6.0, 10.0, 0.6, 10.0]
        for k in range(n):
            p0 += [float(data[k].sum()), 10.0, 10.0, 0.0]
            lo += [0.0, 8.5, 8.5, -0.5]
            hi += [np.inf, 11.5, 11.5, 0.5]
        npx = xx.size
        sparsity = np.zeros((n * npx, len(p0)), dtype=np.int8)
        sparsity[:, :4] = 1
        for k in range(n):
            sparsity[k * npx:(k + 1) * npx, 4 + 4 * k: 8 + 4 * k] = 1
        r = least_squares(joint, p0, bounds=(lo, hi), jac_sparsity=sparsity, max_nfev=40, x_scale="jac")
        shape = tuple(r.x[:4])
        fits.append({"fwhm_px": shape[0], "beta": shape[1], "halo_fraction": shape[2], "halo_sigma_px": shape[3],
                     "stars": n, "candidates": len(frames)})
        # oversampled pixel-integrated PSF
        half = PSF_SIZE // 2
        fine = np.arange(-half * OVERSAMPLING, half * OVERSAMPLING + 1) / OVERSAMPLING
        epsf = psf_pixels(fine[None, :] + 0 * fine[:, None], fine[:, None] + 0 * fine[None, :], shape)
        # residual correction: median of star residuals on the 1/4-pixel grid
        acc = [[[] for _ in fine] for _ in fine]
        for k in range(n):
            f, x0, y0, bg = r.x[4 + 4 * k: 8 + 4 * k]
            res = (data[k] - bg) / f - psf_pixels(xx - x0, yy - y0, shape)
            ix = np.rint((xx - x0) * OVERSAMPLING).astype(int) + half * OVERSAMPLING
            iy = np.rint((yy - y0) * OVERSAMPLING).astype(int) + half * OVERSAMPLING
            ok = (ix >= 0) & (ix < len(fine)) & (iy >= 0) & (iy < len(fine))
            for a, b, v in zip(iy[ok], ix[ok], res[ok]):
                acc[a][b].append(v)
        corr = np.array([[np.median(v) if len(v) >= 5 else 0.0 for v in row] for row in acc])
        from scipy.ndimage import uniform_filter

        corr = uniform_filter(corr, size=3)
        epsf = np.clip(epsf + corr, 0, None)
        out.append(epsf / epsf.sum() * OVERSAMPLING**2)
    return out, fits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "gcdata"))
    parser.add_argument("--max-stars", type=int, default=600)
    parser.add_argument("--psf-stars", type=int, default=80)
    parser.add_argument("--noise-cutouts-per-galaxy", type=int, default=300,
                        help="cut-outs per galaxy the noise model is fitted to")
    args = parser.parse_args(argv)

    from globsml.data import ZERO_POINTS, cluster_of, image_files, read_cutouts
    from globsml.mock._calibration import NOISE_QUANTILE_LEVELS, noise_excess

    files = image_files(Path(args.data) / "ImageData")
    if not files:
        raise SystemExit(f"{args.data}: no real cut-outs")
    noise = {}
    artefacts = {}
    per_cluster = {c: {"offset": [], "sigma": [], "nan_any": [], "nan_frac": [], "corr": [], "noise": [],
                       "excess": [], "all_excess": [],
                       "peaks": [],
                       "m3_g": [], "m3_z": [], "colour": [], "ci_g": [], "ci_z": []}
                   for c in ("Fornax", "Virgo")}
    star_frames, star_xy, star_score = [], [], []
    for galaxy, path in files.items():
        frames = np.array(read_cutouts(path, memmap=False), dtype=np.float64)
        cluster = cluster_of(galaxy)
        acc = per_cluster[cluster]
        border = border_pixels(frames)
        sig = robust_sigma(border)  # (n, 2)
        med = np.nanmedian(border, axis=-1)
        good = np.isfinite(sig).all(axis=1)
        noise[galaxy] = [np.quantile(sig[good, b], NOISE_QUANTILE_LEVELS).tolist() for b in range(2)]
        quietest = np.quantile(sig[good], 0.10, axis=0)  # the excess's base, as the mock reads it
        acc["offset"].append(med[good])
        acc["sigma"].append(sig[good])
        acc["all_excess"].append(noise_excess(sig[good], quietest))
        isnan = np.isnan(frames)
        acc["nan_any"].append(isnan.any(axis=(1, 2, 3)))
        frac = isnan.mean(axis=(1, 2, 3))
        acc["nan_frac"].append(frac[frac > 0])
        acc["corr"].append(noise_correlation(frames[good]))
        # a random share of the cut-outs without NaN, for the noise model
        pick = np.flatnonzero(~isnan.any(axis=(1, 2, 3)) & good)
        pick = np.sort(np.random.default_rng(len(noise)).permutation(pick)[: args.noise_cutouts_per_galaxy])
        acc["noise"].append(frames[pick])
        acc["excess"].append(noise_excess(sig[pick], quietest))
        acc["peaks"].append(border_peaks(frames))
        f1, f3 = photometry(frames)
        with np.errstate(divide="ignore", invalid="ignore"):
            m3 = np.stack([-2.5 * np.log10(f3[:, b]) + ZERO_POINTS[k] for b, k in enumerate("gz")], 1)
            ci = -2.5 * np.log10(f1 / f3)
        ok = np.isfinite(m3).all(1) & np.isfinite(ci).all(1)
        # sharper than any PSF (CI_g < 0.8; point sources have ~1.1): hot
        # pixels and cosmic-ray residuals that were detected in both bands
        artefacts[galaxy] = float(np.mean(ci[ok, 0] < 0.8)) if ok.any() else 0.0
        acc["m3_g"].append(m3[ok, 0])
        acc["m3_z"].append(m3[ok, 1])
        acc["colour"].append(m3[ok, 0] - m3[ok, 1])
        acc["ci_g"].append(ci[ok, 0])
        acc["ci_z"].append(ci[ok, 1])
        # PSF stars: bright in both bands, no NaN, isolated (quiet border), compact.
        snr = f3 / (sig * np.sqrt(np.pi * 9))
        peak_ok = np.nanmax(np.abs(border - med[..., None]), axis=-1) < 6 * sig
        cand = (snr > 60).all(1) & ~isnan.any(axis=(1, 2, 3)) & peak_ok.all(1) & ok & (ci > 0.8).all(1)
        for i in np.flatnonzero(cand):
            star_frames.append(frames[i] - med[i][:, None, None])
            star_score.append(ci[i].sum())
    # The most compact bright candidates (by CI) go on to the PSF fit, which
    # keeps the ones with the smallest fitted FWHM.
    order = np.argsort(star_score)
    keep = order[: args.max_stars]
    psfs, psf_fits = build_psf([[star_frames[i][band] for i in keep] for band in range(2)],
                               n_compact=args.psf_stars)

    def q(x):
        return np.quantile(np.concatenate(x), QUANTILES).tolist()

    clusters = {}
    for cluster, acc in per_cluster.items():
        offset = np.concatenate(acc["offset"])
        sigma = np.concatenate(acc["sigma"])
        corr = np.array(acc["corr"])  # (galaxies, band, 2)
        nan_any = np.concatenate(acc["nan_any"])
        noise_frames, excess = np.concatenate(acc["noise"]), np.concatenate(acc["excess"])
        peaks = np.concatenate(acc["peaks"])
        clusters[cluster] = {
            "noise_model": [fit_noise_model(noise_frames[:, b], excess[:, b]) for b in range(2)],
            "border_peak_fractions": {f"{t:g}": np.mean(peaks >= t, axis=0).tolist() for t in PEAK_LEVELS},
            "n_cutouts": int(len(nan_any)),
            # background residual in units of the cut-out's noise
            "offset_over_sigma_mean": np.mean(offset / sigma, axis=0).tolist(),
            "offset_over_sigma_std": np.std(offset / sigma, axis=0).tolist(),
            "offset_by_excess": offset_by_excess(offset / sigma, np.concatenate(acc["all_excess"])),
            "noise_corr": np.median(corr, axis=0).tolist(),
            "nan_fraction_of_cutouts": float(nan_any.mean()),
            "nan_pixel_fraction_quantiles": q(acc["nan_frac"]),
            "sigma_quantiles": [np.quantile(sigma[:, b], NOISE_QUANTILE_LEVELS).tolist() for b in range(2)],
            "m3_g_quantiles": q(acc["m3_g"]),
            "m3_z_quantiles": q(acc["m3_z"]),
            "colour_quantiles": q(acc["colour"]),
            "ci_g_quantiles": q(acc["ci_g"]),
            "ci_z_quantiles": q(acc["ci_z"]),
        }
    calib = {
        "source": "benchmarks/calibrate_mock.py on the real cut-outs of ../shared/gcdata/ImageData",
        "n_galaxies": len(files),
        "quantile_levels": QUANTILES.tolist(),
        "noise_quantile_levels": list(NOISE_QUANTILE_LEVELS),
        "noise_sigma_quantiles": noise,
        "artefact_fraction": artefacts,
        # galaxies without real cut-outs get their cluster's median share
        "artefact_fraction_cluster": {
            c: float(np.median([v for g, v in artefacts.items() if cluster_of(g) == c])) for c in ("Fornax", "Virgo")},
        "clusters": clusters,
        "psf": {"g": psf_fits[0], "z": psf_fits[1]},
        "psf_oversampling": OVERSAMPLING,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    write_text(OUT / "calibration.json", json.dumps(calib, indent=1, sort_keys=True) + "\n")
    np.savez_compressed(OUT / "psf.npz", g=psfs[0].astype(np.float32), z=psfs[1].astype(np.float32),
                        oversampling=OVERSAMPLING)
    for name, psf in zip("gz", psfs):
        s = psf.reshape(-1)
        print(f"ePSF {name}: shape {psf.shape}, peak share {s.max() / OVERSAMPLING**2:.3f}")
    print(json.dumps({c: {k: v for k, v in d.items() if "quantiles" not in k} for c, d in clusters.items()}, indent=1))
    print(json.dumps(calib["psf"], indent=1))
    print(f"wrote {OUT / 'calibration.json'} and {OUT / 'psf.npz'} from {len(files)} galaxies")


if __name__ == "__main__":
    main()
