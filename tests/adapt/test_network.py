"""adapt_network: a CNN fine-tuned towards unlabelled target cut-outs undoes a planted shift."""

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.adapt import adapt_network
from globsml.models import GCCNNClassifier

pytestmark = pytest.mark.slow


def _survey(n, brightness, rng):
    """Cut-outs with a central source: GCs bright, the rest faint, with a gap between.

    The target's sources are all ``brightness`` times fainter (a more
    distant cluster): a network trained on the training survey puts its
    boundary in the training gap, where the target's fainter GCs lie.
    """
    y = rng.random(n) < 0.5
    amplitude = np.where(y, rng.uniform(1.3, 2.5, n), rng.uniform(0.0, 0.7, n))
    yy, xx = np.mgrid[:20, :20]
    blob = np.exp(-((yy - 9.5) ** 2 + (xx - 9.5) ** 2) / (2 * 1.5**2))
    X = rng.normal(0, 0.3, (n, 2, 20, 20)) + brightness * amplitude[:, None, None, None] * blob
    return X.astype(np.float32), y.astype(int)


SETTINGS = {"epochs": 3, "lr": 1e-3, "batch_size": 50}


@pytest.fixture(scope="module")
def shifted():
    rng = np.random.default_rng(0)
    X_train, y_train = _survey(500, 1.0, rng)
    X_target, y_target = _survey(500, 0.5, rng)
    cnn = GCCNNClassifier(epochs=12, mc_passes=1, validation_fraction=0, random_state=0).fit(X_train, y_train)
    return cnn, X_train, y_train, X_target, y_target


@pytest.fixture(scope="module")
def control_accuracy(shifted):
    """Target accuracy after the same fine-tuning with the target given no say (critic weight 0)."""
    cnn, X_train, y_train, X_target, y_target = shifted
    tuned = adapt_network(cnn, X_train, y_train, X_target, method="adversarial", domain_weight=0.0, **SETTINGS)
    return (tuned.predict(X_target) == y_target).mean()


def test_the_planted_shift_is_real(shifted, control_accuracy):
    cnn, X_train, y_train, X_target, y_target = shifted
    assert (cnn.predict(X_train) == y_train).mean() > 0.95
    # the training boundary misses the target's faint GCs, and more training alone does not find them
    assert (cnn.predict(X_target) == y_target).mean() < 0.75
    assert control_accuracy < 0.75


@pytest.mark.parametrize("method", ["adversarial", "self-training"])
def test_adaptation_undoes_a_planted_shift(shifted, control_accuracy, method):
    cnn, X_train, y_train, X_target, y_target = shifted
    before = (cnn.predict(X_target) == y_target).mean()
    adapted = adapt_network(cnn, X_train, y_train, X_target, method=method, **SETTINGS)
    assert (adapted.predict(X_target) == y_target).mean() > control_accuracy + 0.1
    # the task on the training cut-outs is kept, the given network is not changed
    assert (adapted.predict(X_train) == y_train).mean() > 0.9
    assert (cnn.predict(X_target) == y_target).mean() == before
    assert adapted.adaptation_["method"] == method


def test_same_seed_same_network_other_seed_another(shifted):
    cnn, X_train, y_train, X_target, _ = shifted
    runs = [adapt_network(cnn, X_train[:200], y_train[:200], X_target[:200], epochs=1, lr=1e-3, random_state=s)
            for s in (1, 1, 2)]
    p = [r.predict_proba(X_target[:200])[:, 1] for r in runs]
    np.testing.assert_array_equal(p[0], p[1])
    assert np.abs(p[0] - p[2]).max() > 1e-4


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "mixup"}, "unknown method 'mixup'"),
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"confidence": 0.5}, "confidence must be in (0.5, 1)"),
    ({"domain_weight": -1}, "domain_weight must be >= 0"),
])
def test_bad_settings_are_refused(shifted, kwargs, message):
    cnn, X_train, y_train, X_target, _ = shifted
    with pytest.raises(GlobsmlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        adapt_network(cnn, X_train, y_train, X_target, **kwargs)


def test_bad_inputs_are_refused(shifted):
    cnn, X_train, y_train, X_target, _ = shifted
    with pytest.raises(GlobsmlError, match="500 training cut-outs but 499 labels"):
        adapt_network(cnn, X_train, y_train[:-1], X_target)
    with pytest.raises(GlobsmlError, match=r"labels must lie in \[0, 1\]"):
        adapt_network(cnn, X_train, y_train * 2.0, X_target)
    with pytest.raises(GlobsmlError, match="expected cut-outs of shape"):
        adapt_network(cnn, X_train, y_train, X_target[:, :1])
    with pytest.raises(GlobsmlError, match="adapts a fitted CNN"):
        adapt_network(GCCNNClassifier(), X_train, y_train, X_target)
