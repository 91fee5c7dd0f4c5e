"""What every PyTorch model of globsml shares: threads, seeds, the training loop.

The published networks are trained the same way (Adam, binary cross-entropy,
mini-batches, a fixed number of epochs) and keep the weights of the epoch with
the best TPR - FDR on a validation split, decided on the predicted
probability with the published GC threshold p > 0.5. :func:`train_binary`
does exactly that for any module that maps a batch to one logit per row.

Exported states (``_export_state``) hold only tensors, plain Python
scalars, strings, lists and dicts, so that they load with
``torch.load(..., weights_only=True)``.
"""

import contextlib
import copy
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .._cpus import usable_cpus
from .._errors import GlobsmlError
from ..data import GC_THRESHOLD
from ..evaluation import fdr, tpr

__all__ = ["save_checkpoint", "load_checkpoint"]

#: Version of the exported-state layout written by ``_export_state``.
STATE_FORMAT = 1


class TorchClassifierMixin:
    """What the PyTorch estimators share: the published threshold and the state header."""

    def predict(self, X):
        """1 where p(GC) > GC_THRESHOLD (the published 0.5), else 0."""
        return (self.predict_proba(X)[:, 1] > GC_THRESHOLD).astype(np.int64)

    def _state_header(self, **param_overrides):
        """The first entries of every ``_export_state``: class, layout version, parameters."""
        return {
            "class": type(self).__name__,
            "format": STATE_FORMAT,
            "params": plain({**self.get_params(), **param_overrides}),
        }

    def _set_tabular_fitted(self, features):
        """The fitted attributes scikit-learn expects of a model of the feature table."""
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(features)
        self.feature_names_in_ = np.asarray(features, dtype=object)


def n_cpus():
    """CPU cores this process may use (both cores of the target machines).

    The cores it may run on, capped by ``OMP_NUM_THREADS`` where that is set
    (joblib sets it in its worker processes, so that two workers on two
    cores do not start two busy-waiting threads each).
    """
    n = usable_cpus()
    try:
        cap = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        cap = 0
    return min(n, cap) if cap > 0 else n


def use_threads(n_threads=None):
    """Set torch's intra-op threads (all usable cores by default); return the number.

    Plain tensor batching with intra-op parallelism keeps both cores busy;
    DataLoader worker processes only add copies on a 2-core machine (see
    ``benchmarks/bench_cnn.py``).
    """
    n = n_cpus() if n_threads is None else int(n_threads)
    if n < 1:
        raise GlobsmlError(f"n_threads must be >= 1, got {n_threads!r}")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def torch_device(device=None):
    """The ``torch.device`` a network trains and predicts on.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; None: the GPU when PyTorch
        sees one, else the CPU.

    Raises
    ------
    GlobsmlError
        For a name PyTorch does not know, or a GPU that is not there.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise GlobsmlError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GlobsmlError(f"device {device!r}: PyTorch sees no GPU here; use device='cpu' (or leave it out)")
    if dev.type not in ("cpu", "cuda"):
        raise GlobsmlError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return dev


#: Rows per chunk of a forward pass on the CPU (:func:`map_chunks`): a chunk's
#: activations (conv1's are 92 kB per cut-out) stay in the core's 2 MB cache.
CPU_CHUNK = 128


def map_chunks(fn, x, *, chunk=CPU_CHUNK):
    """``fn`` (an inference-mode forward pass) over fixed chunks of rows of ``x``, concatenated.

    On several threads (``torch.get_num_threads()``) the chunks are shared
    out to as many Python threads, each running single-threaded operators,
    instead of every operator of one large batch being split across threads:
    the threads then meet once per call instead of at every operator, and
    each chunk works in cache. On 2 cores this ran a single pass of the CNN
    at ~90 % of the machine's matrix-product speed against ~60 % for
    batches of 8192 on two intra-op threads (CPU time,
    ``benchmarks/bench_cnn.py``). The chunks are the same for any number
    of threads, so the numbers do not depend on it.
    """
    chunks = [x[s:s + chunk] for s in range(0, len(x), chunk)]
    threads = torch.get_num_threads()
    if len(chunks) <= 1:
        return fn(x)
    if threads <= 1:
        return torch.cat([fn(c) for c in chunks])

    def work(c):
        with torch.inference_mode():  # thread-local: the caller's mode does not carry over
            return fn(c)

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(min(threads, len(chunks))) as pool:
            return torch.cat(list(pool.map(work, chunks)))
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def ieee_float32(device):
    """Full float32 arithmetic on a GPU while the block runs; the previous settings come back after it.

    PyTorch lets cuDNN run float32 convolutions in TensorFloat-32 (a
    10-bit mantissa) by default on recent GPUs; globsml's networks switch
    that off, for convolutions and matrix products, so that a network
    trained or applied on a GPU gives the CPU's numbers within float
    tolerance. Nothing changes on the CPU.

    Examples
    --------
    >>> import torch
    >>> with ieee_float32(torch.device("cuda")):
    ...     torch.backends.cudnn.allow_tf32
    False
    """
    if torch.device(device).type != "cuda":
        yield
        return
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def generator(random_state):
    """A seeded CPU ``torch.Generator`` (and the global seed, for module init)."""
    seed = 0 if random_state is None else int(random_state)
    torch.manual_seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def validation_rates(y_true, proba):
    """(TPR, FDR) of ``proba > GC_THRESHOLD``, as :mod:`globsml.evaluation` computes them.

    TPR is NaN when the validation rows hold no GC; FDR is 0 when nothing is
    predicted to be a GC.
    """
    return (tpr(y_true, proba, threshold=GC_THRESHOLD), fdr(y_true, proba, threshold=GC_THRESHOLD))


def check_labels(y, n, what, *, both_classes=True):
    """0/1 labels as a float32 array; clear errors for anything else.

    ``both_classes``: refuse labels of a single class (training labels;
    validation labels may lack GCs).
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise GlobsmlError(f"{what}: {n} rows but labels of shape {y.shape}")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1, False, True}:
        raise GlobsmlError(f"{what}: labels must be 0/1 (GC = 1), got values {sorted(values)[:5]}")
    if both_classes and len(values) < 2:
        raise GlobsmlError(f"{what}: the training labels hold a single class ({values}); need GCs and non-GCs")
    return y.astype(np.float32)


