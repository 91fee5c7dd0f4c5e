"""Completeness through the whole chain: injection and recovery of artificial GCs.

Artificial GCs rendered by the mock survey's physics (King profiles of the
mock's sizes and concentrations, through the ACS PSF model, at the galaxy's
distance, with the Poisson noise of their own light for the survey's
exposure times) are added to real cut-outs whose own central source has been
replaced by the cut-out's own sky. Each is then run through the same
detection (the segmentation of :func:`globsml.features.cutout_features`:
found in both bands), the same features and the same model as the real
sources. The completeness is the fraction recovered as GC candidates
(``p_gc > threshold``), as a function of magnitude, colour, size and local
background, with binomial errors.

Survey papers measure the detection completeness this way; carrying the
injected sources through the classifier gives the completeness of the
candidate catalogue itself.
"""

import numpy as np
import pandas as pd
from scipy import ndimage

from .._errors import GlobsmlError
from ..data import CUTOUT_SHAPE, EXTINCTION_COEFFICIENTS, PIXEL_SCALE_ARCSEC, ZERO_POINTS

__all__ = [
    "inject_gcs",
    "source_free_backgrounds",
    "draw_injections",
    "injection_recovery",
    "completeness_curve",
    "compare_completeness",
    "mock_truth",
    "plot_completeness",
    "COMPLETENESS_VARIABLES",
]

#: The variables a completeness curve can be a function of: column -> (label, default bins).
COMPLETENESS_VARIABLES = {
    "mag_g": ("g (mag, intrinsic)", None),
    "colour": ("g - z (mag)", np.linspace(0.6, 1.7, 6)),
    "r_half_pc": ("half-light radius (pc)", np.array([1.0, 2.0, 3.0, 4.5, 6.5, 10.0])),
    "background": ("local background noise, g (e-/s per pixel)", None),
}


def _cluster_constants(cluster):
    from ..mock._calibration import SURVEY

    if cluster not in SURVEY["distance_modulus"]:
        raise GlobsmlError(f"unknown cluster {cluster!r}; known: {', '.join(SURVEY['distance_modulus'])}")
    return SURVEY["distance_modulus"][cluster], SURVEY["exposure_s"][cluster]


