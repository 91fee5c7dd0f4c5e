"""Rendering: PSF-convolved stamps of many sources, composed into noisy cut-outs.

Each source is rendered once per band onto a 28x28-pixel stamp: its
profile is point-sampled on a grid 4 times finer than the pixels
(:mod:`._profiles`), convolved by FFT, a batch at a time, with the
empirical ePSF of the band (already pixel-integrated, oversampled 4x,
:func:`._calibration.psf_model`), and read off at the pixel centres. A
cut-out is then the central 20x20 pixels of its source's stamp plus the
stamps of its neighbours, shifted by whole pixels, plus noise whose level
comes from the real cut-outs.
"""

import numpy as np
from scipy import fft

from ._calibration import psf_model
from ._profiles import king_profile, sersic_profile

__all__ = ["POINT", "KING", "SERSIC", "ARTEFACT", "render_stamps", "compose_cutouts", "add_noise", "apply_nan_regions",
           "noise_acf", "background_noise", "add_templates", "add_defects", "DEFECTS",
           "STAMP", "CUTOUT"]

POINT, KING, SERSIC, ARTEFACT = 0, 1, 2, 3
#: Neighbour pixels (dx, dy) an artefact's charge spills into.
_SPILL = ((1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (-1, -1), (1, -1))
STAMP = 28  # stamp side, pixels; the reference pixel is STAMP // 2
CUTOUT = 20  # cut-out side; the source sits in pixel CUTOUT // 2 (published convention)
_BATCH = 256


class _Renderer:
    """FFT convolution with the ePSF of both bands on the fine stamp grid."""

    def __init__(self):
        psf = psf_model()
        self.o = psf["oversampling"]
        self.n = STAMP * self.o
        ref = (STAMP // 2) * self.o
        fine = (np.arange(self.n) - ref) / self.o
        self.u = fine[None, None, :]  # x offsets from the reference pixel centre
        self.v = fine[None, :, None]
        self.psf_hat = []
        for band in ("g", "z"):
            e = psf[band]
            h, w = e.shape
            kernel = np.zeros((self.n, self.n))
            cy, cx = h // 2, w // 2
            yy = (np.arange(h) - cy) % self.n
            xx = (np.arange(w) - cx) % self.n
            kernel[np.ix_(yy, xx)] = e
            self.psf_hat.append(fft.rfft2(kernel.astype(np.float32)))
        # Folding the spectrum onto the pixel grid (:meth:`render`): the x
        # aliases kx + j m (j = 0..o-1) of each kept frequency kx; those
        # above n / 2 are the conjugates of kept ones at (-ky, n - kx - j m)
        m = self.n // self.o
        kx = np.arange(m // 2 + 1)
        self.flip = -np.arange(m) % m  # the frequency -ky of each ky
        self.aliases = []
        for j in range(self.o):
            alias = kx + j * m
            direct = alias <= self.n // 2
            self.aliases.append((direct, alias[direct], ~direct, self.n - alias[~direct]))

    def fine_weights(self, kind, dx, dy, p1, p2, p3, p4):
        """Unit-flux weights of a batch on the fine grid, (b, n, n)."""
        b = len(kind)
        x = (self.u - dx[:, None, None]).astype(np.float32)
        y = (self.v - dy[:, None, None]).astype(np.float32)
        king, sers = kind == KING, kind == SERSIC
        parts = []  # (rows, unit-flux profiles), in single precision: the profiles need no more
        if king.any():
            prof = king_profile(x[king], y[king], p1[king, None, None].astype(np.float32),
                                p2[king, None, None].astype(np.float32))
            prof /= prof.sum(axis=(1, 2), keepdims=True)
            parts.append((king, prof))
        if sers.any():
            s = lambda a: a[sers, None, None].astype(np.float32)  # noqa: E731
            prof = sersic_profile(x[sers], y[sers], s(p1), s(p2), s(p3), s(p4))
            prof /= self.o**2
            parts.append((sers, prof))
        if len(parts) == 1 and parts[0][0].all():
            w = parts[0][1]  # a batch of one kind (render_stamps sorts by kind) is its profile: no copy
        else:
            w = np.zeros((b, self.n, self.n), dtype=np.float32)
            for rows, prof in parts:
                w[rows] = prof
        point = np.flatnonzero(kind == POINT)
        if len(point):
            ref = (STAMP // 2) * self.o
            fx = ref + dx[point] * self.o
            fy = ref + dy[point] * self.o
            x0, y0 = np.floor(fx).astype(int), np.floor(fy).astype(int)
            tx, ty = fx - x0, fy - y0
            for ox, oy, wt in ((0, 0, (1 - tx) * (1 - ty)), (1, 0, tx * (1 - ty)),
                               (0, 1, (1 - tx) * ty), (1, 1, tx * ty)):
                np.add.at(w, (point, y0 + oy, x0 + ox), wt)
        return w

    def _ramp(self, freq, shift):
        """exp(-2 pi i k s) for the fine-grid frequencies ``freq`` and shifts ``shift`` (pixels), (b, len(freq))."""
        return np.exp(-2j * np.pi * freq[None, :] * (shift * self.o)[:, None]).astype(np.complex64)

    def render(self, kind, dx, dy, p1, p2, p3, p4, flux, zshift=None):
        """Stamps (b, 2, STAMP, STAMP) in electrons/s.

        ``zshift`` (b, 2): the z band's source is moved by this (x, y) in
        pixels, by a phase ramp on the spectrum (exact for the
        band-limited, PSF-convolved image).

        Only the pixel centres (every ``o``-th fine sample) are needed:
        subsampling is aliasing, so the spectrum is folded onto the
        STAMP x STAMP frequencies of the pixel grid (along y directly,
        along x with the negative frequencies the real transform leaves
        out, from its Hermitian symmetry) and a STAMP x STAMP inverse
        transform gives the pixels: ~``o**2`` times cheaper than a full
        inverse.
        """
        w = self.fine_weights(kind, dx, dy, p1, p2, p3, p4)
        # one FFT thread: the survey already runs a worker process per core
        what = fft.rfft2(w, workers=1)
        b = len(kind)
        m = self.n // self.o
        out = np.empty((b, 2, STAMP, STAMP))
        for band in range(2):
            prod = what * self.psf_hat[band]
            shift = band == 1 and zshift is not None and np.any(zshift)
            if shift:
                # the phase ramp is separable: its y factor before the fold
                # (it differs between the aliases folded together), its x
                # factor after it (the fold keeps the x frequencies)
                prod *= self._ramp(np.fft.fftfreq(self.n), zshift[:, 1])[:, :, None]
            folded = prod.reshape(b, self.o, m, prod.shape[-1]).sum(axis=1)
            if shift:
                folded *= self._ramp(np.fft.rfftfreq(self.n), zshift[:, 0])[:, None, :]
            mirror = np.conj(folded[:, self.flip])
            pixels = np.zeros((b, m, m // 2 + 1), dtype=folded.dtype)
            for direct, source, mirrored, mirror_source in self.aliases:
                pixels[:, :, direct] += folded[:, :, source]
                pixels[:, :, mirrored] += mirror[:, :, mirror_source]
            img = fft.irfft2(pixels, s=(m, m), workers=1) / self.o**2
            out[:, band] = img * flux[:, band, None, None]
        return out


_RENDERER = None


def render_stamps(kind, dx, dy, params, flux, *, zshift=None, progress=None):
    """Render sources onto stamps.

    Parameters
    ----------
    kind : ndarray of int
        :data:`POINT` (star), :data:`KING` (GC) or :data:`SERSIC` (galaxy).
    dx, dy : ndarray
        Sub-pixel offset of each source from its stamp's reference pixel.
    params : ndarray, shape (n, 4)
        KING: (r_half px, concentration, -, -); SERSIC: (r_eff px, n, q,
        theta); ARTEFACT (hot pixel / cosmic ray, not seen through the
        PSF): (first spill direction 0-3, share of the central pixel,
        second spill direction 0-7, share of the first spill in the rest);
        ignored for POINT.
    flux : ndarray, shape (n, 2)
        Total flux in g and z, electrons/s.
    zshift : ndarray, shape (n, 2), optional
        Where the z band's source lies relative to the g band's, (x, y)
        pixels. The real g and z cut-outs are each centred on the pixel
        nearest the source in its own band's frame, whose pixel grids are
        not aligned, so the source's sub-pixel place differs between the
        bands (the difference of two uniform offsets: median 0.5 px);
        artefacts get a z spill pattern of their own instead.
    progress : callable, optional
        Called with the number of sources done after each batch.

    Returns
    -------
    ndarray, shape (n, 2, STAMP, STAMP)
    """
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = _Renderer()
    n = len(kind)
    out = np.empty((n, 2, STAMP, STAMP))
    # Sorting by kind keeps batches homogeneous (cheaper profile evaluation);
    # the result does not depend on the batching.
    art = np.flatnonzero(kind == ARTEFACT)
    out[art] = 0.0
    ref = STAMP // 2
    for i in art:
        p = params[i]
        rest = 1.0 - p[1]
        d1, d2 = _SPILL[int(p[0]) % 4], _SPILL[int(p[2]) % 8]
        out[i, :, ref, ref] += p[1] * flux[i]
        out[i, 0, ref + d1[1], ref + d1[0]] += rest * p[3] * flux[i, 0]
        out[i, 0, ref + d2[1], ref + d2[0]] += rest * (1 - p[3]) * flux[i, 0]
        # z: the spill of a charge trail seen in the other band's frame
        # lands in other neighbours (its own centroid, 0.5 px from g's)
        e1, e2 = _SPILL[(int(p[0]) + 1 + int(p[2])) % 4], _SPILL[4 + int(p[0]) % 4]
        out[i, 1, ref + e1[1], ref + e1[0]] += rest * p[3] * flux[i, 1]
        out[i, 1, ref + e2[1], ref + e2[0]] += rest * (1 - p[3]) * flux[i, 1]
    order = np.argsort(kind, kind="stable")
    order = order[kind[order] != ARTEFACT]
    for start in range(0, len(order), _BATCH):
        idx = order[start : start + _BATCH]
        out[idx] = _RENDERER.render(kind[idx], dx[idx], dy[idx], *(params[idx, k] for k in range(4)), flux[idx],
                                    None if zshift is None else zshift[idx])
        if progress is not None:
            progress(len(idx))
    return out


def compose_cutouts(stamps, n_sources, hosts, items, offsets):
    """Cut-outs: each source's own stamp plus the stamps of its neighbours.

    Parameters
    ----------
    stamps : ndarray, (m, 2, STAMP, STAMP)
        The first ``n_sources`` are the table's sources, in order.
    hosts, items : ndarray of int
        Stamp ``items[k]`` lands in cut-out ``hosts[k]``...
    offsets : ndarray of int, (k, 2)
        ... with its reference pixel at (x, y) offset from the cut-out's centre pixel.

    Returns
    -------
    ndarray, (n_sources, 2, CUTOUT, CUTOUT)
    """
    lo = STAMP // 2 - CUTOUT // 2
    cut = stamps[:n_sources, :, lo : lo + CUTOUT, lo : lo + CUTOUT].copy()
    for host, item, (ox, oy) in zip(hosts, items, offsets):
        # stamp pixel p lands on cut-out pixel p - lo + offset
        x0, y0 = ox - lo, oy - lo
        cx0, cx1 = max(0, x0), min(CUTOUT, x0 + STAMP)
        cy0, cy1 = max(0, y0), min(CUTOUT, y0 + STAMP)
        if cx0 >= cx1 or cy0 >= cy1:
            continue
        cut[host, :, cy0:cy1, cx0:cx1] += stamps[item, :, cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return cut


def add_templates(cut, bank, hosts, template, flux, offsets):
    """Add scaled copies of pre-rendered stamps to cut-outs, in place.

    Parameters
    ----------
    cut : ndarray, (n, 2, CUTOUT, CUTOUT)
    bank : ndarray, (k, 2, STAMP, STAMP)
        Unit-flux stamps.
    hosts, template : ndarray of int
        Copy ``k`` of ``bank[template[k]]`` lands in cut-out ``hosts[k]``...
    flux : ndarray, (m, 2)
        ... scaled by its flux per band ...
    offsets : ndarray of int, (m, 2)
        ... with its reference pixel at (x, y) offset from the cut-out's centre pixel.
    """
    lo = STAMP // 2 - CUTOUT // 2
    hosts, template = np.asarray(hosts, dtype=np.int64), np.asarray(template, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    # every CUTOUT x CUTOUT window of the zero-padded bank, as a view: cut-out
    # pixel p shows stamp pixel p + lo - offset, so the copy is the window
    # starting at lo - offset (+ the padding); one that misses the stamp
    # reads the padding alone
    padded = np.zeros((len(bank), 2, STAMP + 2 * CUTOUT, STAMP + 2 * CUTOUT), dtype=bank.dtype)
    padded[:, :, CUTOUT : CUTOUT + STAMP, CUTOUT : CUTOUT + STAMP] = bank
    windows = np.lib.stride_tricks.sliding_window_view(padded, (CUTOUT, CUTOUT), axis=(2, 3))
    start = np.clip(lo - offsets + CUTOUT, 0, STAMP + CUTOUT)
    # the j-th copy of every cut-out at once (no cut-out twice in one step)
    order = np.argsort(hosts, kind="stable")
    first = np.searchsorted(hosts[order], hosts[order], side="left")
    rank = np.empty(len(hosts), np.int64)
    rank[order] = np.arange(len(hosts)) - first
    for j in range(int(rank.max()) + 1 if len(hosts) else 0):
        k = np.flatnonzero(rank == j)
        copies = windows[template[k], :, start[k, 1], start[k, 0]]  # (len(k), 2, CUTOUT, CUTOUT)
        cut[hosts[k]] += np.asarray(flux)[k, :, None, None] * copies
    return cut


def _separable_weight(rho):
    """Weight a of the kernel [a, 1, a] whose output has lag-1 correlation rho."""
    rho = float(np.clip(rho, 0.0, 0.49))
    if rho == 0:
        return 0.0
    # rho = 2a / (1 + 2a^2)  ->  2 rho a^2 - 2a + rho = 0
    return (1 - np.sqrt(1 - 2 * rho**2)) / (2 * rho)


def noise_acf(lag1, smooth_share, smooth_scale, *, half=8):
    """Autocorrelation of the mock's background noise on lags -half..half (2-D).

    Two independent parts, as the real drizzled frames show
    (``benchmarks/calibrate_mock.py`` fits them): drizzling correlates
    neighbouring pixels (a separable [a, 1, a] kernel with lag-1
    correlation ``lag1``), and a share ``smooth_share`` of the variance is
    smooth on a scale of a few pixels (Gaussian autocorrelation of width
    ``smooth_scale`` px: the host's unresolved light, its surface
    brightness fluctuations and subtraction residuals). Far from the host
    the real noise is drizzle alone; the smooth share grows with the
    host's share of the noise.
    """
    a = _separable_weight(lag1)
    lags = np.arange(-half, half + 1)
    r = np.zeros(len(lags))
    r[half] = 1.0
    r[half - 1] = r[half + 1] = 2 * a / (1 + 2 * a * a)
    r[half - 2] = r[half + 2] = a * a / (1 + 2 * a * a)
    drizzle = r[:, None] * r[None, :]
    d2 = lags[:, None] ** 2 + lags[None, :] ** 2
    smooth = np.exp(-d2 / (4.0 * max(float(smooth_scale), 1e-3) ** 2))
    f = float(np.clip(smooth_share, 0.0, 0.95))
    return (1 - f) * drizzle + f * smooth


def _drizzle_taps(lag1):
    a = _separable_weight(lag1)
    t = np.array([a, 1.0, a])
    return t / np.sqrt((t**2).sum())


def _smooth_taps(scale):
    # a Gaussian of width ``scale`` whose white-noise output has the
    # autocorrelation exp(-d^2 / (4 scale^2)) of noise_acf's smooth part
    h = max(1, int(np.ceil(3 * scale)))
    x = np.arange(-h, h + 1)
    t = np.exp(-0.5 * (x / max(float(scale), 1e-3)) ** 2)
    return t / np.sqrt((t**2).sum())


def _separable_field(n, taps, rng, white=None):
    """``n`` unit-variance 20x20 fields: white noise convolved by ``taps`` along both axes.

    ``white`` (n, m, m), m >= 19 + len(taps), is used instead of fresh
    noise (its centre), so that fields of different widths can share it.
    """
    k = len(taps)
    if white is None:
        white = rng.standard_normal((n, CUTOUT + k - 1, CUTOUT + k - 1), dtype=np.float32)
    else:
        c = (white.shape[1] - (CUTOUT + k - 1)) // 2
        white = white[:, c : c + CUTOUT + k - 1, c : c + CUTOUT + k - 1]
    # Along each axis the valid part of the correlation is a banded (20, m)
    # matrix applied to the field: two small matrix products per batch run
    # 4-8 times faster than scipy.ndimage.correlate1d on 20-30 pixel rows,
    # in the noise's own precision (float32: 1e-6 of the unit variance)
    m = CUTOUT + k - 1
    band = np.zeros((CUTOUT, m), dtype=white.dtype)
    for j, t in enumerate(np.asarray(taps, dtype=white.dtype)):
        band[np.arange(CUTOUT), np.arange(CUTOUT) + j] = t
    # the rows of all fields as one matrix product (a stack of small
    # products costs ten times more), then the columns
    rows = (np.ascontiguousarray(white).reshape(-1, m) @ band.T).reshape(len(white), m, CUTOUT)
    return np.matmul(band, rows)


def background_noise(n, lag1, smooth_share, smooth_scale, rng, *, common=None, common_share=0.0):
    """``n`` unit-variance 20x20 noise fields with the autocorrelation :func:`noise_acf`.

    The drizzle part and the smooth part are independent fields, mixed per
    cut-out: ``smooth_share`` may be a scalar or one share per cut-out
    (the real smooth share grows with the host light, see
    ``benchmarks/calibrate_mock.py``). ``common`` (white noise shared with
    the other band) makes ``common_share`` of the smooth part's variance:
    the host's fluctuations are the same light in both bands.
    """
    f = np.clip(np.broadcast_to(np.asarray(smooth_share, dtype=np.float64), (n,)), 0.0, 0.95)
    out = _separable_field(n, _drizzle_taps(lag1), rng).astype(np.float64)
    if np.any(f > 0):
        taps = _smooth_taps(smooth_scale)
        smooth = _separable_field(n, taps, rng)
        if common is not None and common_share > 0:
            smooth = (np.sqrt(1 - common_share) * smooth
                      + np.sqrt(common_share) * _separable_field(n, taps, rng, white=common))
        out = np.sqrt(1 - f)[:, None, None] * out + np.sqrt(f)[:, None, None] * smooth
    return out


def add_noise(model, sigma, exposure, noise_models, offset, gradient, rng, *, common_share=0.0):
    """Model plus drizzle-correlated background and Poisson noise.

    Parameters
    ----------
    model : ndarray, (n, 2, 20, 20)
        Noise-free cut-outs, electrons/s.
    sigma : ndarray, (n, 2)
        Background noise (sky, read noise, host light) of each cut-out and band.
    exposure : sequence of 2 floats
        Exposure time per band, s: the Poisson variance of source light is
        model / exposure.
    noise_models : sequence of 2 tuples
        Per band ``(lag1, smooth_share, smooth_scale)`` of
        :func:`background_noise`; the share may hold one value per cut-out.
    offset : ndarray, (n, 2)
        Background residual (constant) per cut-out and band.
    gradient : ndarray, (n, 2, 2)
        Background residual slope (x, y) per pixel.
    rng : numpy.random.Generator
    common_share : float
        Share of the smooth part's variance common to both bands
        (:func:`background_noise`).
    """
    n = len(model)
    out = np.empty_like(model)
    grid = np.arange(CUTOUT) - CUTOUT // 2
    common = None
    if common_share > 0:
        k = max(len(_smooth_taps(m[2])) for m in noise_models)
        common = rng.standard_normal((n, CUTOUT + k - 1, CUTOUT + k - 1), dtype=np.float32)
    for band in range(2):
        corr = background_noise(n, *noise_models[band], rng, common=common, common_share=common_share)
        m = model[:, band]
        var = sigma[:, band, None, None] ** 2 + np.clip(m, 0, None) / exposure[band]
        plane = (offset[:, band, None, None] + gradient[:, band, 0, None, None] * grid[None, None, :]
                 + gradient[:, band, 1, None, None] * grid[None, :, None])
        out[:, band] = m + plane + np.sqrt(var) * corr
    return out


#: [tuned] Detector defects the drizzled frames keep. Bad pixels: a share of
#: pixels with extra white noise of ``tail_scale`` times the background
#: noise (drizzle weight holes, imperfect bad-pixel masks), so that, as on
#: the real borders, 6% of cut-outs hold a pixel below -4 sigma (the
#: Gaussian noise alone gave 2.3%). Spikes: single sharp pixels
#: (residual cosmic rays and hot pixels, in one band) anywhere in the
#: cut-out, ``spike_rate`` per cut-out and band (g, z), log-normal
#: amplitudes in units of the noise, so that (with the bad pixels' own
#: positive outliers) 3.0% / 2.2% of cut-outs hold an isolated pixel above
#: 5 sigma in their border, as the real ones (0.9% / 0.8% without either).
#: Cosmic-ray residuals: faint hits the rejection of the few exposures
#: left, in one band only, ``residual_rate`` per cut-out and band, a track
#: of 1 to ``residual_length`` pixels, log-normal amplitude (units of the
#: noise), spread by drizzling onto the neighbours ([a, 1, a] kernel, a =
#: ``residual_spread``). [tuned] on the real cut-outs' borders, where
#: pixels above 3 sigma in one band and below 1 sigma in the other are 3x
#: as common as the noise and sources alone give (0.6 per cut-out in the
#: ring 4-7 px from the centre, amplitude quantiles 25/50/75/90%: 3.2, 3.5,
#: 4.2, 5.6 sigma; the brightest neighbour 0.77 of the peak): without them
#: the small CNN of ``benchmarks/mock_realism.py`` told real from mock on
#: the background alone.
DEFECTS = {"tail_fraction": 1.3e-3, "tail_scale": 3.0, "spike_rate": (0.010, 0.003), "spike_sigma": (10.0, 0.6),
           "residual_rate": (1.9, 1.9), "residual_sigma": (2.2, 0.45), "residual_length": 2, "residual_spread": 0.3}


def add_defects(cutouts, sigma, rng):
    """Bad pixels, sharp spikes and cosmic-ray residuals (:data:`DEFECTS`) on noisy cut-outs (n, 2, 20, 20), in place."""
    d = DEFECTS
    n = len(cutouts)
    for band in range(2):
        img = cutouts[:, band]
        bad = rng.random(img.shape) < d["tail_fraction"]
        rows = np.nonzero(bad)[0]
        img[bad] += d["tail_scale"] * sigma[rows, band] * rng.standard_normal(len(rows))
        k = rng.poisson(d["spike_rate"][band], n)
        host = np.repeat(np.arange(n), k)
        amp = np.exp(np.log(d["spike_sigma"][0]) + d["spike_sigma"][1] * rng.standard_normal(len(host)))
        iy, ix = rng.integers(0, CUTOUT, len(host)), rng.integers(0, CUTOUT, len(host))
        np.add.at(img, (host, iy, ix), amp * sigma[host, band])
        _add_residuals(img, sigma[:, band], d["residual_rate"][band], rng)
    return cutouts


def _add_residuals(img, sigma, rate, rng):
    """Cosmic-ray residuals in one band (n, 20, 20), in place: short tracks, drizzled."""
    d = DEFECTS
    n = len(img)
    k = rng.poisson(rate, n)
    host = np.repeat(np.arange(n), k)
    if not len(host):
        return
    amp = np.exp(np.log(d["residual_sigma"][0]) + d["residual_sigma"][1] * rng.standard_normal(len(host)))
    length = rng.integers(1, d["residual_length"] + 1, len(host))
    step = np.array([(1, 0), (0, 1), (1, 1), (1, -1)])[rng.integers(0, 4, len(host))]
    iy, ix = rng.integers(0, CUTOUT, len(host)), rng.integers(0, CUTOUT, len(host))
    deposit = np.zeros((n, CUTOUT + 2, CUTOUT + 2))
    for j in range(d["residual_length"]):
        on = length > j
        np.add.at(deposit, (host[on], 1 + np.clip(iy[on] + j * step[on, 0], -1, CUTOUT),
                            1 + np.clip(ix[on] + j * step[on, 1], -1, CUTOUT)), amp[on] * sigma[host[on]])
    # drizzling spreads each hit over its neighbours: a separable [a, 1, a] kernel
    a = d["residual_spread"]
    img += _separable_field(n, np.array([a, 1.0, a]), rng, white=deposit).astype(img.dtype)


def apply_nan_regions(cutouts, rng, *, probability, fraction_quantiles, angle):
    """Blank (NaN) the part of some cut-outs that falls off the detector.

    A share ``probability`` of the cut-outs lies at the edge of the
    drizzled footprint: everything beyond a straight edge (at the frame's
    orientation ``angle`` plus a multiple of 90 degrees) is NaN in both
    bands, covering a fraction of the cut-out drawn from the real
    distribution (``fraction_quantiles``, 21 quantiles); one in six such
    cut-outs sits in a corner (two edges).
    """
    n = len(cutouts)
    hit = np.flatnonzero(rng.random(n) < probability)
    levels = np.linspace(0, 1, len(fraction_quantiles))
    grid = np.arange(CUTOUT) - (CUTOUT - 1) / 2
    for i in hit:
        frac = np.interp(rng.random(), levels, fraction_quantiles)
        edges = 2 if rng.random() < 1 / 6 else 1
        side = rng.integers(4)
        mask = np.zeros((CUTOUT, CUTOUT), bool)
        for e in range(edges):
            phi = angle + (side + e) * np.pi / 2 + rng.normal(0, 0.02)
            proj = np.cos(phi) * grid[None, :] + np.sin(phi) * grid[:, None]
            cut = np.quantile(proj, 1 - frac / edges)
            mask |= proj > cut
        cutouts[i][:, mask] = np.nan
    return cutouts