def fit_data(X, y, eval_set, *, as_input, what):
    """``fit``'s inputs and labels, and those of its ``eval_set``, checked.

    Parameters
    ----------
    X, y : array-like
        Training inputs and 0/1 labels.
    eval_set : (X_val, y_val) or None
    as_input : callable
        ``as_input(X, what)``: the model's input type (features, cut-outs).
    what : str
        Names the call in error messages.

    Returns
    -------
    X, y, X_val, y_val
        ``X_val`` and ``y_val`` are None without an ``eval_set``; labels
        are float32.
    """
    X = as_input(X, what)
    y = check_labels(y, len(X), what)
    if eval_set is None:
        return X, y, None, None
    X_val = as_input(eval_set[0], f"{what} eval_set")
    return X, y, X_val, check_labels(eval_set[1], len(X_val), f"{what} eval_set", both_classes=False)


def split_validation(X, y, X_val, y_val, *, fraction, random_state):
    """(X_train, y_train, X_val, y_val): the given validation rows, else a split of ``X``.

    Without ``X_val`` a stratified ``fraction`` of the rows
    (:func:`validation_split`) validates; rows are taken with ``.iloc``
    from DataFrames.
    """
    if X_val is not None:
        return X, y, X_val, y_val
    train, val = validation_split(y, fraction, random_state)
    rows = X.iloc if hasattr(X, "iloc") else X
    return rows[train], y[train], rows[val], y[val]


def validation_split(y, fraction, random_state):
    """Stratified (train, validation) row positions; ``fraction`` 0 gives no validation."""
    n = len(y)
    if not fraction:
        return np.arange(n), np.arange(0)
    if not 0 < fraction < 1:
        raise GlobsmlError(f"validation_fraction must be in [0, 1), got {fraction!r}")
    rng = np.random.default_rng(random_state)
    val = []
    for cls in (0, 1):
        rows = np.flatnonzero(y == cls)
        k = int(round(fraction * len(rows)))
        k = min(max(k, 1), len(rows) - 1) if len(rows) > 1 else 0
        val.append(rng.permutation(rows)[:k])
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(n), val)
    return train, val


def predict_logits(module, x, *, batch_size, transform=None, device=None):
    """Logits of ``module`` (in its current train/eval mode) for a tensor, batched, on the CPU.

    The batches go to ``device`` (the module's, by default) before the module.
    """
    if device is None:
        device = next(module.parameters()).device
    out = []
    with torch.inference_mode(), ieee_float32(device):
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device)
            if transform is not None:
                xb = transform(xb)
            out.append(module(xb).reshape(-1).cpu())
    return torch.cat(out) if out else torch.empty(0)


