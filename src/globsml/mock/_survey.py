"""The mock survey: 141 galaxies in the published format, rendered from physics."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._cpus import usable_cpus
from .._errors import GlobsmlError
from .._io import atomic_path
from .._version import __version__
from ..data import (
    GC_THRESHOLD,
    IMAGE_DIRNAME,
    IMAGE_SUFFIX,
    PUBLISHED_COLUMNS,
    PUBLISHED_TOTALS,
    TABLE_FILENAME,
    published_galaxies,
    write_cutouts,
)
from ._calibration import SURVEY, calibration, noise_at, noise_excess
from ._critic import proposal_acceptance, proposal_model, realism_critic, weighted_choice
from ._labels import catalogue_labels
from ._populations import (
    POPULATION,
    detection_probability,
    draw_artefacts,
    draw_contaminants,
    draw_field_sources,
    field_templates,
    draw_gcs,
    fluxes,
    galaxy_plan,
)
from ._render import (
    CUTOUT,
    STAMP,
    add_defects,
    add_noise,
    add_templates,
    apply_nan_regions,
    compose_cutouts,
    render_stamps,
)

__all__ = ["make_mock_survey", "survey_counts", "make_galaxy", "MARKER"]

#: Written last into a finished mock directory: its seed, scale and version.
MARKER = ".globsml-mock.json"
#: Written when the mock first writes into a directory: what is there afterwards is its own.
OWNER = ".globsml-mock-owner"
MIN_SOURCES = 5  # per galaxy, whatever the scale
#: [tuned] How much of the real cut-outs' border median (in units of the
#: noise; calibration "offset_by_excess") the mock's own light (wings,
#: neighbours, field sources) and its smooth noise already make, per band
#: (g, z) at these noise excesses: measured by comparing border medians of
#: mock and real cut-outs of the same galaxies in bins of the measured
#: excess. With nothing taken off, the mock's were 0.1-0.15 above the real
#: where the host is faint and up to 0.55 above at excess 3-10, where the
#: smooth noise and the background slope are strongest.
BACKGROUND_FROM_SOURCES_EXCESS = (0.0, 0.7, 1.3, 2.7, 5.4, 18.0)
BACKGROUND_FROM_SOURCES = ((0.11, 0.11, 0.12, 0.28, 0.55, 0.28), (0.12, 0.135, 0.14, 0.30, 0.52, 0.42))
#: Share of the real border medians' spread left to add (g, z): the mock's
#: own light and noise make the rest.
BACKGROUND_SPREAD_ADDED = (0.3, 0.3)
#: [tuned] The calibrated noise is the robust sigma of the real borders;
#: the noise drawn is scaled by this (g, z) so that the border noise the
#: segmentation measures (features.background_stats, 3-px border, over all
#: cut-outs of a galaxy) is the real one: 1.07 / 1.085 matched quiet
#: borders but left the measured noise of all cut-outs 10% above the
#: real (0.0108 vs 0.0098 in g), so faint sources drowned.
NOISE_MAD_CORRECTION = (0.97, 0.97)
#: [tuned] Background residual slope per pixel, in units of the noise: the
#: spread of the difference of the left and right (top and bottom) border
#: medians of the real cut-outs (0.02 made it 30% too wide).
GRADIENT = 0.012
#: The slope grows as the square root of the noise excess (the host's
#: light), up to this excess: none far from the host, where the real borders
#: show the drizzle correlation alone.
GRADIENT_MAX_EXCESS = 4.0
#: [tuned] The fitted noise model (calibration "noise_model") describes
#: the real borders, sources and all; the mock's own field sources,
#: neighbours and background slopes correlate its borders too (lag 1
#: +0.03, lag 2 +0.03 where the host is faint, measured with the noise
#: model alone), so the drizzle correlation is scaled by this and this
#: much is taken off every smooth share.
DRIZZLE_LAG1_KEPT = 0.88
SMOOTH_SHARE_FROM_SOURCES = 0.04
#: [tuned] Share of the smooth noise common to g and z: the host's
#: fluctuations are the same light in both bands. With it the g-z
#: correlation of border pixels follows the real one with the noise
#: excess (0.3 at excess 1-2, 0.5-0.65 above 4).
SMOOTH_NOISE_COMMON = 0.8
#: With the realism critic, this many galaxies' worth of sources are
#: rendered for each galaxy and the critic's weighted sample kept.
CRITIC_OVERSAMPLE = 6
#: Without it, this many: the sources are drawn PRE_DETECTION_DEPTH mag
#: deeper than the catalogue's limit and then detected on their rendered
#: cut-outs (:func:`make_galaxy`).
DETECTION_OVERSAMPLE = 2
#: [tuned] How much fainter than the catalogue's 50% limits
#: (POPULATION["mag_limit"]) sources are drawn before the detection on
#: the image decides.
PRE_DETECTION_DEPTH = 0.5
#: [tuned] Log weight of a rendered source that the cut-out segmentation
#: does not find in both bands (the real catalogue came from the full
#: frames, so 5% of its sources are not found on their cut-outs alone).
UNDETECTED_LOG_WEIGHT = -3.0


def _largest_remainder(total, weights):
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    weights = np.asarray(weights, dtype=float)
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = int(total - out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def survey_counts(*, scale=1.0):
    """Sources and GCs per galaxy of the mock.

    The published figures (:func:`globsml.data.published_galaxies`) where
    known. The unknown ones are filled so that each cluster adds up to its
    published totals (:data:`globsml.data.PUBLISHED_TOTALS`): the sources
    missing from the Virgo total are shared equally among the galaxies
    without a source count; the missing GCs are shared among the galaxies
    without a GC count in proportion to their number of sources (the mean
    GC share of those galaxies is then the share the totals imply), capped
    at 90% of the galaxy's sources. Integers are apportioned by largest
    remainders, so the totals are exact.

    With ``scale`` < 1 every count is multiplied by ``scale`` and rounded
    (at least :data:`MIN_SOURCES` sources per galaxy, GCs never more than
    the sources).

    Returns
    -------
    pandas.DataFrame
        ``galaxy``, ``cluster``, ``n_sources``, ``n_gcs`` (int64), and
        ``n_sources_full``, ``n_gcs_full`` (before scaling).
    """
    if not (0 < scale <= 1):
        raise GlobsmlError(f"mock survey: scale must be in (0, 1], got {scale}")
    table = published_galaxies().copy()
    n_src = table["n_sources"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    n_gc = table["n_gcs"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    for cluster, (_, tot_src, tot_gc) in PUBLISHED_TOTALS.items():
        here = (table["cluster"] == cluster).to_numpy()
        miss = here & np.isnan(n_src)
        if miss.any():
            n_src[miss] = _largest_remainder(tot_src - np.nansum(n_src[here]), np.ones(miss.sum()))
        miss = here & np.isnan(n_gc)
        if miss.any():
            share = _largest_remainder(tot_gc - np.nansum(n_gc[here]), n_src[miss])
            n_gc[miss] = np.minimum(share, np.floor(0.9 * n_src[miss]))
    out = pd.DataFrame({"galaxy": table["galaxy"].astype(str), "cluster": table["cluster"].astype(str)})
    out["n_sources_full"] = n_src.astype(np.int64)
    out["n_gcs_full"] = n_gc.astype(np.int64)
    if scale == 1:
        out["n_sources"], out["n_gcs"] = out["n_sources_full"], out["n_gcs_full"]
    else:
        src = np.maximum(MIN_SOURCES, np.rint(n_src * scale)).astype(np.int64)
        out["n_sources"] = src
        out["n_gcs"] = np.minimum(np.rint(n_gc * scale), src).astype(np.int64)
    return out


def _at_excess(excess, knots, values):
    """A curve given at noise excesses ``knots`` read at each cut-out's excess (linear in log(1 + excess))."""
    return np.interp(np.log1p(np.clip(excess, -0.9, None)), np.log1p(knots), values)


