"""Which pixels drive an image model's verdict.

Two methods, both giving one attribution per pixel and band, shape
(n, 2, 20, 20), positive where the pixel pushes towards "GC":

* :func:`integrated_gradients` (captum) for torch networks: the path
  integral of the gradient of the network's output from a baseline image to
  the source. The baseline is either all zeros (the cut-outs are background
  subtracted, so zero is "empty sky") or a heavily blurred copy of the
  cut-out (keeps the local light level, removes the compact source).
* :func:`occlusion_attributions`, model-agnostic (only ``predict_proba``):
  the drop of p_gc when a small square patch of both bands is set to the
  baseline.
"""

import numpy as np
from scipy.ndimage import gaussian_filter

from .._errors import GlobsmlError

__all__ = ["torch_module", "integrated_gradients", "lime_image_attributions", "ring_segments", "occlusion_attributions", "image_attributions", "image_baseline"]

#: Gaussian sigma (pixels) of the blurred baseline: wider than a GC at
#: Virgo/Fornax (r_h < 1 px) and the PSF (FWHM ~ 2 px).
BLUR_SIGMA = 4.0


def _as_images(images):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (2, 20, 20):
        raise GlobsmlError(f"cut-outs must have shape (n, 2, 20, 20), got {images.shape}")
    return images


def image_baseline(images, kind="zero"):
    """The reference images of the attributions: ``"zero"`` or ``"blur"``."""
    images = np.nan_to_num(_as_images(images), nan=0.0)
    if kind == "zero":
        return np.zeros_like(images)
    if kind == "blur":
        return gaussian_filter(images, sigma=(0, 0, BLUR_SIGMA, BLUR_SIGMA), mode="nearest").astype(np.float32)
    raise GlobsmlError(f"unknown baseline {kind!r}; expected 'zero' or 'blur'")


def _default_prepare(images):
    # The published CNN sets NaN (off-detector) pixels to 0 and does no other
    # normalisation.
    return np.nan_to_num(images, nan=0.0).astype(np.float32)


def _gc_output(out):
    """The network output of the GC class, one number per sample."""
    if out.ndim == 1:
        return out
    if out.ndim == 2 and out.shape[1] == 1:
        return out[:, 0]
    if out.ndim == 2 and out.shape[1] == 2:
        return out[:, 1]
    raise GlobsmlError(f"cannot read a GC score from a network output of shape {tuple(out.shape)}")


def integrated_gradients(module, images, *, baseline="zero", n_steps=64, prepare=None):
    """Integrated gradients of a torch network's GC output.

    Parameters
    ----------
    module : torch.nn.Module
        Takes an (n, 2, 20, 20) float32 tensor; returns (n,), (n, 1) or
        (n, 2) (GC column taken). Run in eval mode (no dropout) for the
        attribution, then put back in its previous mode.
    images : array-like
        (n, 2, 20, 20) or one (2, 20, 20) raw cut-out (NaN allowed).
    baseline : {"zero", "blur"}
    n_steps : int
        Steps of the path integral (Gauss-Legendre, deterministic).
    prepare : callable, optional
        Turns raw cut-outs into network input (default: NaN -> 0).

    Returns
    -------
    attributions : numpy.ndarray
        (n, 2, 20, 20).
    delta : numpy.ndarray
        (n,) convergence deltas: sum of attributions minus the output
        difference between image and baseline (small when converged).
    """
    import torch

    try:
        from captum.attr import IntegratedGradients
    except ImportError:  # pragma: no cover - captum is in the explain extra
        raise GlobsmlError("integrated gradients need `captum`: pip install 'globsml[explain]'") from None
    prepare = prepare or _default_prepare
    raw = _as_images(images)
    x = torch.as_tensor(np.asarray(prepare(raw), dtype=np.float32))
    base = torch.as_tensor(np.asarray(prepare(image_baseline(raw, baseline)), dtype=np.float32))
    was_training = module.training
    module.eval()
    try:
        ig = IntegratedGradients(lambda t: _gc_output(module(t)))
        attr, delta = ig.attribute(x, baselines=base, n_steps=n_steps, return_convergence_delta=True)
    finally:
        module.train(was_training)
    return attr.detach().cpu().numpy(), delta.detach().cpu().numpy()