def train_binary(module, x, y, *, x_val=None, y_val=None, epochs, batch_size, lr, weight_decay,
                 gen, augment=None, transform=None, eval_batch_size=4096, progress=False,
                 desc="training", checkpoint=None, run_key="", device=None):
    """Train ``module`` (logit output) with Adam and keep the best validation epoch.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch to one logit per row.
    x, y : torch.Tensor
        Training inputs and 0/1 float labels.
    x_val, y_val : torch.Tensor, optional
        Validation data; without it the last epoch is kept.
    epochs, batch_size, lr, weight_decay : int, int, float, float
        As published: the loss is the binary cross-entropy of the sigmoid
        output (computed from the logit, which is the numerically stable
        form of the same loss).
    gen : torch.Generator
        Drives the shuffling and the augmentation, so the same seed gives
        the same network.
    augment : callable, optional
        ``augment(batch, gen)`` applied to every training batch.
    transform : callable, optional
        Applied to every batch (training and validation) before the
        module, e.g. NaN -> 0 for cut-outs.

    Returns
    -------
    best_epoch : int
        1-based epoch whose weights are kept (now loaded in ``module``).
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training loss), and with
        validation data ``val_tpr``, ``val_fdr`` and ``val_score``
        (TPR - FDR at p > 0.5).
    checkpoint : str or Path, optional
        After every epoch the whole training state (weights, optimiser,
        generator, best epoch so far, history) is written there atomically;
        a run that finds the file resumes after its last epoch and ends with
        the same network as an uninterrupted run.
    run_key : str
        Identifies the run (parameters + data); a checkpoint of another run
        is refused instead of being resumed.
    device : torch.device, optional
        Where to train (the module is moved there and stays there); the
        data stay on the CPU and go over a batch at a time. On the CPU, a
        module with ``features``, ``features_parameters`` and ``top`` (as
        :class:`~globsml.models.CNNNet`) trains its ``features`` in fixed
        chunks on parallel threads (:func:`_chunked_step`). The shuffling
        and ``augment``'s draws come from ``gen`` on the CPU, dropout from
        the device's generator (seeded by :func:`generator`).
    """
    if epochs < 1:
        raise GlobsmlError(f"epochs must be >= 1, got {epochs!r}")
    if batch_size < 1:
        raise GlobsmlError(f"batch_size must be >= 1, got {batch_size!r}")
    device = torch.device("cpu") if device is None else torch.device(device)
    module.to(device)
    optimiser = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    have_val = x_val is not None and len(x_val) > 0
    best = {"score": -math.inf, "epoch": epochs, "state": None}
    history = []
    if checkpoint is not None and Path(checkpoint).is_file():
        history = _resume(checkpoint, run_key, module, optimiser, gen, best)
    first = len(history) + 1
    bar = tqdm(range(first, epochs + 1), desc=desc, disable=not progress, leave=False,
               initial=first - 1, total=epochs)
    with ieee_float32(device):
        for epoch in bar:
            record = {"epoch": epoch, "loss": _train_epoch(module, optimiser, x, y, gen, batch_size=batch_size,
                                                           augment=augment, transform=transform)}
            if have_val:
                record.update(_validate(module, x_val, y_val.numpy(), batch_size=eval_batch_size, transform=transform))
                # Strictly better only: ties keep the earlier (less trained) epoch. Without
                # a GC in the validation rows the score is NaN, never better: the last
                # epoch is kept, as without validation data.
                if record["val_score"] > best["score"]:
                    best.update(score=record["val_score"], epoch=epoch, state=copy.deepcopy(module.state_dict()))
                bar.set_postfix(loss=f"{record['loss']:.4f}", score=f"{record['val_score']:.4f}")
            history.append(record)
            if checkpoint is not None:
                _write_training_checkpoint(checkpoint, run_key, module, optimiser, gen, best, history)
    if best["state"] is not None:
        module.load_state_dict(best["state"])
    module.eval()
    return best["epoch"], history


def _train_epoch(module, optimiser, x, y, gen, *, batch_size, augment, transform):
    """One pass over the shuffled training rows; the mean training loss."""
    loss_fn = torch.nn.BCEWithLogitsLoss()
    module.train()
    order = torch.randperm(len(x), generator=gen)
    total, seen = 0.0, 0
    device = next(module.parameters()).device
    if device.type == "cpu" and hasattr(module, "features_parameters"):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(threads) as pool:
                for start in range(0, len(x), batch_size):
                    idx = order[start:start + batch_size]
                    xb = x[idx] if transform is None else transform(x[idx])
                    if augment is not None:
                        xb = augment(xb, gen)
                    loss = _chunked_step(module, optimiser, loss_fn, xb, y[idx], pool)
                    total += loss * len(idx)
                    seen += len(idx)
        finally:
            torch.set_num_threads(threads)
        return total / max(seen, 1)
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        xb, yb = x[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True)
        if transform is not None:
            xb = transform(xb)
        if augment is not None:
            xb = augment(xb, gen)
        optimiser.zero_grad(set_to_none=True)
        loss = loss_fn(module(xb).reshape(-1), yb)
        loss.backward()
        optimiser.step()
        total += float(loss.detach()) * len(idx)
        seen += len(idx)
    return total / max(seen, 1)