def _background_models(plan, sigma, calib):
    """Noise model and background residual of each cut-out, from its noise excess.

    Returns the per-band ``(lag1, smooth share of each cut-out, smooth
    scale)`` for :func:`._render.add_noise`, the mean and spread of the
    background residual to add over the noise, (n, 2) each, and the
    excess, (n, 2). Both follow the real cut-outs' trends with the noise
    excess over the galaxy's quietest cut-outs (the host's light, its
    fluctuations and what its subtraction left; calibration
    ``noise_model`` and ``offset_by_excess``), less what the mock's own
    light and noise already make (:data:`BACKGROUND_FROM_SOURCES`).
    """
    cl = calib["clusters"][plan.cluster]
    base = noise_at(_noise_quantiles(plan.galaxy, plan.cluster, calib), 0.10)
    excess = noise_excess(sigma, base[None, :])
    noise = [(m["lag1"] * DRIZZLE_LAG1_KEPT,
              np.clip(_at_excess(excess[:, b], m["excess_median"], m["smooth_share"]) - SMOOTH_SHARE_FROM_SOURCES,
                      0.0, None),
              m["smooth_scale_px"])
             for b, m in enumerate(cl["noise_model"])]
    real = cl["offset_by_excess"]
    mean = np.stack([_at_excess(excess[:, b], t["excess_median"], t["mean"])
                     - _at_excess(excess[:, b], BACKGROUND_FROM_SOURCES_EXCESS, BACKGROUND_FROM_SOURCES[b])
                     for b, t in enumerate(real)], 1)
    std = np.stack([_at_excess(excess[:, b], t["excess_median"], t["std"]) * BACKGROUND_SPREAD_ADDED[b]
                    for b, t in enumerate(real)], 1)
    return noise, mean, std, excess


