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
    "corrected_luminosity_function",
    "plot_luminosity_function",
    "COMPLETENESS_VARIABLES",
    "LF_MAGNITUDE",
]

#: The variables a completeness curve can be a function of: column -> (label, default bins).
COMPLETENESS_VARIABLES = {
    "mag_g": ("g (mag, intrinsic)", None),
    "colour": ("g - z (mag)", np.linspace(0.6, 1.7, 6)),
    "r_half_pc": ("half-light radius (pc)", np.array([1.0, 2.0, 3.0, 4.5, 6.5, 10.0])),
    "background": ("local background noise, g (e-/s per pixel)", None),
}
#: The measured magnitude an injection result carries beside its intrinsic ``mag_g``: the
#: catalogue's (:data:`globsml.inference.PHOTOMETRY_COLUMNS`), so that a luminosity function of
#: candidates can be put on the injections' scale.
LF_MAGNITUDE = "m4_g"


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
        ``m4_g`` (its measured 4-pixel g magnitude, extinction corrected,
        as the catalogue's; :data:`LF_MAGNITUDE`), ``p_gc`` and
        ``recovered`` (detected and ``p_gc > threshold``).
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
    out[LF_MAGNITUDE] = feats[LF_MAGNITUDE].to_numpy(dtype=np.float64)
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


def corrected_luminosity_function(magnitudes, injections, *, bins=None, column="recovered", measured=LF_MAGNITUDE,
                                  min_completeness=0.2):
    """The GC luminosity function of a candidate catalogue, corrected for its completeness.

    The candidates' magnitudes are put on the injections' scale (intrinsic
    total g): the median of ``measured - mag_g`` over the recovered
    injections (the aperture correction of the same photometry) is
    subtracted from them. In each magnitude bin the number of candidates
    ``N`` is divided by the completeness ``c = k / n`` of the injections
    in that bin (:func:`completeness_curve`). Its error propagates the
    Poisson error of ``N`` and the binomial error of ``c``:
    ``sigma = (N / c) sqrt(1 / N + sigma_c^2 / c^2)`` (``sqrt(N) / c``
    where ``c`` has no error; 0 for an empty bin).

    Parameters
    ----------
    magnitudes : array-like
        The candidates' measured magnitudes (the catalogue's ``m4_g``);
        NaN are left out.
    injections : pandas.DataFrame
        From :func:`injection_recovery` on the same galaxy and model
        (``mag_g``, ``column`` and, for the offset, ``measured``).
    bins : int or array-like, optional
        Edges in intrinsic g (or their number over the injections' range);
        8 bins over the range by default.
    column : str
        ``recovered`` (the completeness of the candidate catalogue) or
        ``detected``.
    measured : str or None
        The injections' measured magnitude column the offset is taken
        from; None (or no recovered injection) takes ``magnitudes`` as
        intrinsic total g already (offset 0).
    min_completeness : float
        Bins where the completeness is below it are not corrected
        (``n_corrected`` NaN, ``used`` False): dividing by a small, poorly
        known fraction gives numbers that mean little.

    Returns
    -------
    pandas.DataFrame
        Per bin: ``lo``, ``hi``, ``centre`` (intrinsic g), ``n`` (the
        candidates) and ``n_error`` (sqrt n), ``completeness`` and
        ``completeness_error``, ``n_corrected`` and ``n_corrected_error``,
        ``used``. ``attrs["offset"]``: the magnitude offset subtracted;
        ``attrs["outside"]``: the candidates outside the bins (not counted).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from globsml.inference import corrected_luminosity_function
    >>> inj = pd.DataFrame({"mag_g": [22.5] * 4 + [23.5] * 4,
    ...                     "recovered": [True] * 4 + [True, False, False, False]})
    >>> lf = corrected_luminosity_function([22.2, 22.8, 23.1], inj, bins=[22, 23, 24], measured=None)
    >>> lf[["n", "completeness", "n_corrected"]].to_numpy().tolist()
    [[2.0, 1.0, 2.0], [1.0, 0.25, 4.0]]
    """
    if "mag_g" not in injections.columns or column not in injections.columns:
        raise GlobsmlError(f"the injection results need the columns 'mag_g' and {column!r}")
    mags = np.asarray(magnitudes, dtype=np.float64).ravel()
    offset = 0.0
    if measured is not None:
        if measured not in injections.columns:
            raise GlobsmlError(f"the injection results have no measured magnitude {measured!r} "
                               "(give measured=None for magnitudes on the intrinsic total g scale)")
        hit = injections[column].to_numpy(dtype=bool)
        diff = (injections[measured].to_numpy(dtype=np.float64)[hit]
                - injections["mag_g"].to_numpy(dtype=np.float64)[hit])
        diff = diff[np.isfinite(diff)]
        offset = float(np.median(diff)) if len(diff) else 0.0
    curve = completeness_curve(injections, "mag_g", 8 if bins is None else bins, column=column)
    edges = np.r_[curve["lo"].to_numpy(), curve["hi"].to_numpy()[-1:]]
    intrinsic = mags[np.isfinite(mags)] - offset
    counts = np.histogram(intrinsic, bins=edges)[0].astype(np.float64)
    c = curve["completeness"].to_numpy(dtype=np.float64)
    c_err = curve["error"].to_numpy(dtype=np.float64)
    used = np.isfinite(c) & (c >= float(min_completeness)) & (c > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = np.where(used, counts / c, np.nan)
        rel2 = np.where(counts > 0, 1.0 / counts, 0.0) + (c_err / c) ** 2
        error = np.where(used, np.where(counts > 0, corrected * np.sqrt(rel2), 0.0), np.nan)
    out = pd.DataFrame({"lo": curve["lo"], "hi": curve["hi"], "centre": curve["centre"], "n": counts,
                        "n_error": np.sqrt(counts), "completeness": c, "completeness_error": c_err,
                        "n_corrected": corrected, "n_corrected_error": error, "used": used})
    out.attrs["offset"] = offset
    out.attrs["outside"] = int(len(intrinsic) - counts.sum())
    return out


def plot_luminosity_function(lf, *, title=""):
    """The raw and the completeness-corrected luminosity function side by side.

    Left: the candidates per bin (Poisson errors) and the completeness (right
    axis); right: the corrected numbers with their propagated errors, the raw
    ones beside them.

    Parameters
    ----------
    lf : pandas.DataFrame
        From :func:`corrected_luminosity_function`.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    edges = np.r_[lf["lo"].to_numpy(), lf["hi"].to_numpy()[-1:]]
    fig, (raw_ax, cor_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax in (raw_ax, cor_ax):
        ax.stairs(lf["n"], edges, color="0.4", label="candidates (raw)")
        ax.errorbar(lf["centre"], lf["n"], yerr=lf["n_error"], ls="none", color="0.4", capsize=2)
        ax.set_xlabel("g (mag, intrinsic total)")
        ax.set_ylabel("GCs per bin")
    comp = raw_ax.twinx()
    comp.errorbar(lf["centre"], lf["completeness"], yerr=lf["completeness_error"], color="C0", marker="o", ms=3,
                  capsize=2, label="completeness")
    comp.set_ylim(0, 1.05)
    comp.set_ylabel("completeness", color="C0")
    raw_ax.set_title("raw (candidates)", fontsize=10)
    used = lf["used"].to_numpy(dtype=bool)
    cor_ax.errorbar(lf["centre"][used], lf["n_corrected"][used], yerr=lf["n_corrected_error"][used], color="C3",
                    marker="o", ms=4, capsize=3, label="corrected for completeness")
    cor_ax.legend(frameon=False, fontsize=8)
    offset = lf.attrs.get("offset", 0.0)
    cor_ax.set_title(f"corrected (measured magnitudes shifted by {-offset:+.2f} mag)", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