def _chunked_step(module, optimiser, loss_fn, xb, yb, pool, *, chunk=CPU_CHUNK):
    """One optimiser step with the module's deterministic trunk run in fixed chunks on ``pool``'s threads.

    For a module with ``features(x)`` (rows independent, no randomness),
    ``features_parameters()`` and ``top(f)`` (the rest, dropout included):
    the chunks' features are computed and back-propagated on the pool's
    single-threaded workers, the top and its dropout draws on this thread
    (so the global generator is drawn in the same order as by ``module(xb)``),
    and each trunk parameter's gradient is the sum of the chunks' in chunk
    order. The chunks do not depend on the number of threads, so neither
    do the numbers; against one backward pass of the whole batch they differ
    by float rounding only. On 2 cores this keeps both cores on the
    convolutions without a meeting of threads at every operator.
    """
    chunks = xb.split(chunk)
    outs = list(pool.map(module.features, chunks))
    leaves = [f.detach().requires_grad_() for f in outs]
    optimiser.zero_grad(set_to_none=True)
    loss = loss_fn(module.top(torch.cat(leaves)).reshape(-1), yb)
    loss.backward()  # the top's parameters, and the gradient of every chunk's features
    params = list(module.features_parameters())
    grads = list(pool.map(lambda fl: torch.autograd.grad(fl[0], params, fl[1].grad), zip(outs, leaves)))
    for i, p in enumerate(params):
        g = grads[0][i]
        for other in grads[1:]:
            g = g + other[i]
        p.grad = g
    optimiser.step()
    return float(loss.detach())


def _validate(module, x_val, y_val, *, batch_size, transform):
    """``val_tpr``, ``val_fdr`` and ``val_score`` (TPR - FDR) of the module on the validation rows."""
    module.eval()
    proba = torch.sigmoid(predict_logits(module, x_val, batch_size=batch_size, transform=transform)).numpy()
    val_tpr, val_fdr = validation_rates(y_val, proba)
    return {"val_tpr": val_tpr, "val_fdr": val_fdr, "val_score": val_tpr - val_fdr}


def _resume(path, run_key, module, optimiser, gen, best):
    """Load a training checkpoint into the module, optimiser, generator and ``best``; return its history."""
    saved = _read_training_checkpoint(path, run_key)
    module.load_state_dict(saved["module"])
    optimiser.load_state_dict(saved["optimiser"])
    gen.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])  # dropout masks
    best.update(score=saved["best_score"], epoch=saved["best_epoch"], state=saved["best_state"])
    return saved["history"]


def _write_training_checkpoint(path, run_key, module, optimiser, gen, best, history):
    """The whole training state after an epoch, written atomically."""
    from .._io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"run_key": run_key, "module": state_dict_plain(module),
                    "optimiser": optimiser.state_dict(), "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "best_score": float(best["score"]), "best_epoch": int(best["epoch"]),
                    "best_state": best["state"], "history": history}, tmp)


def _read_training_checkpoint(path, run_key):
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise GlobsmlError(f"{path}: unreadable training checkpoint ({exc}); delete it to start afresh") from None
    if not isinstance(saved, dict) or saved.get("run_key") != run_key:
        raise GlobsmlError(
            f"{path}: a checkpoint of another training run (other parameters or data); "
            "delete it or give another checkpoint path"
        )
    return saved


# -- exported states ------------------------------------------------------

def plain(value):
    """``value`` as tensors / plain Python scalars, strings, lists and dicts."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, np.ndarray):
        if value.dtype == object or value.dtype.kind in "US":
            return [plain(v) for v in value.tolist()]
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise GlobsmlError(f"cannot export a value of type {type(value).__name__} into a model state")


def state_dict_plain(module):
    """A module's state dict as a plain dict of detached CPU tensors."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def check_state(state, cls):
    """Refuse a state written for another class or a newer layout."""
    if not isinstance(state, dict) or "class" not in state:
        raise GlobsmlError(f"not an exported globsml model state (got {type(state).__name__})")
    if state["class"] != cls.__name__:
        raise GlobsmlError(f"the state is of a {state['class']}, not a {cls.__name__}")
    if state.get("format", 0) > STATE_FORMAT:
        raise GlobsmlError(
            f"the {cls.__name__} state has format {state['format']}; this globsml reads up to "
            f"{STATE_FORMAT}: update globsml"
        )