def source_free_backgrounds(cutouts, rng, *, nsigma=1.5, grow=2):
    """Cut-outs with the central source replaced by the cut-out's own sky.

    In each band, the connected pixels above ``nsigma`` times the noise
    (median absolute deviation) that touch the centre, grown by ``grow``
    pixels, are refilled with pixels drawn from the rest of the same
    cut-out and band: its sky level, noise and neighbours stay.

    Returns
    -------
    backgrounds : numpy.ndarray, (n, 2, 20, 20) float32
    noise : numpy.ndarray, (n, 2)
        The background noise of each cut-out and band (1.4826 MAD of the
        unmasked pixels).
    """
    cut = np.array(cutouts, dtype=np.float32)
    if cut.ndim != 4 or cut.shape[1:] != CUTOUT_SHAPE:
        raise GlobsmlError(f"expected cut-outs of shape (n, 2, 20, 20), got {cut.shape}")
    n = len(cut)
    noise = np.full((n, 2), np.nan)
    centre = (CUTOUT_SHAPE[1] // 2, CUTOUT_SHAPE[2] // 2)
    structure = np.ones((3, 3), bool)
    for i in range(n):
        for band in range(2):
            img = cut[i, band]
            finite = np.isfinite(img)
            if finite.sum() < 50:
                continue
            level = np.median(img[finite])
            sigma = 1.4826 * np.median(np.abs(img[finite] - level))
            if not sigma > 0:
                continue
            high = finite & (img > level + nsigma * sigma)
            labels, _ = ndimage.label(high, structure=structure)
            near = labels[centre[0] - 1 : centre[0] + 2, centre[1] - 1 : centre[1] + 2]
            mask = np.isin(labels, near[near > 0])
            lit = high
            if grow:
                mask = ndimage.binary_dilation(mask, structure=structure, iterations=grow)
                lit = ndimage.binary_dilation(high, structure=structure, iterations=grow)
            # the sky: pixels of no source (so that no neighbour's light is copied into the centre)
            sky = img[finite & ~lit]
            if len(sky) < 20:
                continue
            fill = mask & finite
            img[fill] = rng.choice(sky, int(fill.sum()), replace=True)
            noise[i, band] = 1.4826 * np.median(np.abs(sky - np.median(sky)))
    return cut, noise


def inject_gcs(backgrounds, mag_g, colour, r_half_pc, concentration, *, cluster, ebv=0.0, rng,
               distance_modulus=None):
    """Add one artificial GC at the centre of each cut-out, rendered by the mock's physics.

    Parameters
    ----------
    backgrounds : numpy.ndarray, (n, 2, 20, 20)
    mag_g, colour, r_half_pc, concentration : array-like, (n,)
        Intrinsic (dereddened) g magnitude, g - z colour, half-light radius
        in parsecs and King concentration r_t / r_c.
    cluster : {"Virgo", "Fornax"}
        Sets the distance (and the exposure times of the Poisson noise).
    ebv : float
        Galactic E(B-V): the injected light is reddened by it.
    rng : numpy.random.Generator
        Sub-pixel place, the z band's own centring, Poisson noise.
    distance_modulus : float, optional
        The galaxy's, instead of the cluster's.

    Returns
    -------
    numpy.ndarray, (n, 2, 20, 20) float32
    """
    from ..mock._render import KING, STAMP, render_stamps

    mu, exposure = _cluster_constants(cluster)
    mu = mu if distance_modulus is None else float(distance_modulus)
    mag_g = np.asarray(mag_g, dtype=np.float64)
    n = len(mag_g)
    mag_z = mag_g - np.asarray(colour, dtype=np.float64)
    pc_per_px = 10 ** (mu / 5 + 1) * np.deg2rad(PIXEL_SCALE_ARCSEC / 3600)
    flux = np.stack([10 ** (-0.4 * (mag_g + EXTINCTION_COEFFICIENTS["g"] * ebv - ZERO_POINTS["g"])),
                     10 ** (-0.4 * (mag_z + EXTINCTION_COEFFICIENTS["z"] * ebv - ZERO_POINTS["z"]))], axis=1)
    params = np.zeros((n, 4))
    params[:, 0] = np.asarray(r_half_pc, dtype=np.float64) / pc_per_px
    params[:, 1] = np.asarray(concentration, dtype=np.float64)
    dx, dy = rng.uniform(-0.5, 0.5, (2, n))
    # the z cut-out's own centring, as the mock's (render_stamps): difference of two uniform offsets
    zshift = rng.uniform(-0.5, 0.5, (n, 2)) - np.stack([dx, dy], axis=1)
    stamps = render_stamps(np.full(n, KING), dx, dy, params, flux, zshift=zshift)
    lo = STAMP // 2 - CUTOUT_SHAPE[1] // 2
    light = stamps[:, :, lo : lo + CUTOUT_SHAPE[1], lo : lo + CUTOUT_SHAPE[2]]
    # Poisson noise of the GC's own light in an electrons/s image: variance flux / t.
    shot = np.sqrt(np.clip(light, 0, None) / np.asarray(exposure)[None, :, None, None])
    light = light + shot * rng.standard_normal(light.shape)
    return (np.asarray(backgrounds, dtype=np.float64) + light).astype(np.float32)


def draw_injections(n, rng, *, cluster, mag_range=None, colour_range=(0.6, 1.7), r_half_range_pc=(1.0, 10.0)):
    """Parameters of ``n`` artificial GCs, uniform over the ranges (log-uniform in size).

    The default magnitude range spans the GC luminosity function's turnover
    at the cluster's distance from 3 mag brighter to 3 mag fainter; the
    concentration is drawn as the mock's.
    """
    from ..mock._populations import POPULATION

    mu, _ = _cluster_constants(cluster)
    if mag_range is None:
        turnover = mu + POPULATION["gclf_turnover_g"]
        mag_range = (turnover - 3.0, turnover + 3.0)
    lo, hi = np.log(r_half_range_pc)
    return pd.DataFrame({
        "mag_g": rng.uniform(*mag_range, n),
        "colour": rng.uniform(*colour_range, n),
        "r_half_pc": np.exp(rng.uniform(lo, hi, n)),
        "concentration": 10 ** rng.uniform(*POPULATION["king_log_c"], n),
    })


def injection_recovery(bundle, cutouts, *, galaxy, cluster=None, n=1000, ebv=0.0, threshold=None, seed=0,
                       mag_range=None, colour_range=(0.6, 1.7), r_half_range_pc=(1.0, 10.0), injections=None,
                       distance_modulus=None):
    """Inject artificial GCs into a galaxy's cut-outs and run detection, features and model on them.

    Parameters
    ----------
    bundle : Bundle, str or Path
        The model (as :func:`~globsml.inference.predict_catalogue`).
    cutouts : numpy.ndarray, (m, 2, 20, 20)
        The galaxy's real cut-outs: the backgrounds (drawn with replacement).
    galaxy : str
        The galaxy (its cluster sets the distance unless ``cluster`` is given).
    cluster : {"Virgo", "Fornax"}, optional
    n : int
        Number of artificial GCs.
    ebv : float
        Galactic E(B-V) of the galaxy (reddens the injected light; the
        features correct for it as for real sources).
    threshold : float, optional
        ``p_gc > threshold`` is a candidate; the bundle's by default.
    seed : int
        Same seed, same injections and results.
    mag_range, colour_range, r_half_range_pc
        The ranges the parameters are drawn from (:func:`draw_injections`).
    injections : pandas.DataFrame, optional
        The parameters (``mag_g``, ``colour``, ``r_half_pc``,
        ``concentration``) instead of drawing them.
    distance_modulus : float, optional
        The galaxy's, instead of its cluster's.

    Returns
    -------
    pandas.DataFrame
        One row per artificial GC: its parameters, ``background`` (the g
        noise of its cut-out), ``detected`` (segmented in both bands),
        ``p_gc`` and ``recovered`` (detected and ``p_gc > threshold``).
    """
    from ..data import cluster_of
    from ..features import cutout_features
    from ._bundle import load_bundle

    bundle = load_bundle(bundle)
    threshold = bundle.threshold if threshold is None else float(threshold)
    cluster = cluster or cluster_of(galaxy)
    rng = np.random.default_rng(seed)
    cutouts = np.asarray(cutouts)
    if len(cutouts) == 0:
        raise GlobsmlError(f"{galaxy}: no cut-outs to inject into")
    if injections is None:
        injections = draw_injections(n, rng, cluster=cluster, mag_range=mag_range, colour_range=colour_range,
                                     r_half_range_pc=r_half_range_pc)
    out = injections.reset_index(drop=True).copy()
    hosts = rng.integers(0, len(cutouts), len(out))
    backgrounds, noise = source_free_backgrounds(cutouts[hosts], rng)
    injected = inject_gcs(backgrounds, out["mag_g"], out["colour"], out["r_half_pc"], out["concentration"],
                          cluster=cluster, ebv=ebv, rng=rng, distance_modulus=distance_modulus)
    out["host"] = hosts
    out["background"] = noise[:, 0]
    return _recover(bundle, injected, out, galaxy=galaxy, ebv=ebv, threshold=threshold)


def _recover(bundle, cutouts, out, *, galaxy, ebv, threshold):
    """The same detection, features and model as on real sources: ``detected``, ``p_gc``, ``recovered``."""
    from ..features import cutout_features

    feats = cutout_features(cutouts, galaxy=galaxy, ebv=ebv)
    out["detected"] = (feats["label"].to_numpy() > 0) & (feats["label_z"].to_numpy() > 0)
    p = bundle.predict_proba(cutouts if bundle.input == "images" else feats)
    out["p_gc"] = p
    out["recovered"] = out["detected"].to_numpy() & (p > threshold)
    return out


def mock_truth(bundle, galaxy, injections, *, mock_seed=0, scale=1.0, threshold=None, seed=0):
    """The known truth on a mock galaxy: the same GCs made by the mock survey's whole forward model.

    The GCs of ``injections`` are placed in the galaxy of the mock survey
    made with ``mock_seed`` and ``scale`` (its distance, extinction, GC
    spatial distribution and noise), rendered with their neighbours,
    blends, field sources, correlated noise, defects and off-detector
    regions exactly as the mock renders its own sources, and run through
    detection, features and model: which of them end up as candidates is
    what :func:`injection_recovery` on that mock galaxy's cut-outs
    estimates.

    Returns
    -------
    pandas.DataFrame
        ``injections`` with ``detected``, ``p_gc`` and ``recovered``.
    """
    from ..mock._calibration import calibration
    from ..mock._populations import draw_gcs
    from ..mock._survey import _assign_noise, _noise_quantiles, _plans, _render_sources
    from ._bundle import load_bundle

    bundle = load_bundle(bundle)
    threshold = bundle.threshold if threshold is None else float(threshold)
    plans = {plan.galaxy: plan for plan, _ in _plans(mock_seed, scale)}
    if galaxy not in plans:
        raise GlobsmlError(f"{galaxy}: not a galaxy of the mock survey")
    plan, calib = plans[galaxy], calibration()
    rng = np.random.default_rng(seed)
    out = injections.reset_index(drop=True).copy()
    src = draw_gcs(len(out), rng, plan)  # positions (and the kind) of the mock's GCs in this galaxy
    src["mag_g"] = out["mag_g"].to_numpy(dtype=np.float64)
    src["mag_z"] = src["mag_g"] - out["colour"].to_numpy(dtype=np.float64)
    src["p1"] = out["r_half_pc"].to_numpy(dtype=np.float64) / plan.pc_per_px
    src["p2"] = out["concentration"].to_numpy(dtype=np.float64)
    src["sigma"] = _assign_noise(src["x"], src["y"], plan, _noise_quantiles(plan.galaxy, plan.cluster, calib), rng)
    cutouts = _render_sources(plan, src, rng, calib)
    return _recover(bundle, cutouts, out, galaxy=galaxy, ebv=plan.ebv, threshold=threshold)


def compare_completeness(estimate, truth, by="mag_g", bins=None, *, column="recovered"):
    """Do two completeness curves agree within their binomial errors?

    A two-proportion test per bin (pooled binomial standard error) and a
    chi-square over the bins.

    Returns
    -------
    table : pandas.DataFrame
        Per bin: ``estimate``, ``truth``, their ``n``, and ``z``.
    pvalue : float
        Of the chi-square of the z values (bins where both are 0 or 1 count 0).
    """
    from scipy.stats import chi2

    if bins is None:
        values = np.r_[estimate[by].to_numpy(dtype=float), truth[by].to_numpy(dtype=float)]
        bins = np.linspace(np.nanmin(values), np.nanmax(values), 7)
    a = completeness_curve(estimate, by, bins, column=column)
    b = completeness_curve(truth, by, bins, column=column)
    pooled = (a["k"] + b["k"]) / (a["n"] + b["n"])
    se = np.sqrt(pooled * (1 - pooled) * (1 / a["n"] + 1 / b["n"]))
    diff = a["completeness"] - b["completeness"]
    z = np.where(se > 0, diff / se.where(se > 0, 1.0), 0.0)
    table = pd.DataFrame({"lo": a["lo"], "hi": a["hi"], "estimate": a["completeness"], "n_estimate": a["n"],
                          "truth": b["completeness"], "n_truth": b["n"], "z": z})
    used = (a["n"] > 0) & (b["n"] > 0)
    return table, float(chi2.sf(np.sum(z[used] ** 2), int(used.sum())))


def completeness_curve(results, by="mag_g", bins=None, *, column="recovered"):
    """The recovered fraction in bins of one variable, with binomial errors.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`injection_recovery` (or any table with ``by`` and a
        boolean ``column``).
    by : str
        ``mag_g``, ``colour``, ``r_half_pc``, ``background`` or any column.
    bins : int or array-like, optional
        Bin edges (or their number, over the range of ``by``); the
        defaults of :data:`COMPLETENESS_VARIABLES`, else 8 bins.
    column : str
        ``recovered`` (the whole chain) or ``detected`` (detection alone).

    Returns
    -------
    pandas.DataFrame
        ``lo``, ``hi``, ``centre``, ``n``, ``k``, ``completeness`` (k / n)
        and ``error`` (the binomial standard error, sqrt(c (1 - c) / n)).

    Examples
    --------
    >>> import pandas as pd
    >>> from globsml.inference import completeness_curve
    >>> r = pd.DataFrame({"mag_g": [22.1, 22.4, 23.5, 23.9], "recovered": [True, True, True, False]})
    >>> completeness_curve(r, bins=[22, 23, 24])[["n", "k", "completeness"]].to_numpy().tolist()
    [[2.0, 2.0, 1.0], [2.0, 1.0, 0.5]]
    """
    if by not in results.columns:
        raise GlobsmlError(f"no column {by!r} in the injection results")
    values = results[by].to_numpy(dtype=np.float64)
    flags = results[column].to_numpy(dtype=bool)
    finite = np.isfinite(values)
    if bins is None:
        bins = COMPLETENESS_VARIABLES.get(by, (None, None))[1]
    if bins is None or np.ndim(bins) == 0:
        count = 8 if bins is None else int(bins)
        bins = np.quantile(values[finite], np.linspace(0, 1, count + 1)) if by == "background" else \
            np.linspace(values[finite].min(), values[finite].max(), count + 1)
    edges = np.unique(np.asarray(bins, dtype=np.float64))
    which = np.digitize(values, edges[1:-1], right=False)
    inside = finite & (values >= edges[0]) & (values <= edges[-1])
    rows = []
    for b in range(len(edges) - 1):
        sel = inside & (which == b)
        total, hit = int(sel.sum()), int(flags[sel].sum())
        c = hit / total if total else np.nan
        rows.append({"lo": edges[b], "hi": edges[b + 1], "centre": 0.5 * (edges[b] + edges[b + 1]),
                     "n": float(total), "k": float(hit), "completeness": c,
                     "error": np.sqrt(c * (1 - c) / total) if total else np.nan})
    return pd.DataFrame(rows)


def plot_completeness(results, *, title=""):
    """Completeness of the whole chain (and of detection alone) against each variable.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(COMPLETENESS_VARIABLES), figsize=(4 * len(COMPLETENESS_VARIABLES), 3.4),
                             sharey=True)
    for ax, (by, (label, _)) in zip(axes, COMPLETENESS_VARIABLES.items()):
        for column, name, style in (("detected", "detected", "--"), ("recovered", "GC candidate", "-")):
            curve = completeness_curve(results, by, column=column)
            ax.errorbar(curve["centre"], curve["completeness"], yerr=curve["error"], ls=style, marker="o", ms=3,
                        capsize=2, label=name)
        ax.set_xlabel(label)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of injected GCs")
    axes[0].legend(fontsize=8, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
