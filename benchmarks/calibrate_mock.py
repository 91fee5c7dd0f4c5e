"""Measure the mock survey's calibration from the REAL cut-outs.

Reads ``../shared/gcdata/ImageData`` (never copied into the project) and
writes the derived numbers that :mod:`globsml.mock` ships:

* ``src/globsml/mock/data/calibration.json``: per galaxy and band the
  quantiles of the per-cut-out background noise; per cluster and band the
  background residual (border median) and its spread, the lag-1
  correlation of neighbouring noise pixels (drizzling correlates them), the
  share of cut-outs with NaN pixels (off the detector) and how much of the
  frame they cover; per cluster the quantiles of m3, colour and CI of the
  real sources (targets for the population parameters).
* ``src/globsml/mock/data/psf.npz``: the empirical PSF (ePSF) of each band,
  built with photutils' ``EPSFBuilder`` (oversampling 4) from bright,
  isolated, point-like real sources.

Usage: ``python benchmarks/calibrate_mock.py [--data ../shared/gcdata]``.
"""

import argparse
import json
from pathlib import Path

import numpy as np

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
    """Lag-1 correlation of noise pixels in x and y (top/bottom 3 rows, left/right 3 columns)."""
    data = frames - np.nanmedian(border_pixels(frames), axis=-1)[..., None, None]
    sig = robust_sigma(border_pixels(frames))[..., None, None]
    clean = np.abs(data) < 4 * sig
    rows = np.concatenate([data[:, :, :3, :], data[:, :, -3:, :]], axis=2)
    rok = np.concatenate([clean[:, :, :3, :], clean[:, :, -3:, :]], axis=2)
    cols = np.concatenate([data[:, :, :, :3], data[:, :, :, -3:]], axis=3)
    cok = np.concatenate([clean[:, :, :, :3], clean[:, :, :, -3:]], axis=3)
    out = []
    for band in range(frames.shape[1]):
        a, b = rows[:, band, :, :-1], rows[:, band, :, 1:]
        ok = rok[:, band, :, :-1] & rok[:, band, :, 1:] & np.isfinite(a) & np.isfinite(b)
        cx = np.sum(a[ok] * b[ok]) / np.sqrt(np.sum(a[ok] ** 2) * np.sum(b[ok] ** 2))
        a, b = cols[:, band, :-1, :], cols[:, band, 1:, :]
        ok = cok[:, band, :-1, :] & cok[:, band, 1:, :] & np.isfinite(a) & np.isfinite(b)
        cy = np.sum(a[ok] * b[ok]) / np.sqrt(np.sum(a[ok] ** 2) * np.sum(b[ok] ** 2))
        out.append((float(cx), float(cy)))
    return out


