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

__all__ = ["torch_module", "integrated_gradients", "occlusion_attributions", "image_attributions", "image_baseline"]

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


def image_attributions(model, images, *, method="auto", baseline="zero", n_steps=64):
    """Pixel attributions of any image model.

    ``method="auto"`` uses integrated gradients when the fitted estimator
    exposes its torch network as ``module_`` or ``network_`` (with
    ``prepare_images`` as its input transform when it has one, else NaN ->
    its ``nan_value`` or 0), occlusion otherwise. The network's own output
    (a logit or a probability) is attributed.

    Returns
    -------
    attributions : numpy.ndarray
        (n, 2, 20, 20).
    method : str
        ``"integrated gradients"`` or ``"occlusion"``.
    """
    if method not in ("auto", "ig", "occlusion"):
        raise GlobsmlError(f"unknown attribution method {method!r}; expected auto, ig or occlusion")
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