def _galaxy_rng(seed, index):
    """Independent stream per galaxy: results do not depend on the order of making them."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), 1 + int(index)]))


def _noise_quantiles(galaxy, cluster, calib):
    """The levels and per-band values, (2, levels), of the galaxy's cut-out noise quantiles."""
    q = calib["noise_sigma_quantiles"].get(galaxy)
    if q is None:  # no real cut-outs of this galaxy: the cluster's pooled noise
        q = calib["clusters"][cluster]["sigma_quantiles"]
    return np.asarray(calib["noise_quantile_levels"], dtype=float), np.asarray(q, dtype=float)


def _assign_noise(x, y, plan, quantiles, rng):
    """Noise of each source from its distance to the galaxy centre (host light).

    The nearest source gets the galaxy's highest measured noise, the
    farthest the lowest: the real distribution of cut-out noise is kept
    and tied to the position as the host's Poisson noise would be.
    """
    r = np.hypot(x - plan.centre[0], y - plan.centre[1])
    rank = np.empty(len(r), np.int64)
    # the inverse permutation: each source's rank (distances of random
    # positions do not tie, so the unstable sort, twice as fast, is the same)
    rank[np.argsort(r)] = np.arange(len(r))
    u = 1.0 - (rank + 0.5) / len(r)
    u = np.clip(u + rng.normal(0, 0.03, len(r)), 0, 1)
    return noise_at(quantiles, u)


def _draw_pool(plan, rng, quantiles, ref_sigma, *, factor=1, proposal=None):
    """Detected true sources until the catalogue emulation gives enough GCs and non-GCs.

    Chunks of GCs and contaminants are drawn, placed, given the noise of
    their position (:func:`_assign_noise`), thinned by the detection
    probability and labelled by the catalogue emulation, until at least
    the galaxy's number of labelled GCs and non-GCs are detected; the
    caller then picks exactly that many of each at random. With a
    ``proposal`` model (:func:`._critic.proposal_model`) the detected
    sources are thinned further by its acceptance, and the chunks grow
    until enough are kept.
    """
    need_pos, need_neg = factor * plan.n_gcs, factor * (plan.n_sources - plan.n_gcs)
    chunks = []
    rh_med = POPULATION["rh_pc_median"] / plan.pc_per_px
    gclf_z = plan.gclf_mean_g - 0.5 * (POPULATION["colour_blue"][0] + POPULATION["colour_red"][0])
    n_gc = max(8, int(1.5 * need_pos + 0.1 * need_neg))
    n_co = max(16, int(3.0 * need_neg))
    if proposal is not None:
        n_gc, n_co = 8 * n_gc, 8 * n_co
    for _ in range(200):
        parts = [draw_gcs(n_gc, rng, plan), draw_contaminants(n_co, rng, plan)]
        s = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        s["sigma"] = _assign_noise(s["x"], s["y"], plan, quantiles, rng)
        det = rng.random(len(s["x"])) < detection_probability(
            s["mag_g"] + plan.extinction[0], s["mag_z"] + plan.extinction[1], s["size_px"],
            s["sigma"] / ref_sigma, depth=PRE_DETECTION_DEPTH)
        s = {k: v[det] for k, v in s.items()}
        s["matched"], s["pGC"] = catalogue_labels(s["mag_g"], s["mag_z"], s["size_px"], rng,
                                                  gclf_mean_z=gclf_z, gclf_sigma=plan.gclf_sigma,
                                                  rh_median_px=rh_med)
        if proposal is not None:
            keep = rng.random(len(s["x"])) < proposal_acceptance(proposal, s)
            s = {k: v[keep] for k, v in s.items()}
            n_gc, n_co = min(2 * n_gc, 10**6), min(2 * n_co, 10**6)
        chunks.append(s)
        pos = sum(int((c["pGC"] >= GC_THRESHOLD).sum()) for c in chunks)
        neg = sum(int((c["pGC"] < GC_THRESHOLD).sum()) for c in chunks)
        if pos >= need_pos and neg >= need_neg:
            return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    raise GlobsmlError(f"mock survey: {plan.galaxy}: could not draw {need_pos} labelled GCs and "
                       f"{need_neg} other sources ({pos}, {neg} after 200 rounds)")