def occlusion_attributions(predict_proba, images, *, window=3, baseline="zero"):
    """Drop of p_gc when a ``window`` x ``window`` patch is replaced by the baseline.

    Model-agnostic: ``predict_proba`` maps (m, 2, 20, 20) cut-outs to (m, 2)
    probabilities. Each pixel gets the mean drop over the patches covering
    it, split evenly between the two bands (both bands are occluded
    together, so the method does not tell the bands apart).

    Returns
    -------
    numpy.ndarray
        (n, 2, 20, 20), positive where the pixel supports "GC".
    """
    raw = _as_images(images)
    base = image_baseline(raw, baseline)
    n, _, h, w = raw.shape
    half = window // 2
    centres = [(i, j) for i in range(h) for j in range(w)]
    out = np.zeros((n, 2, h, w), dtype=np.float64)
    p0 = np.asarray(predict_proba(raw))[:, 1]
    for k in range(n):
        batch = np.repeat(raw[k : k + 1], len(centres), axis=0)
        masks = np.zeros((len(centres), h, w), dtype=bool)
        for m, (i, j) in enumerate(centres):
            masks[m, max(0, i - half) : i + half + 1, max(0, j - half) : j + half + 1] = True
        batch = np.where(masks[:, None], base[k][None], batch)
        drop = p0[k] - np.asarray(predict_proba(batch))[:, 1]
        cover = masks.sum(axis=0)
        per_pixel = (drop[:, None, None] * masks).sum(axis=0) / cover
        out[k] = per_pixel[None] / 2.0
    return out


def ring_segments(shape=(20, 20), *, radii=(1.5, 3.0, 5.0), sectors=4):
    """Segments for LIME on a compact source: the core, then rings split into sectors.

    Segment 0 is the disc ``r < radii[0]`` around the cut-out centre (the
    source's core); each ring ``radii[k-1] <= r < radii[k]`` and the area
    outside the last radius (background and neighbours) are cut into
    ``sectors`` azimuthal sectors. A GC is a compact, round source, so
    these segments separate its core, its profile, its symmetry and its
    surroundings, which a generic superpixel method on a 20x20 noisy cut-out
    does not.

    Returns
    -------
    numpy.ndarray of int
        Segment label per pixel, 0 .. n_segments - 1.
    """
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    cy, cx = (h - 1) / 2 + 0.5, (w - 1) / 2 + 0.5  # the source sits near pixel (10, 10)
    r = np.hypot(yy - cy, xx - cx)
    phi = np.mod(np.arctan2(yy - cy, xx - cx), 2 * np.pi)
    sector = np.minimum((phi / (2 * np.pi) * sectors).astype(int), sectors - 1)
    ring = np.searchsorted(np.asarray(radii), r, side="right")  # 0 = core
    labels = np.where(ring == 0, 0, 1 + (ring - 1) * sectors + sector)
    # Renumber densely (every label present).
    _, dense = np.unique(labels, return_inverse=True)
    return dense.reshape(shape)


def lime_image_attributions(predict_proba, images, *, segments=None, num_samples=1000, seed=0, baseline="zero"):
    """LIME image explanation with :func:`ring_segments`: weight of each segment on p_gc.

    Model-agnostic (``predict_proba`` maps (m, 2, 20, 20) cut-outs to (m, 2)
    probabilities). LIME switches segments off (to the baseline image) at
    random and fits a weighted linear model of p_gc on which segments are
    on; every pixel gets its segment's weight divided by the segment's size
    and split evenly over the two bands.

    Returns
    -------
    numpy.ndarray
        (n, 2, 20, 20), positive where the segment supports "GC".
    """
    try:
        from lime.lime_image import LimeImageExplainer
    except ImportError:  # pragma: no cover - lime is in the explain extra
        raise GlobsmlError("LIME image explanations need `lime`: pip install 'globsml[explain]'") from None
    raw = _as_images(images)
    base = image_baseline(raw, baseline)
    segments = ring_segments(raw.shape[2:]) if segments is None else np.asarray(segments)
    sizes = np.bincount(segments.ravel())
    out = np.zeros(raw.shape, dtype=np.float64)
    for k in range(len(raw)):
        clean = np.nan_to_num(raw[k], nan=0.0)

        def classify(batch_hwc):
            # LIME works on (h, w, channels) images; the models take (n, 2, h, w).
            return np.asarray(predict_proba(np.ascontiguousarray(np.transpose(batch_hwc, (0, 3, 1, 2)))))

        explainer = LimeImageExplainer(random_state=seed)
        # Switched-off segments take the baseline image: pass it as LIME's
        # "hide colour" image by explaining the difference from it.
        expl = _explain_with_baseline(explainer, clean, base[k], classify, segments, num_samples)
        weights = np.zeros(len(sizes))
        for seg, w in expl.local_exp[1]:
            weights[seg] = w
        per_pixel = (weights / np.maximum(sizes, 1))[segments]
        out[k] = per_pixel[None] / 2.0
    return out


