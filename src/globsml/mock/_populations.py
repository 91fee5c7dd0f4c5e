"""The source populations of one galaxy: GCs, foreground stars, background galaxies.

Everything here is physics with literature values (notes section 3 and
4); what the real cut-outs constrain (noise, PSF, the magnitude limits)
comes from :mod:`._calibration`.
"""

from dataclasses import dataclass

import numpy as np

from ..data import EXTINCTION_COEFFICIENTS, ZERO_POINTS
from ._calibration import SURVEY
from ._render import ARTEFACT, KING, POINT, SERSIC

__all__ = ["GalaxyPlan", "galaxy_plan", "draw_gcs", "draw_contaminants", "draw_artefacts",
           "draw_field_sources", "field_templates", "FIELD_TEMPLATES",
           "detection_probability", "POPULATION"]

#: Population parameters. Literature values unless marked [tuned], which
#: were adjusted so that the mock's measured m3/colour/CI distributions and
#: the difficulty of the published RF set-up approach the real ones
#: (``benchmarks/mock_realism.py``).
POPULATION = {
    # GC luminosity function (Jordan et al. 2007; Villegas et al. 2010)
    "gclf_turnover_g": -7.2,
    "gclf_sigma": (0.8, 1.35),  # dwarfs .. giants, grows with GC richness
    "gclf_turnover_scatter": 0.15,
    # g-z colour bimodality (Peng et al. 2006)
    "colour_blue": (0.95, 0.10),
    "colour_red": (1.40, 0.10),
    "red_fraction": (0.15, 0.60),  # dwarfs .. giants
    # GC half-light radii (Jordan et al. 2005, Masters et al. 2010): log-normal,
    # 2.7 pc median; blue GCs ~17% larger than red. (2.9 pc and a log sigma
    # of 0.40 left the mock's bright sources less point-like than the real:
    # 20% of the real at m3_g 21-23.5 have CI_g < 1.07, 5% of the mock's.)
    "rh_pc_median": 2.7,
    "rh_blue_factor": 1.09,
    "rh_red_factor": 0.91,
    "rh_log_sigma": 0.30,
    "king_log_c": (1.2, 1.9),  # log10(r_t / r_c), uniform
    # GC spatial distribution: surface density ~ exponential with scale h (px)
    "gc_scale_px": (120.0, 450.0),  # dwarfs .. giants
    # Contaminants among the detected non-GCs: share of foreground stars.
    "star_fraction": 0.010,  # [tuned]
    "star_mag_g": (21.0, 27.5),
    "star_count_slope": 0.20,  # dN/dm ~ 10^(slope m)
    # Stars: halo (blue) and disk dwarfs (red) mixture in g-z.
    "star_colour": ((0.65, 0.20, 0.45), (1.6, 0.55, 0.55)),  # (mean, sd, weight)
    # Background galaxies (faint galaxy counts, sizes, colours)
    "galaxy_mag_g": (19.5, 28.5),  # [tuned] real cut-outs hold 2% brighter than m3_g 22
    "galaxy_count_slope": 0.42,
    # g-z of background galaxies: a blue-to-intermediate bulk and a red
    # tail (early types and dusty galaxies at z ~ 1): (mean, sd, weight)
    # pairs. [tuned] to the real colour spread (sd ~0.8 at every m3_g, a quarter
    # bluer than 0.4-0.7, 9% redder than 2; the single 0.55-wide Gaussian
    # gave sd 0.5 and 4%).
    "galaxy_colour": ((0.50, 0.45, 0.75), (1.70, 0.70, 0.25)),
    "galaxy_reff_px": (4.0, 0.55),  # log-normal median (px), log sigma  [tuned]
    "galaxy_sersic_n": (0.6, 4.0),
    "galaxy_axis_ratio": (0.25, 1.0),
    # Detection (both bands, cross-matched): logistic completeness in
    # magnitude with the 50% point at m_lim (for the cluster's median
    # noise; brighter where the noise is higher), softened by size. [tuned]
    "mag_limit": {"g": 26.8, "z": 26.0},
    "mag_limit_width": 0.25,
    # ... brighter by size_penalty x log10(area) for extended sources [tuned:
    # 1.25 (all light spread evenly) left the mock's faint sources more
    # compact than the real ones, CI_g 0.08 lower at m3_g 25-27]
    "size_penalty": 1.0,
    # Field sources around every cut-out that are not in the table: GCs
    # and galaxies near and below the detection limit, and neighbours the
    # published selection left out (the real cut-outs' borders are busy:
    # 75-80% hold a pixel above 3 sigma, 17-24% above 5 sigma). Per
    # 34x34-px box around the source, outside its central 6x6 px,
    # power-law magnitudes; drawn from a small bank of pre-rendered
    # profiles (``field_templates``). [tuned] so that the share of cut-outs
    # with a border peak above 3, 5, 10 and 30 sigma approaches the real
    # one (calibration "border_peak_fractions"). Compact (GC-like) and no
    # fainter than 28: the real borders far from the host correlate like
    # drizzled noise alone (lag 2: 0.016) and their g and z pixels
    # correlate by 0.1, which fainter or extended field light overdid
    # (12 per cut-out down to 29.5, a third compact, gave lag 2 0.065).
    "field_per_cutout": 2.13,
    "field_box_px": 17,
    "field_inner_px": 3,
    "field_mag_g": (23.5, 28.0),
    "field_count_slope": 0.50,
    "field_gc_share": 1.0,
    "field_reff_px": (1.5, 0.6),  # log-normal median (px), log sigma
    # Share of sources blended with a close companion (1.5-4 px away)
    "blend_fraction": 0.04,
}