def _candidates(plan, pool, taken, rng, quant, calib):
    """Pick one galaxy's worth of sources from the pool and render them.

    ``taken`` (bool, per pool entry) marks the entries used by earlier
    batches; the ones picked here are marked too. Returns the sources (in
    the raster order of the segmentation) and their cut-outs.
    """
    lab = pool["pGC"] >= GC_THRESHOLD
    pos, neg = np.flatnonzero(lab & ~taken), np.flatnonzero(~lab & ~taken)
    n_neg = plan.n_sources - plan.n_gcs
    # artefacts (hot pixels, cosmic rays) take their measured share of the
    # sources; the catalogue never matches them
    share = calib.get("artefact_fraction", {}).get(plan.galaxy)
    if share is None:
        share = calib.get("artefact_fraction_cluster", {}).get(plan.cluster, 0.0)
    n_art = min(n_neg, rng.binomial(plan.n_sources, share))
    pick = np.concatenate([rng.choice(pos, plan.n_gcs, replace=False),
                           rng.choice(neg, n_neg - n_art, replace=False)])
    taken[pick] = True
    src = {k: v[pick] for k, v in pool.items()}
    art = draw_artefacts(n_art, rng, plan)
    art["sigma"] = _assign_noise(art["x"], art["y"], plan, quant, rng)
    art["matched"], art["pGC"] = np.zeros(n_art, bool), np.zeros(n_art)
    src = {k: np.concatenate([v, art[k]]) for k, v in src.items()}
    # table order: raster order of the segmentation (by y, then x), like photutils labels
    order = np.lexsort((src["x"], src["y"]))
    src = {k: v[order] for k, v in src.items()}
    return src, _render_sources(plan, src, rng, calib)


def _render_sources(plan, src, rng, calib):
    """The cut-outs of a set of sources placed in one frame (neighbours, blends, field, noise)."""
    n = len(src["x"])
    # pixel grid: the cut-out's centre pixel and the sub-pixel offset
    xi, yi = np.rint(src["x"]).astype(np.int64), np.rint(src["y"]).astype(np.int64)
    dx, dy = src["x"] - xi, src["y"] - yi

    # extra light: close companions (blends)
    n_blend = rng.binomial(n, POPULATION["blend_fraction"])
    blend_host = rng.choice(n, n_blend, replace=True) if n else np.zeros(0, np.int64)
    extra_parts = [draw_gcs(n_blend, rng, plan), draw_contaminants(n_blend, rng, plan)]
    use_gc = rng.random(n_blend) < 0.5
    blend = {k: np.where(use_gc if extra_parts[0][k].ndim == 1 else use_gc[:, None],
                         extra_parts[0][k], extra_parts[1][k]) for k in extra_parts[0]}
    blend["mag_g"] = src["mag_g"][blend_host] + rng.uniform(0.3, 3.0, n_blend)
    blend["mag_z"] = blend["mag_g"] - (src["mag_g"][blend_host] - src["mag_z"][blend_host]) - rng.normal(0, 0.3, n_blend)
    sep = rng.uniform(1.5, 4.0, n_blend)
    ang = rng.uniform(0, 2 * np.pi, n_blend)
    bx, by = src["x"][blend_host] + sep * np.cos(ang), src["y"][blend_host] + sep * np.sin(ang)
    ex = {k: blend[k] for k in ("kind", "mag_g", "mag_z", "p1", "p2", "p3", "p4")}
    ex_x, ex_y, ex_host = bx, by, blend_host.astype(np.int64)

    # render every stamp
    ex_xi, ex_yi = np.rint(ex_x).astype(np.int64), np.rint(ex_y).astype(np.int64)
    kind = np.concatenate([src["kind"], ex["kind"]])
    params = np.stack([np.concatenate([src[k], ex[k]]) for k in ("p1", "p2", "p3", "p4")], axis=1)
    flux = fluxes(np.concatenate([src["mag_g"], ex["mag_g"]]), np.concatenate([src["mag_z"], ex["mag_z"]]), plan)
    # the z band's own sub-pixel place of each cut-out's source (see
    # render_stamps); a blend's companion moves with its host
    zshift = rng.uniform(-0.5, 0.5, (n, 2)) - np.stack([dx, dy], 1)
    stamps = render_stamps(kind, np.concatenate([dx, ex_x - ex_xi]), np.concatenate([dy, ex_y - ex_yi]),
                           params, flux, zshift=np.concatenate([zshift, zshift[ex_host]]))

    # neighbours among the table's sources (stamps overlap the cut-out)
    reach = STAMP // 2 + CUTOUT // 2
    tree = cKDTree(np.stack([xi, yi], axis=1))
    pairs = tree.query_pairs(reach, p=np.inf, output_type="ndarray")
    hosts = [pairs[:, 0], pairs[:, 1], ex_host]
    items = [pairs[:, 1], pairs[:, 0], n + np.arange(len(ex_host))]
    offs = [np.stack([xi[pairs[:, 1]] - xi[pairs[:, 0]], yi[pairs[:, 1]] - yi[pairs[:, 0]]], 1),
            np.stack([xi[pairs[:, 0]] - xi[pairs[:, 1]], yi[pairs[:, 0]] - yi[pairs[:, 1]]], 1),
            np.stack([ex_xi - xi[ex_host], ex_yi - yi[ex_host]], 1)]
    model = compose_cutouts(stamps, n, np.concatenate(hosts), np.concatenate(items), np.concatenate(offs))

    # field sources (not in the table) around every cut-out, from a bank of
    # pre-rendered profiles placed at whole-pixel offsets
    t_kind, t_par = field_templates(rng)
    bank = render_stamps(t_kind, np.zeros(len(t_kind)), np.zeros(len(t_kind)), t_par, np.ones((len(t_kind), 2)))
    field_host = np.repeat(np.arange(n), rng.poisson(POPULATION["field_per_cutout"], n))
    tmpl, f_g, f_z, fdx, fdy = draw_field_sources(len(field_host), rng, plan)
    add_templates(model, bank, field_host, tmpl, fluxes(f_g, f_z, plan), np.stack([fdx, fdy], 1))

    # noise, background residuals, off-detector regions
    cl = calib["clusters"][plan.cluster]
    exposure = SURVEY["exposure_s"][plan.cluster]
    # The real border median (over the noise) includes the wings of the
    # source and its neighbours' light; the mock makes those itself, so only
    # what they leave unexplained is added as a residual background.
    # The excess as the real one was measured: from the noise the border shows.
    noise_models, ratio_mean, ratio_std, excess = _background_models(plan, src["sigma"] * np.asarray(NOISE_MAD_CORRECTION),
                                                                     calib)
    offset = src["sigma"] * (ratio_mean + ratio_std * rng.standard_normal((n, 2)))
    # a slope where the host's light is (its residual), none far from it
    slope = GRADIENT * np.sqrt(np.clip(excess, 0.0, GRADIENT_MAX_EXCESS))
    gradient = (src["sigma"] * slope)[:, :, None] * rng.standard_normal((n, 2, 2))
    cut = add_noise(model, src["sigma"] * np.asarray(NOISE_MAD_CORRECTION), exposure, noise_models,
                    offset, gradient, rng, common_share=SMOOTH_NOISE_COMMON)
    cut = add_defects(cut, src["sigma"], rng)
    cut = apply_nan_regions(cut, rng, probability=cl["nan_fraction_of_cutouts"],
                            fraction_quantiles=cl["nan_pixel_fraction_quantiles"], angle=plan.angle)
    src["xi"], src["yi"] = xi, yi
    return cut.astype(np.float32)


