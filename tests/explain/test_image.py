import numpy as np
import pytest
import torch

from globsml import GlobsmlError
from globsml.explain import image_attributions, image_baseline, integrated_gradients, occlusion_attributions
from globsml.explain._image import torch_module


class CentreNet(torch.nn.Module):
    """A tiny CNN whose verdict depends, by construction, on the z band near the centre only.

    A 3x3 convolution reads the z band; the output is the sum of its response
    over the central 3x3 pixels (a logit), with dropout that eval mode turns off.
    """

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 1, 3, padding=1, bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 1, 1, 1] = 2.0
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        h = self.drop(self.conv(x))
        return h[:, 0, 9:12, 9:12].sum(dim=(1, 2)) - 1.0


class Estimator:
    """An image classifier exposing its network like the registry CNN."""

    nan_value = 0.0

    def __init__(self, attr="module_"):
        setattr(self, attr, CentreNet())
        self._net = getattr(self, attr)

    def predict_proba(self, x):
        x = torch.as_tensor(np.nan_to_num(np.asarray(x, dtype=np.float32)))
        self._net.eval()
        with torch.no_grad():
            p = torch.sigmoid(self._net(x)).numpy()
        return np.column_stack([1 - p, p])


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    imgs = rng.normal(0, 0.05, (3, 2, 20, 20)).astype(np.float32)
    imgs[:, 1, 10, 10] += 1.0
    imgs[0, :, :2] = np.nan
    return imgs


def _argmax(a):
    return tuple(int(i) for i in np.unravel_index(np.abs(a).argmax(), a.shape))


def test_integrated_gradients_find_the_deciding_pixels(images):
    net = CentreNet().train()
    attr, delta = integrated_gradients(net, images)
    assert attr.shape == (3, 2, 20, 20)
    assert np.isfinite(attr).all()
    assert net.training  # mode restored
    for a in attr:
        assert _argmax(a) == (1, 10, 10)
        assert np.abs(a[0]).max() == 0  # the g band plays no part
        outside = np.ones((20, 20), bool)
        outside[9:12, 9:12] = False
        assert np.abs(a[1][outside]).max() == 0
    # Completeness: attributions add up to output(image) - output(baseline).
    assert np.abs(delta).max() < 1e-4
    net.eval()
    with torch.no_grad():
        x = torch.as_tensor(np.nan_to_num(images))
        expected = net(x) - net(torch.zeros_like(x))
    np.testing.assert_allclose(attr.sum(axis=(1, 2, 3)), expected.numpy(), atol=1e-4)


def test_blur_baseline(images):
    base = image_baseline(images, "blur")
    assert base.shape == images.shape and np.isfinite(base).all()
    assert base[0, 1, 10, 10] < 0.2  # the compact source is smeared out
    attr, _ = integrated_gradients(CentreNet(), images, baseline="blur")
    assert _argmax(attr[1]) == (1, 10, 10)
    with pytest.raises(GlobsmlError, match="baseline"):
        image_baseline(images, "noise")


def test_occlusion_is_model_agnostic(images):
    est = Estimator()
    occ = occlusion_attributions(est.predict_proba, images[1:2], window=3)
    assert occ.shape == (1, 2, 20, 20)
    centre = occ[0, 1, 10, 10]
    assert centre > 0
    assert occ[0, 1, 0, 0] == 0  # far patches do not change p_gc
    np.testing.assert_array_equal(occ[0, 0], occ[0, 1])  # both bands occluded together


def test_image_attributions_dispatch(images):
    for attr_name in ("module_", "network_"):
        est = Estimator(attr_name)
        assert torch_module(est) is getattr(est, attr_name)
        attr, method = image_attributions(est, images)
        assert method.startswith("integrated gradients")
        assert _argmax(attr[2]) == (1, 10, 10)

    class Opaque:
        predict_proba = Estimator().predict_proba

    attr, method = image_attributions(Opaque(), images[:1])
    assert method.startswith("occlusion")
    with pytest.raises(GlobsmlError, match="no torch network"):
        image_attributions(Opaque(), images[:1], method="ig")


def test_bad_shape():
    with pytest.raises(GlobsmlError, match=r"\(n, 2, 20, 20\)"):
        integrated_gradients(CentreNet(), np.zeros((1, 3, 20, 20)))


def test_ring_segments():
    from globsml.explain import ring_segments

    seg = ring_segments()
    assert seg.shape == (20, 20) and seg.min() == 0
    assert set(np.unique(seg)) == set(range(13))  # core + 3 rings x 4 sectors
    assert seg[10, 10] == 0 and seg[9:12, 9:12].tolist() == [[0] * 3] * 3  # the core around the centre
    assert seg[0, 0] != seg[19, 19] != 0  # the background is cut into sectors


def test_lime_image_finds_the_core(images):
    from globsml.explain import lime_image_attributions, ring_segments

    est = Estimator()
    attr = lime_image_attributions(est.predict_proba, images[:2], num_samples=300, seed=0)
    assert attr.shape == (2, 2, 20, 20)
    core = ring_segments() == 0
    for a in attr:
        assert a[1, 10, 10] > 0  # the bright core is what makes it a GC here
        assert a[1][core].min() > 10 * np.abs(a[1][~core]).max()
    again = lime_image_attributions(est.predict_proba, images[:2], num_samples=300, seed=0)
    np.testing.assert_array_equal(attr, again)
    _, method = image_attributions(est, images[:1], method="lime")
    assert method.startswith("LIME")
    with pytest.raises(GlobsmlError, match="unknown attribution method"):
        image_attributions(est, images[:1], method="shap")