def _explain_with_baseline(explainer, image, base, classify, segments, num_samples):
    hwc = np.transpose(image, (1, 2, 0)).astype(np.float64)
    base_hwc = np.transpose(base, (1, 2, 0)).astype(np.float64)
    # LIME fills switched-off segments with ``hide_color`` (a constant); a zero
    # baseline is exactly that, a blurred one is reached by explaining the
    # image relative to the baseline and adding the baseline back for the model.
    delta = hwc - base_hwc

    def predict(batch):
        return classify(batch + base_hwc[None])

    import lime.lime_image as lime_image

    # lime 0.2.0.1 draws a tqdm bar over the samples of every call, with no
    # switch to turn it off; silence it for the duration of the call.
    bar = lime_image.tqdm
    lime_image.tqdm = lambda it: it
    try:
        return explainer.explain_instance(
            delta, predict, labels=(1,), top_labels=None, hide_color=0.0,
            num_features=int(segments.max()) + 1, num_samples=num_samples, batch_size=256,
            segmentation_fn=lambda _: segments,
        )
    finally:
        lime_image.tqdm = bar


def _inner(model):
    """The estimator that holds the network (a published CNN wraps one as ``cnn_``)."""
    for _ in range(3):
        inner = getattr(model, "cnn_", None)
        if inner is None or inner is model:
            break
        model = inner
    return model


def torch_module(model):
    """The fitted torch network of an image estimator (``module_`` or ``network_``), or None."""
    model = _inner(model)
    for attr in ("module_", "network_"):
        module = getattr(model, attr, None)
        if module is not None and hasattr(module, "parameters") and callable(module):
            return module
    return None


def image_attributions(model, images, *, method="auto", baseline="zero", n_steps=64, seed=0):
    """Pixel attributions of any image model.

    ``method="auto"`` uses integrated gradients when the fitted estimator
    exposes its torch network as ``module_`` or ``network_`` (with
    ``prepare_images`` as its input transform when it has one, else NaN ->
    its ``nan_value`` or 0), occlusion otherwise. The network's own output
    (a logit or a probability) is attributed. ``method="lime"`` runs LIME
    on :func:`ring_segments` (seeded with ``seed``).

    Returns
    -------
    attributions : numpy.ndarray
        (n, 2, 20, 20).
    method : str
        ``"integrated gradients"`` or ``"occlusion"``.
    """
    if method not in ("auto", "ig", "occlusion", "lime"):
        raise GlobsmlError(f"unknown attribution method {method!r}; expected auto, ig, occlusion or lime")
    if method == "lime":
        attr = lime_image_attributions(model.predict_proba, images, baseline=baseline, seed=seed)
        return attr, f"LIME on ring segments ({baseline} baseline)"
    module = torch_module(model)
    if method == "ig" or (method == "auto" and module is not None):
        if module is None:
            raise GlobsmlError(f"{type(model).__name__} exposes no torch network (module_) for integrated gradients")
        inner = _inner(model)
        prepare = getattr(inner, "prepare_images", None)
        if prepare is None and hasattr(inner, "nan_value"):
            nan_value = float(inner.nan_value)

            def prepare(x):
                # The estimator's own input cleaning: off-detector pixels -> nan_value.
                return np.where(np.isfinite(x), x, nan_value).astype(np.float32)
        attr, _ = integrated_gradients(module, images, baseline=baseline, n_steps=n_steps, prepare=prepare)
        return attr, f"integrated gradients ({baseline} baseline)"
    return occlusion_attributions(model.predict_proba, images, baseline=baseline), f"occlusion ({baseline} baseline)"