def make_galaxy(plan, seed_rng, calib, *, critic=None, proposal=None, oversample=CRITIC_OVERSAMPLE,
                progress=None):
    """Sources, labels, cut-outs and measured features of one galaxy.

    Without a ``critic`` one galaxy's worth of sources is drawn and
    rendered. With one (:class:`._critic.RealismCritic`), ``oversample``
    times as many are rendered, in batches of one galaxy's worth each (so
    that neighbours keep the galaxy's density), their features measured,
    and the galaxy's numbers of labelled GCs and other sources are drawn
    out of them with weights given by the critic's density ratio
    (sampling-importance-resampling towards the real cut-outs). A
    ``proposal`` (:func:`._critic.proposal_model`) thins the drawn
    sources before they are rendered. ``progress`` (callable) is told,
    after each batch, how many of the galaxy's sources that batch stands
    for (the numbers add up to its sources).

    Returns
    -------
    sources : dict of ndarray
        True parameters and labels of the table's sources, in table order.
    cutouts : ndarray, (n, 2, 20, 20) float32
    features : pandas.DataFrame
        :func:`globsml.features.cutout_features` of the cut-outs, without
        extinction correction (measured as on real cut-outs; the table's
        magnitudes are corrected in :func:`galaxy_table`).
    """
    from threadpoolctl import threadpool_limits

    # one BLAS thread: the survey runs a worker process per core, and idle
    # BLAS threads spinning after each matrix product cost more than they give
    with threadpool_limits(limits=1, user_api="blas"):
        return _make_galaxy(plan, seed_rng, calib, critic=critic, proposal=proposal, oversample=oversample,
                            progress=progress)