@dataclass
class GalaxyPlan:
    """Global parameters of one mock galaxy."""

    galaxy: str
    cluster: str
    index: int
    n_sources: int
    n_gcs: int
    distance_modulus: float
    richness: float  # 0 (dwarf) .. 1 (giant), from the GC count
    ebv: float
    gclf_mean_g: float  # apparent, before extinction
    gclf_sigma: float
    red_fraction: float
    gc_scale_px: float
    centre: tuple
    angle: float  # orientation of the drizzled footprint (NaN edges)
    sky_centre: tuple

    @property
    def pc_per_px(self):
        d_pc = SURVEY["distance_mpc"][self.cluster] * 1e6
        return d_pc * np.deg2rad(0.05 / 3600)

    @property
    def extinction(self):
        return np.array([EXTINCTION_COEFFICIENTS["g"] * self.ebv, EXTINCTION_COEFFICIENTS["z"] * self.ebv])


def galaxy_plan(galaxy, cluster, index, n_sources, n_gcs, rng, *, n_gcs_full=None):
    """Draw the global parameters of a galaxy.

    ``n_gcs_full`` (the unscaled GC count) sets the richness so that a
    scaled-down mock keeps each galaxy's character.
    """
    p = POPULATION
    full = n_gcs if n_gcs_full is None else n_gcs_full
    richness = float(np.clip((np.log10(full + 1) - 1.0) / 2.0, 0, 1))
    mu = SURVEY["distance_modulus"][cluster] + rng.normal(0, SURVEY["distance_modulus_scatter"][cluster])
    lo, hi = SURVEY["ebv_range"][cluster]
    frame = SURVEY["frame_px"]
    sky = SURVEY["sky_centre"][cluster]
    return GalaxyPlan(
        galaxy=galaxy, cluster=cluster, index=index, n_sources=int(n_sources), n_gcs=int(n_gcs),
        distance_modulus=mu, richness=richness, ebv=float(rng.uniform(lo, hi)),
        gclf_mean_g=mu + p["gclf_turnover_g"] + rng.normal(0, p["gclf_turnover_scatter"]),
        gclf_sigma=p["gclf_sigma"][0] + richness * (p["gclf_sigma"][1] - p["gclf_sigma"][0]),
        red_fraction=p["red_fraction"][0] + richness * (p["red_fraction"][1] - p["red_fraction"][0]),
        gc_scale_px=p["gc_scale_px"][0] + richness * (p["gc_scale_px"][1] - p["gc_scale_px"][0]),
        centre=(frame / 2 + rng.normal(0, 150), frame / 2 + rng.normal(0, 150)),
        angle=float(rng.uniform(0, np.pi / 2)),
        sky_centre=(sky[0] + rng.normal(0, 1.5), sky[1] + rng.normal(0, 1.5)),
    )


