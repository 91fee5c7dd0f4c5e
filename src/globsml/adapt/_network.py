"""Adapting a trained CNN to unlabelled target cut-outs: adversarial alignment or self-training."""

import copy

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._errors import GlobsmlError
from ..models import GCCNNClassifier
from ..models import _torch
from ..models._cnn import as_cutouts, clean_cutouts, flip_augment
from ._weights import domain_weights

__all__ = ["NETWORK_ADAPTATIONS", "adapt_network"]

#: How :func:`adapt_network` moves a network towards the target.
NETWORK_ADAPTATIONS = ("adversarial", "self-training")


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``-scale`` backward (Ganin & Lempitsky 2015)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


def _domain_critic(width, gen):
    """A small network telling training (0) from target (1) hidden layers."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        return torch.nn.Sequential(torch.nn.Linear(width, 50), torch.nn.ReLU(), torch.nn.Linear(50, 1))


def _source_network(classifier):
    """The fitted :class:`~globsml.models.GCCNNClassifier` behind ``classifier``."""
    inner = getattr(classifier, "cnn_", classifier)
    if not isinstance(inner, GCCNNClassifier) or not hasattr(inner, "network_"):
        raise GlobsmlError(
            f"adapt_network adapts a fitted CNN ('cnn' or a published network); got {type(classifier).__name__}"
        )
    return inner


def adapt_network(classifier, X_source, q_source, X_target, *, method="adversarial", epochs=3, lr=1e-4,
                  batch_size=500, domain_weight=1.0, confidence=0.9, flip=True, random_state=0,
                  progress=False):
    """Fine-tune a fitted CNN so that it works on unlabelled target cut-outs.

    The network keeps learning its task on the labelled (or teacher-
    labelled) training cut-outs while it is moved towards the target:

    - ``"adversarial"`` (domain-adversarial training, Ganin et al. 2016): a
      small critic learns to tell the last hidden layer of training
      cut-outs from that of target cut-outs, and the network learns, through
      a reversed gradient, to make them indistinguishable. Its weight rises
      from 0 to ``domain_weight`` over the epochs (the published schedule
      ``2 / (1 + exp(-10 p)) - 1``), so the task is learnt first.
    - ``"self-training"``: before every epoch the target cut-outs the
      network is sure of (p > ``confidence`` or p < 1 - ``confidence``,
      one deterministic pass) become labels, weighing as much per batch as
      the training cut-outs.

    Parameters
    ----------
    classifier : GCCNNClassifier or PublishedCNNClassifier
        Fitted; it is not changed.
    X_source : array of shape (n, 2, 20, 20)
        Training cut-outs.
    q_source : array_like of shape (n,)
        Their labels (0/1) or soft labels in [0, 1], e.g. a teacher
        network's probabilities on real cut-outs of a labelled cluster.
    X_target : array of shape (m, 2, 20, 20)
        The target's cut-outs, unlabelled.
    method : {"adversarial", "self-training"}
    epochs : int, default 3
        Passes over the training cut-outs (each paired with as many target
        cut-outs, drawn without replacement and reshuffled when used up).
    lr : float, default 1e-4
        Adam's learning rate: a tenth of the one the network was trained
        with, for fine-tuning rather than relearning.
    batch_size : int, default 500
    domain_weight : float, default 1.0
        Final weight of the reversed critic gradient (``"adversarial"``).
    confidence : float, default 0.9
        In (0.5, 1): how sure a target prediction must be to become a label
        (``"self-training"``).
    flip : bool, default True
        Random left-right / up-down flips of every batch.
    random_state : int, default 0
        Seeds the order, flips, dropout and the critic: the same seed gives
        the same network.
    progress : bool, default False

    Returns
    -------
    GCCNNClassifier
        A new fitted classifier (the adapted network, ``classifier``'s
        prediction settings) with ``adaptation_``: the method, its settings
        and the ROC AUC of a domain classifier on the last hidden layer
        before and after (0.5: the target's cut-outs look like the training
        ones to the network; measured on at most 5,000 cut-outs of each).

    Examples
    --------
    >>> import numpy as np
    >>> from globsml.models import GCCNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(0, 1, (200, 2, 20, 20)).astype("float32")
    >>> y = (X[:, :, 8:12, 8:12].mean(axis=(1, 2, 3)) > 0).astype(int)
    >>> cnn = GCCNNClassifier(epochs=2, mc_passes=1, validation_fraction=0).fit(X, y)
    >>> adapted = adapt_network(cnn, X, y, X + 0.2, epochs=1)
    >>> sorted(adapted.adaptation_)
    ['domain_auc_after', 'domain_auc_before', 'domain_weight', 'epochs', 'lr', 'method']
    """
    if method not in NETWORK_ADAPTATIONS:
        raise GlobsmlError(f"adapt_network: unknown method {method!r}; known: {', '.join(NETWORK_ADAPTATIONS)}")
    if int(epochs) < 1:
        raise GlobsmlError(f"adapt_network: epochs must be >= 1, got {epochs!r}")
    if not 0.5 < confidence < 1:
        raise GlobsmlError(f"adapt_network: confidence must be in (0.5, 1), got {confidence}")
    if not domain_weight >= 0:
        raise GlobsmlError(f"adapt_network: domain_weight must be >= 0, got {domain_weight}")
    base = _source_network(classifier)
    X_source = as_cutouts(X_source, "adapt_network X_source")
    X_target = as_cutouts(X_target, "adapt_network X_target")
    q = np.asarray(q_source, dtype=np.float32).reshape(-1)
    if len(q) != len(X_source):
        raise GlobsmlError(f"adapt_network: {len(X_source)} training cut-outs but {len(q)} labels")
    if not np.all((q >= 0) & (q <= 1)):
        raise GlobsmlError("adapt_network: labels must lie in [0, 1]")
    if len(X_target) == 0 or len(X_source) == 0:
        raise GlobsmlError("adapt_network needs training and target cut-outs; one of them is empty")

    adapted = copy.deepcopy(base)
    adapted.set_params(progress=False)
    auc_before = _hidden_domain_auc(adapted, X_source, X_target, random_state)
    # fine-tuned on the CPU, where the cut-outs are; prediction moves it to the estimator's device
    net = adapted.network_.to("cpu")
    x_s = clean_cutouts(X_source, base.nan_value)
    x_t = clean_cutouts(X_target, base.nan_value)
    gen = torch.Generator().manual_seed(int(random_state))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(random_state))
        _fine_tune(net, x_s, torch.from_numpy(q), x_t, method=method, epochs=int(epochs), lr=float(lr),
                   batch_size=int(batch_size), domain_weight=float(domain_weight), confidence=float(confidence),
                   augment=flip_augment if flip else None, gen=gen, progress=progress)
    net.eval()
    adapted.adaptation_ = {
        "method": method, "epochs": int(epochs), "lr": float(lr),
        **({"domain_weight": float(domain_weight)} if method == "adversarial" else {"confidence": float(confidence)}),
        "domain_auc_before": round(auc_before, 4),
        "domain_auc_after": round(_hidden_domain_auc(adapted, X_source, X_target, random_state), 4),
    }
    adapted.set_params(progress=base.progress)
    return adapted


def _fine_tune(net, x_s, q_s, x_t, *, method, epochs, lr, batch_size, domain_weight, confidence, augment, gen,
               progress):
    critic = _domain_critic(net.fc1.out_features, gen) if method == "adversarial" else None
    params = list(net.parameters()) + ([] if critic is None else list(critic.parameters()))
    optimiser = torch.optim.Adam(params, lr=lr)
    steps = epochs * -(-len(x_s) // batch_size)
    step = 0
    target_order = torch.randperm(len(x_t), generator=gen)
    target_at = 0
    bar = tqdm(total=steps, desc=f"adapting ({method})", disable=not progress, leave=False)
    for _ in range(epochs):
        pseudo = _pseudo_labels(net, x_t, confidence) if method == "self-training" else None
        net.train()
        order = torch.randperm(len(x_s), generator=gen)
        for start in range(0, len(x_s), batch_size):
            idx = order[start:start + batch_size]
            if target_at + len(idx) > len(x_t):
                target_order, target_at = torch.randperm(len(x_t), generator=gen), 0
            t_idx = target_order[target_at:target_at + len(idx)]
            target_at += len(idx)
            xs, xt = x_s[idx], x_t[t_idx]
            if augment is not None:
                xs, xt = augment(xs, gen), augment(xt, gen)
            h_s = net.hidden(net.features(xs), drop=True)
            loss = F.binary_cross_entropy_with_logits(net.head(h_s, drop=True), q_s[idx])
            if critic is not None:
                h_t = net.hidden(net.features(xt), drop=True)
                progress_frac = step / max(steps - 1, 1)
                scale = domain_weight * (2.0 / (1.0 + np.exp(-10.0 * progress_frac)) - 1.0)
                h = _ReverseGradient.apply(torch.cat([h_s, h_t]), scale)
                side = torch.cat([torch.zeros(len(h_s)), torch.ones(len(h_t))])
                loss = loss + F.binary_cross_entropy_with_logits(critic(h).reshape(-1), side)
            else:
                sure = pseudo[t_idx]
                keep = ~torch.isnan(sure)
                if keep.any():
                    logit_t = net.head(net.hidden(net.features(xt[keep]), drop=True), drop=True)
                    loss = loss + F.binary_cross_entropy_with_logits(logit_t, sure[keep])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            step += 1
            bar.update(1)
    bar.close()


def _pseudo_labels(net, x_t, confidence, batch=8192):
    """1/0 for the target cut-outs the network is sure of, NaN for the rest (one deterministic pass)."""
    net.eval()
    p = torch.sigmoid(_torch.predict_logits(net, x_t, batch_size=batch))
    out = torch.full_like(p, float("nan"))
    out[p > confidence] = 1.0
    out[p < 1 - confidence] = 0.0
    return out


def _hidden_domain_auc(classifier, X_source, X_target, random_state, most=5000):
    """ROC AUC of a domain classifier (training vs target) on the network's last hidden layer."""
    rng = np.random.default_rng(random_state)
    pick_s = np.sort(rng.choice(len(X_source), min(most, len(X_source)), replace=False))
    pick_t = np.sort(rng.choice(len(X_target), min(most, len(X_target)), replace=False))
    _, auc = domain_weights(classifier.embed(X_source[pick_s]), classifier.embed(X_target[pick_t]),
                            random_state=random_state, return_auc=True)
    return float(auc)