def _make_galaxy(plan, seed_rng, calib, *, critic, proposal, oversample, progress):
    from ..features._cutouts import LATER_COLUMNS, cutout_features_later

    rng = seed_rng
    quant = _noise_quantiles(plan.galaxy, plan.cluster, calib)
    ref_sigma = noise_at((quant[0], calib["clusters"][plan.cluster]["sigma_quantiles"]), 0.5)
    batches = DETECTION_OVERSAMPLE if critic is None else max(1, int(oversample))
    pool = _draw_pool(plan, rng, quant, ref_sigma, factor=batches, proposal=proposal)
    taken = np.zeros(len(pool["x"]), bool)
    parts = []
    for b in range(batches):
        src, cut = _candidates(plan, pool, taken, rng, quant, calib)
        # measured as on the real cut-outs, whose E(B-V) the critic never
        # knew; the extinction correction comes with the table (galaxy_table).
        # The FWHM fit and the Kron fluxes, which neither the detection nor
        # the critic reads, are measured for the kept sources alone (below)
        parts.append((src, cut, *cutout_features_later(cut, galaxy=plan.galaxy)))
        if progress is not None:
            progress(plan.n_sources * (b + 1) // batches - plan.n_sources * b // batches)
    src = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    cut = np.concatenate([p[1] for p in parts])
    feats = pd.concat([p[2] for p in parts], ignore_index=True)
    starts = np.cumsum([0] + [len(p[1]) for p in parts])
    # detection on the image: a source is in the catalogue when its rendered
    # cut-out shows it, in both bands, as the pipeline's segmentation would
    # see it (noise peaks help faint ones in, as in the real catalogue)
    seen = (feats["label"].to_numpy() > 0) & (feats["label_z"].to_numpy() > 0)
    log_w = np.where(seen, 0.0, UNDETECTED_LOG_WEIGHT)
    if critic is not None:
        log_w = log_w + critic.log_ratio(feats, cut)
    lab = src["pGC"] >= GC_THRESHOLD
    pos, neg = np.flatnonzero(lab), np.flatnonzero(~lab)
    keep = np.concatenate([pos[weighted_choice(log_w[pos], plan.n_gcs, rng)],
                           neg[weighted_choice(log_w[neg], plan.n_sources - plan.n_gcs, rng)]])
    # table order: raster order of the frame (by y, then x)
    keep = keep[np.lexsort((src["x"][keep], src["y"][keep]))]
    src = {k: v[keep] for k, v in src.items()}
    # the columns left for later, measured on the kept cut-outs, batch by batch
    batch = np.searchsorted(starts, keep, side="right") - 1
    table = feats.iloc[keep].reset_index(drop=True)
    for b in np.unique(batch):
        at = np.flatnonzero(batch == b)
        done = parts[b][3](keep[at] - starts[b])
        for name in LATER_COLUMNS:
            table.loc[at, name] = done[name].to_numpy()
    return src, cut[keep], table


def _sky(plan, x, y):
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(plan.sky_centre)
    w.wcs.crpix = [plan.centre[0] + 1, plan.centre[1] + 1]
    c, s = np.cos(plan.angle), np.sin(plan.angle)
    scale = 0.05 / 3600
    w.wcs.cd = [[-scale * c, scale * s], [scale * s, scale * c]]
    ra, dec = w.wcs_pix2world(x, y, 0)
    return ra, dec


def galaxy_table(plan, src, features):
    """The published table rows of one galaxy from the features measured on its cut-outs.

    The magnitudes are corrected for the galaxy's Galactic extinction
    (``plan.ebv``), as the published table's are.
    """
    from ..features import correct_extinction

    table = correct_extinction(features, plan.ebv)
    table["ID"] = np.arange(len(table), dtype=table["ID"].dtype)
    # cut-out coordinates -> frame coordinates: the cut-out's pixel (10, 10)
    # is the frame pixel (xi, yi)
    for suffix in ("", "_z"):
        table["xcentroid" + suffix] = src["xi"] - CUTOUT // 2 + table["xcentroid" + suffix].to_numpy()
        table["ycentroid" + suffix] = src["yi"] - CUTOUT // 2 + table["ycentroid" + suffix].to_numpy()
    ra, dec = _sky(plan, table["xcentroid"].to_numpy(), table["ycentroid"].to_numpy())
    table["sky_centroid.ra"], table["sky_centroid.dec"] = ra, dec
    # segmentation labels of the full frame: raster order, as photutils numbers them
    n = len(table)
    table["label"] = np.arange(1, n + 1, dtype=np.int64)
    table["label_z"] = np.arange(1, n + 1, dtype=np.int64)
    matched = src["matched"]
    hst = np.full(n, np.nan)
    hst[matched] = 1 + np.flatnonzero(matched)  # catalogue running number
    table["HST_ID"] = hst
    # four decimals like a catalogue, without rounding anyone across the GC threshold
    pgc = np.round(src["pGC"], 4)
    pgc[(src["pGC"] < GC_THRESHOLD) & (pgc >= GC_THRESHOLD)] = GC_THRESHOLD - 1e-4
    table["pGC"] = pgc
    table["matched"] = matched.astype(np.int64)
    table["cluster"] = plan.cluster
    return table.loc[:, list(PUBLISHED_COLUMNS)]


def _plans(seed, scale):
    counts = survey_counts(scale=scale)
    plans = []
    for i, row in enumerate(counts.itertuples(index=False)):
        rng = _galaxy_rng(seed, i)
        plans.append((galaxy_plan(row.galaxy, row.cluster, i, row.n_sources, row.n_gcs, rng,
                                  n_gcs_full=row.n_gcs_full), rng))
    return plans


def _n_jobs(n_jobs, n_tasks):
    if n_jobs is None:
        n_jobs = min(2, usable_cpus())
    return max(1, min(int(n_jobs), n_tasks))


#: In a worker process: where it reports its progress (a multiprocessing queue).
_PROGRESS_QUEUE = None


def _init_worker(queue):
    global _PROGRESS_QUEUE
    _PROGRESS_QUEUE = queue


def _make_one(job, progress=None):
    """Make one galaxy's cut-out file and table part (in a worker process or not)."""
    plan, rng, part, image, use_critic = job
    if progress is None and _PROGRESS_QUEUE is not None:
        progress = _PROGRESS_QUEUE.put
    src, cut, feats = make_galaxy(plan, rng, calibration(), critic=realism_critic() if use_critic else None,
                                  proposal=proposal_model() if use_critic else None, progress=progress)
    table = galaxy_table(plan, src, feats)
    write_cutouts(image, cut)
    with atomic_path(part) as tmp:
        table.to_csv(tmp, index=False)
    return plan.galaxy


def _prepare_directory(directory, meta):
    """Check what ``directory`` holds and claim it; False when it already holds this finished mock.

    Refuses another mock's directory, a finished mock made with other
    arguments and a directory of files the mock did not make; marks the
    directory as the mock's (:data:`OWNER`) before writing into it.
    """
    marker = directory / MARKER
    if marker.is_file():
        done = json.loads(marker.read_text())
        keys = ("seed", "scale", "galaxies", "critic")
        if {k: done.get(k) for k in keys} == {k: meta[k] for k in keys} and (directory / TABLE_FILENAME).is_file():
            return False
        raise GlobsmlError(f"{directory}: holds a mock survey with seed {done.get('seed')}, scale "
                           f"{done.get('scale')} and critic {done.get('critic', False)}, not seed {meta['seed']}, "
                           f"scale {meta['scale']} and critic {meta['critic']}; choose another directory")
    if (directory / TABLE_FILENAME).exists():
        raise GlobsmlError(f"{directory}: already holds {TABLE_FILENAME} that is not a finished mock survey; "
                           "choose an empty directory")
    image_dir = directory / IMAGE_DIRNAME
    if not _parts_dir(directory, meta).is_dir() and not (directory / OWNER).is_file():  # never written into
        foreign = sorted(p.name for p in directory.glob("*") if p.is_file() and not p.name.startswith("."))
        foreign += sorted(f"{IMAGE_DIRNAME}/{p.name}" for p in image_dir.glob("*"))
        if foreign:
            raise GlobsmlError(
                f"{directory}: holds {len(foreign)} file(s) that globsml mock did not make ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); choose an empty directory"
            )
        directory.mkdir(parents=True, exist_ok=True)
        (directory / OWNER).write_text("globsml mock writes into this directory\n")
    _parts_dir(directory, meta).mkdir(parents=True, exist_ok=True)
    image_dir.mkdir(parents=True, exist_ok=True)
    return True


def _parts_dir(directory, meta):
    """Where the finished galaxies' table parts wait until the survey is complete."""
    return directory / f".mock-parts-seed{meta['seed']}-scale{meta['scale']:g}{'-critic' if meta['critic'] else ''}"


def _survey_plans(seed, scale, galaxies):
    """The plans (and random streams) of the galaxies to make: all, or those named."""
    plans = _plans(seed, scale)
    if galaxies is None:
        return plans
    wanted = set(map(str, galaxies))
    unknown = sorted(wanted - {p.galaxy for p, _ in plans})
    if unknown:
        raise GlobsmlError(f"mock survey: unknown galaxy name(s) {', '.join(unknown)}; "
                           "the mock has the 141 published galaxies")
    return [(p, r) for p, r in plans if p.galaxy in wanted]


def _make_galaxies(todo, n_jobs, progress):
    """Make the galaxies of ``todo`` (jobs of :func:`_make_one`), in worker processes where n_jobs > 1.

    ``progress`` (callable or None) is told the sources done as each
    galaxy's candidate batches finish, from the workers too, so that a bar
    moves while the biggest galaxies are made.
    """
    if n_jobs == 1:
        for job in todo:
            _make_one(job, progress)
        return
    import concurrent.futures as cf
    import multiprocessing as mp
    import queue as queue_module

    # biggest galaxies first, so that the workers finish together;
    # each galaxy has its own random stream, so the order changes nothing
    todo = sorted(todo, key=lambda job: -job[0].n_sources)
    # fork where there is fork: "spawn" would re-import the caller's
    # main script, which breaks scripts without a __main__ guard
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    reports = context.Queue() if progress is not None else None

    def drain():
        while reports is not None:
            try:
                progress(reports.get_nowait())
            except queue_module.Empty:
                return

    with cf.ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_init_worker, initargs=(reports,)) as pool:
        pending = {pool.submit(_make_one, job) for job in todo}
        while pending:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                fut.result()
            drain()
    drain()