def _empty(n):
    return {k: np.zeros(n) for k in ("mag_g", "mag_z", "p1", "p2", "p3", "p4", "x", "y", "size_px")} | {
        "kind": np.zeros(n, np.int64), "true_gc": np.zeros(n, bool)}


def _frame_positions(x, y, rng, plan, spread):
    """Keep positions inside the frame (20 px margin): redraw the ones outside uniformly."""
    frame = SURVEY["frame_px"]
    out = (x < 20) | (x > frame - 20) | (y < 20) | (y > frame - 20)
    x[out] = rng.uniform(20, frame - 20, out.sum())
    y[out] = rng.uniform(20, frame - 20, out.sum())
    return x, y


def draw_gcs(n, rng, plan):
    """True GCs: King profiles, Gaussian GCLF, bimodal colours, log-normal sizes."""
    p = POPULATION
    s = _empty(n)
    s["kind"][:] = KING
    s["true_gc"][:] = True
    mag_g = rng.normal(plan.gclf_mean_g, plan.gclf_sigma, n)
    red = rng.random(n) < plan.red_fraction
    col = np.where(red, rng.normal(*p["colour_red"], n), rng.normal(*p["colour_blue"], n))
    s["mag_g"] = mag_g
    s["mag_z"] = mag_g - col
    rh_pc = p["rh_pc_median"] * np.where(red, p["rh_red_factor"], p["rh_blue_factor"]) * np.exp(
        rng.normal(0, p["rh_log_sigma"], n))
    rh_pc = np.clip(rh_pc, 0.5, 15.0)
    s["p1"] = rh_pc / plan.pc_per_px
    s["p2"] = 10 ** rng.uniform(*p["king_log_c"], n)
    s["size_px"] = s["p1"]
    r = rng.gamma(2.0, plan.gc_scale_px, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    s["x"], s["y"] = _frame_positions(plan.centre[0] + r * np.cos(phi), plan.centre[1] + r * np.sin(phi),
                                      rng, plan, plan.gc_scale_px)
    return s


def _power_law_mags(n, lo, hi, slope, rng):
    """Magnitudes with dN/dm ~ 10^(slope m) on [lo, hi] (inverse CDF)."""
    a = np.log(10) * slope
    u = rng.random(n)
    return np.log(np.exp(a * lo) + u * (np.exp(a * hi) - np.exp(a * lo))) / a


def _galaxy_colours(n, rng):
    """g-z of background galaxies from the two-component mixture of POPULATION["galaxy_colour"]."""
    (m1, s1, w1), (m2, s2, _) = POPULATION["galaxy_colour"]
    first = rng.random(n) < w1
    return np.where(first, rng.normal(m1, s1, n), rng.normal(m2, s2, n))


def draw_contaminants(n, rng, plan):
    """Foreground stars (points) and background galaxies (Sersic)."""
    p = POPULATION
    s = _empty(n)
    star = rng.random(n) < p["star_fraction"]
    ns, ng = int(star.sum()), int((~star).sum())
    # stars
    comp = rng.random(ns) < p["star_colour"][0][2]
    col_s = np.where(comp, rng.normal(*p["star_colour"][0][:2], ns), rng.normal(*p["star_colour"][1][:2], ns))
    col_s = np.clip(col_s, 0.2, 3.2)
    mag_s = _power_law_mags(ns, *p["star_mag_g"], p["star_count_slope"], rng)
    # galaxies
    mag_gx = _power_law_mags(ng, *p["galaxy_mag_g"], p["galaxy_count_slope"], rng)
    col_gx = np.clip(_galaxy_colours(ng, rng), -0.5, 3.5)
    reff = np.exp(np.log(p["galaxy_reff_px"][0]) + rng.normal(0, p["galaxy_reff_px"][1], ng))
    reff = np.clip(reff, 0.3, 25.0)
    s["kind"][star] = POINT
    s["kind"][~star] = SERSIC
    s["mag_g"][star], s["mag_z"][star] = mag_s, mag_s - col_s
    s["mag_g"][~star], s["mag_z"][~star] = mag_gx, mag_gx - col_gx
    s["p1"][~star] = reff
    s["p2"][~star] = rng.uniform(*p["galaxy_sersic_n"], ng)
    s["p3"][~star] = rng.uniform(*p["galaxy_axis_ratio"], ng)
    s["p4"][~star] = rng.uniform(0, np.pi, ng)
    s["size_px"][~star] = reff * np.sqrt(s["p3"][~star])
    frame = SURVEY["frame_px"]
    s["x"], s["y"] = rng.uniform(20, frame - 20, n), rng.uniform(20, frame - 20, n)
    return s


#: The profiles field sources are drawn from: (kind, r_half or r_eff px, King c or Sersic n, axis ratio).
FIELD_TEMPLATES = (
    (POINT, 0.0, 0.0, 1.0),
    (KING, 0.4, 30.0, 1.0), (KING, 0.8, 30.0, 1.0), (KING, 1.4, 30.0, 1.0),
    (SERSIC, 0.8, 1.0, 0.9), (SERSIC, 0.8, 1.0, 0.5),
    (SERSIC, 1.4, 1.0, 0.9), (SERSIC, 1.4, 1.5, 0.5),
    (SERSIC, 2.4, 1.0, 0.9), (SERSIC, 2.4, 1.0, 0.5),
    (SERSIC, 4.0, 1.0, 0.8), (SERSIC, 4.0, 2.0, 0.5),
)


def field_templates(rng):
    """Kinds and parameters (n, 4) of the field-source bank; position angles drawn per galaxy."""
    t = np.asarray(FIELD_TEMPLATES, dtype=float)
    params = np.stack([t[:, 1], t[:, 2], t[:, 3], rng.uniform(0, np.pi, len(t))], axis=1)
    return t[:, 0].astype(np.int64), params


def draw_field_sources(n, rng, plan):
    """Field sources around the cut-outs (not in the table), drawn from the template bank.

    Returns
    -------
    template : ndarray of int
        Index into :data:`FIELD_TEMPLATES`.
    mag_g, mag_z : ndarray
        Intrinsic magnitudes.
    dx, dy : ndarray of int
        Offsets in pixels from the host cut-out's centre, outside its central box.
    """
    p = POPULATION
    kinds = np.array([k for k, *_ in FIELD_TEMPLATES])
    sizes = np.array([r for _, r, *_ in FIELD_TEMPLATES])
    gc = rng.random(n) < p["field_gc_share"]
    mag_g = _power_law_mags(n, *p["field_mag_g"], p["field_count_slope"], rng)
    red = rng.random(n) < plan.red_fraction
    gc_col = np.where(red, rng.normal(*p["colour_red"], n), rng.normal(*p["colour_blue"], n))
    col = np.where(gc, gc_col, np.clip(_galaxy_colours(n, rng), -0.5, 3.5))
    # GCs: the King template nearest their size; galaxies: a Sersic one by
    # size (log-normal), each of the two shapes of that size equally often
    rh = POPULATION["rh_pc_median"] * np.exp(rng.normal(0, p["rh_log_sigma"], n)) / plan.pc_per_px
    reff = np.exp(np.log(p["field_reff_px"][0]) + rng.normal(0, p["field_reff_px"][1], n))
    king = np.flatnonzero(kinds == KING)
    sers = np.flatnonzero(kinds == SERSIC)
    sers_sizes = np.unique(sizes[sers])
    t_gc = king[np.argmin(np.abs(np.log(rh[:, None] / sizes[None, king])), axis=1)]
    size_idx = np.argmin(np.abs(np.log(reff[:, None] / sers_sizes[None, :])), axis=1)
    t_gx = sers[2 * size_idx + rng.integers(0, 2, n)]
    template = np.where(gc, t_gc, t_gx)
    box, inner = p["field_box_px"], p["field_inner_px"]
    dx, dy = rng.integers(-box, box + 1, n), rng.integers(-box, box + 1, n)
    for _ in range(50):  # redraw the ones in the central box (few rounds)
        bad = (np.abs(dx) < inner) & (np.abs(dy) < inner)
        if not bad.any():
            break
        dx[bad], dy[bad] = rng.integers(-box, box + 1, bad.sum()), rng.integers(-box, box + 1, bad.sum())
    return template, mag_g, mag_g - col, dx, dy


def draw_artefacts(n, rng, plan):
    """Hot pixels and cosmic-ray residuals detected in both bands.

    The real cut-outs hold many (18% of the Virgo sources, 1.5% of the
    Fornax ones, per galaxy from 0.5% to 58%; ``artefact_fraction`` in the
    calibration): one to three sharp pixels, ~0.35 electrons/s in each
    band (log-normal), not blurred by the PSF. Fluxes measured on the real
    ones (``benchmarks/calibrate_mock.py``, CI_g < 0.8).
    """
    s = _empty(n)
    s["kind"][:] = ARTEFACT
    flux_g = np.exp(np.log(0.35) + rng.normal(0, 0.45, n))
    flux_z = flux_g * np.exp(rng.normal(0, 0.3, n))
    ext = plan.extinction
    s["mag_g"] = ZERO_POINTS["g"] - 2.5 * np.log10(flux_g) - ext[0]
    s["mag_z"] = ZERO_POINTS["z"] - 2.5 * np.log10(flux_z) - ext[1]
    s["p1"] = rng.integers(0, 4, n)
    s["p2"] = rng.uniform(0.45, 0.8, n)
    s["p3"] = rng.integers(0, 8, n)
    s["p4"] = rng.uniform(0.5, 1.0, n)
    s["x"], s["y"] = rng.uniform(20, SURVEY["frame_px"] - 20, n), rng.uniform(20, SURVEY["frame_px"] - 20, n)
    return s


def detection_probability(mag_g, mag_z, size_px, noise_ratio, *, depth=0.0):
    """Probability that a source is detected in both bands and cross-matched.

    ``noise_ratio`` (n, 2): the cut-out's noise over the cluster's median
    noise; the limit is brighter by 2.5 log10 of it. Extended sources
    spread their light: the limit is brighter by 2.5 log10 of the ratio of
    their effective area to a point source's (PSF half-light radius ~1.2 px),
    softened by ``size_penalty``. ``depth`` (mag) moves both limits fainter.
    """
    p = POPULATION
    area = 1.0 + (np.asarray(size_px) / 1.2) ** 2
    prob = np.ones(len(mag_g))
    for b, (band, mag) in enumerate((("g", mag_g), ("z", mag_z))):
        lim = p["mag_limit"][band] + depth - 2.5 * np.log10(noise_ratio[:, b]) - p["size_penalty"] * np.log10(area)
        prob *= 1.0 / (1.0 + np.exp((mag - lim) / p["mag_limit_width"]))
    return prob


def fluxes(mag_g, mag_z, plan):
    """Observed fluxes (electrons/s) of intrinsic (dereddened) magnitudes."""
    ext = plan.extinction
    fg = 10 ** (-0.4 * (mag_g + ext[0] - ZERO_POINTS["g"]))
    fz = 10 ** (-0.4 * (mag_z + ext[1] - ZERO_POINTS["z"]))
    return np.stack([fg, fz], axis=1)