def build_epsf(stars_by_band):
    """Build one ePSF per band with photutils from (frames, positions) lists."""
    from astropy.nddata import NDData
    from astropy.table import Table
    from photutils.psf import EPSFBuilder, extract_stars

    psfs = []
    for frames, xy in stars_by_band:
        data = [NDData(np.asarray(f, float)) for f in frames]
        cats = [Table({"x": [p[0]], "y": [p[1]]}) for p in xy]
        stars = extract_stars(data, cats, size=(PSF_SIZE, PSF_SIZE))
        builder = EPSFBuilder(oversampling=OVERSAMPLING, maxiters=15, progress_bar=False)
        result = builder(stars)
        epsf = result[0] if isinstance(result, tuple) else getattr(result, "epsf", result)
        arr = np.asarray(epsf.data, float)
        arr = np.clip(arr, 0, None)
        psfs.append(arr / arr.sum() * OVERSAMPLING**2)
    return psfs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "gcdata"))
    parser.add_argument("--max-stars", type=int, default=400)
    args = parser.parse_args(argv)

    from globsml.data import ZERO_POINTS, cluster_of, image_files, read_cutouts

    files = image_files(Path(args.data) / "ImageData")
    if not files:
        raise SystemExit(f"{args.data}: no real cut-outs")
    noise = {}
    per_cluster = {c: {"offset": [], "sigma": [], "nan_any": [], "nan_frac": [], "corr": [],
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
        noise[galaxy] = [np.quantile(sig[good, b], QUANTILES).tolist() for b in range(2)]
        acc["offset"].append(med[good])
        acc["sigma"].append(sig[good])
        isnan = np.isnan(frames)
        acc["nan_any"].append(isnan.any(axis=(1, 2, 3)))
        frac = isnan.mean(axis=(1, 2, 3))
        acc["nan_frac"].append(frac[frac > 0])
        acc["corr"].append(noise_correlation(frames[good]))
        f1, f3 = photometry(frames)
        with np.errstate(divide="ignore", invalid="ignore"):
            m3 = np.stack([-2.5 * np.log10(f3[:, b]) + ZERO_POINTS[k] for b, k in enumerate("gz")], 1)
            ci = -2.5 * np.log10(f1 / f3)
        ok = np.isfinite(m3).all(1) & np.isfinite(ci).all(1)
        acc["m3_g"].append(m3[ok, 0])
        acc["m3_z"].append(m3[ok, 1])
        acc["colour"].append(m3[ok, 0] - m3[ok, 1])
        acc["ci_g"].append(ci[ok, 0])
        acc["ci_z"].append(ci[ok, 1])
        # PSF stars: bright in both bands, no NaN, isolated (quiet border), compact.
        snr = f3 / (sig * np.sqrt(np.pi * 9))
        peak_ok = np.nanmax(np.abs(border - med[..., None]), axis=-1) < 6 * sig
        cand = (snr > 60).all(1) & ~isnan.any(axis=(1, 2, 3)) & peak_ok.all(1) & ok
        for i in np.flatnonzero(cand):
            star_frames.append(frames[i] - med[i][:, None, None])
            star_score.append(ci[i].sum())
    # The most compact quarter of the bright candidates: stars and the
    # smallest GCs (slightly resolved GCs would broaden the PSF otherwise).
    order = np.argsort(star_score)
    keep = order[: min(args.max_stars, max(25, len(order) // 4))]
    stars_by_band = []
    for band in range(2):
        frames = [star_frames[i][band] for i in keep]
        xy = []
        for f in frames:
            yy, xx = np.mgrid[7:14, 7:14]
            s = np.clip(f[7:14, 7:14], 0, None)
            xy.append(((s * xx).sum() / s.sum(), (s * yy).sum() / s.sum()))
        stars_by_band.append((frames, xy))
    psfs = build_epsf(stars_by_band)

    def q(x):
        return np.quantile(np.concatenate(x), QUANTILES).tolist()

    clusters = {}
    for cluster, acc in per_cluster.items():
        offset = np.concatenate(acc["offset"])
        sigma = np.concatenate(acc["sigma"])
        corr = np.array(acc["corr"])  # (galaxies, band, 2)
        nan_any = np.concatenate(acc["nan_any"])
        clusters[cluster] = {
            "n_cutouts": int(len(nan_any)),
            # background residual in units of the cut-out's noise
            "offset_over_sigma_mean": np.mean(offset / sigma, axis=0).tolist(),
            "offset_over_sigma_std": np.std(offset / sigma, axis=0).tolist(),
            "noise_corr": np.median(corr, axis=0).tolist(),
            "nan_fraction_of_cutouts": float(nan_any.mean()),
            "nan_pixel_fraction_quantiles": q(acc["nan_frac"]),
            "sigma_quantiles": [np.quantile(sigma[:, b], QUANTILES).tolist() for b in range(2)],
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
        "noise_sigma_quantiles": noise,
        "clusters": clusters,
        "psf_stars": int(len(keep)),
        "psf_oversampling": OVERSAMPLING,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "calibration.json").write_text(json.dumps(calib, indent=1, sort_keys=True) + "\n")
    np.savez_compressed(OUT / "psf.npz", g=psfs[0].astype(np.float32), z=psfs[1].astype(np.float32),
                        oversampling=OVERSAMPLING)
    for name, psf in zip("gz", psfs):
        s = psf.reshape(-1)
        print(f"ePSF {name}: shape {psf.shape}, peak share {s.max() / OVERSAMPLING**2:.3f}")
    print(json.dumps({c: {k: v for k, v in d.items() if "quantiles" not in k} for c, d in clusters.items()}, indent=1))
    print(f"wrote {OUT / 'calibration.json'} and {OUT / 'psf.npz'} from {len(files)} galaxies, {len(keep)} PSF stars")


if __name__ == "__main__":
    main()