def _assemble(directory, plans, meta):
    """The survey's table from the galaxies' parts, then the marker that says it is complete."""
    parts_dir = _parts_dir(directory, meta)
    table = pd.concat([pd.read_csv(parts_dir / f"{plan.galaxy}.csv") for plan, _ in plans], ignore_index=True)
    with atomic_path(directory / TABLE_FILENAME) as tmp:
        table.to_csv(tmp, index=True)
    with atomic_path(directory / MARKER) as tmp:
        tmp.write_text(json.dumps(meta, sort_keys=True) + "\n")
    shutil.rmtree(parts_dir, ignore_errors=True)


def make_mock_survey(directory, *, seed=0, scale=1.0, progress=True, galaxies=None, n_jobs=None, critic=True):
    """Make the mock survey in the published format.

    Writes ``ACS_sources_original.csv`` (every published column, in order,
    with pandas' unnamed index first) and ``ImageData/<galaxy>_images.fits``
    for the 141 galaxies of the published data set. Sources are rendered as
    images band by band (:mod:`globsml.mock`); the table is measured on the
    cut-outs with :func:`globsml.features.cutout_features`, then given
    frame coordinates and catalogue-like labels.

    Parameters
    ----------
    directory : str or Path
        Where to write; made if missing. An interrupted run leaves
        finished galaxies behind and a rerun with the same seed and scale
        continues from them; the directory is complete when it holds
        :data:`MARKER`.
    seed : int, optional
        Same seed (and scale), identical files.
    scale : float, optional
        Multiply every galaxy's number of sources and GCs by this (0, 1]
        (at least 5 sources per galaxy).
    progress : bool, optional
        Show a progress bar (over sources) on stderr.
    galaxies : sequence of str, optional
        Make only these galaxies (for tests and quick looks). Each galaxy
        has its own random stream, so its files are the same as in the
        whole survey made with the same seed and scale.
    n_jobs : int, optional
        Worker processes (galaxies are made in parallel); default: up to
        2, as many as there are CPUs. The files do not depend on it.
    critic : bool, optional
        Draw the sources through the shipped proposal model and keep the
        rendered ones that the shipped realism critic
        (:mod:`globsml.mock._critic`) finds most like real ones (the
        default); False gives the renderer's sources as drawn (faster:
        one source rendered per table row instead of
        :data:`CRITIC_OVERSAMPLE`).

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    use_critic = bool(critic) and realism_critic() is not None
    meta = {"generator": "globsml.mock", "version": __version__, "seed": int(seed), "scale": float(scale),
            "galaxies": None if galaxies is None else sorted(map(str, galaxies)), "critic": use_critic}
    plans = _survey_plans(meta["seed"], meta["scale"], galaxies)
    if not _prepare_directory(directory, meta):
        return directory
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(sum(p.n_sources for p, _ in plans)), desc="mock survey", unit="src", file=sys.stderr)
    todo = []
    for plan, rng in plans:
        part = _parts_dir(directory, meta) / f"{plan.galaxy}.csv"
        image = directory / IMAGE_DIRNAME / f"{plan.galaxy}{IMAGE_SUFFIX}"
        if part.is_file() and image.is_file():  # made by an interrupted run
            if bar is not None:
                bar.update(plan.n_sources)
        else:
            todo.append((plan, rng, part, image, use_critic))
    if todo:
        # once here rather than once in every worker process: the feature
        # measurement's imports (astropy.wcs among them) and the critic's
        # prepared rounds (torch among them)
        from .. import features  # noqa: F401

        for model in ((realism_critic(), proposal_model()) if use_critic else ()):
            if model is not None:
                model.compile()
    try:
        _make_galaxies(todo, _n_jobs(n_jobs, len(todo)), None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    _assemble(directory, plans, meta)
    return directory
