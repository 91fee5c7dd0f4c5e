"""The realism critic: which rendered sources look like real ones.

The renderer (:mod:`._render`) draws sources from physics; a handful of
things it cannot get right from first principles (the mix of faint
sources, how concentrated they are, the exact noise texture) still tell
its cut-outs from real ones. The critic closes that gap the way
discriminator rejection sampling does (Azadi et al. 2019): a classifier
trained at calibration time to tell real cut-outs from rendered ones
(on their measured features, :data:`globsml.data.FEATURES`) gives each
rendered source the density ratio ``p_real(x) / p_mock(x)`` of its
features ``x``, and the survey keeps, out of several times more rendered
sources than it needs, a weighted sample (sampling-importance-resampling).
Nothing real is shipped: only the trees of the classifiers
(``data/critic.npz``, made by ``benchmarks/calibrate_critic.py``) and
the weights of the image round's small network, evaluated here with numpy
and torch, so making a mock needs neither the real data nor a pickled
scikit-learn object.

Calibration runs in rounds: each round's classifier is trained on real
cut-outs against the mock made with the rounds before it, so the log
ratios of the rounds add up (:meth:`RealismCritic.log_ratio`).
"""

import functools
from importlib import resources

import numpy as np

from .._errors import GlobsmlError

__all__ = ["RealismCritic", "export_classifier", "export_network", "pixel_network", "pixel_inputs", "realism_critic", "proposal_model", "source_parameters",
           "proposal_acceptance", "weighted_choice"]

#: The log density ratio of one round is clipped to this (a source a
#: classifier finds e^4 times more likely real is not kept more often
#: than that: a few confident trees must not decide the whole sample).
LOG_RATIO_CLIP = 4.0
#: The proposal's total log weight is clipped to +-this; a drawn source is
#: kept with probability exp(log weight - this), so the pool is drawn up to
#: e^(2 x this) times larger where the proposal is least keen.
PROPOSAL_LOG_CLIP = 2.5


def export_classifier(clf, features):
    """The trees of a fitted HistGradientBoostingClassifier as flat arrays.

    Parameters
    ----------
    clf : sklearn.ensemble.HistGradientBoostingClassifier
        Binary, fitted on numeric features (real = class 1).
    features : sequence of str
        The names of its columns, in order.

    Returns
    -------
    dict of ndarray
        ``feature``, ``threshold``, ``missing_left``, ``left``, ``right``,
        ``leaf``, ``value`` (all nodes of all trees, concatenated; child
        indices global), ``roots`` (first node of each tree), ``baseline``
        and ``features``, what :class:`RealismCritic` reads.
    """
    if getattr(clf, "n_trees_per_iteration_", 1) != 1:
        raise ValueError("export_classifier: a binary classifier is needed")
    # scikit-learn has no public API for a fitted HistGradientBoosting's trees:
    # this reads its private ``_predictors`` and ``_baseline_prediction`` (the
    # layout of scikit-learn 1.0 to 1.9). Only the calibration
    # (benchmarks/calibrate_mock.py) calls it; the shipped critic reads the
    # exported arrays. tests/mock/test_critic.py checks the export against
    # ``decision_function``, so a change of that layout fails there.
    if not (hasattr(clf, "_predictors") and hasattr(clf, "_baseline_prediction")):
        import sklearn

        raise GlobsmlError(
            f"export_classifier: scikit-learn {sklearn.__version__} keeps its trees elsewhere; the "
            "export reads the private layout of scikit-learn 1.0 to 1.9"
        )
    parts, roots, offset = [], [], 0
    for (tree,) in clf._predictors:
        nodes = tree.nodes
        if nodes["is_categorical"].any():
            raise ValueError("export_classifier: categorical splits are not supported")
        roots.append(offset)
        parts.append((nodes["feature_idx"], nodes["num_threshold"], nodes["missing_go_to_left"],
                      nodes["left"].astype(np.int64) + offset, nodes["right"].astype(np.int64) + offset,
                      nodes["is_leaf"], nodes["value"]))
        offset += len(nodes)
    cols = [np.concatenate([p[i] for p in parts]) for i in range(7)]
    return {"feature": cols[0].astype(np.int16), "threshold": cols[1].astype(np.float64),
            "missing_left": cols[2].astype(bool), "left": cols[3].astype(np.int32),
            "right": cols[4].astype(np.int32), "leaf": cols[5].astype(bool),
            "value": cols[6].astype(np.float64), "roots": np.asarray(roots, np.int32),
            "baseline": np.float64(np.ravel(clf._baseline_prediction)[0]),
            "features": np.asarray(list(features))}


#: Scale of the asinh stretch of the pixels the image critic reads
#: (electrons/s; about the noise of one pixel, so faint structure and
#: bright cores both stay visible).
PIXEL_STRETCH = 0.01


def pixel_network():
    """The image critic's network: three convolutions, global pooling, two dense layers (log odds out)."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(2, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1),
    )


def pixel_inputs(cutouts):
    """What the image critic reads: asinh-stretched cut-outs, NaN (off the detector) as 0, float32."""
    x = np.nan_to_num(np.asarray(cutouts, dtype=np.float32), nan=0.0)
    return np.arcsinh(x / PIXEL_STRETCH).astype(np.float32)


def export_network(net):
    """A trained :func:`pixel_network` as a round of :class:`RealismCritic` (its weights as arrays)."""
    out = {f"net.{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    out["kind"] = np.asarray("pixels")
    return out


class _Forest:
    """Exported trees compiled for evaluation one feature at a time (the QuickScorer idea).

    Each tree's leaves are numbered left to right, one bit each. A split
    that sends a row right rules out the leaves of its left subtree, and
    the row's leaf is the leftmost one that no split rules out (Lucchese et
    al. 2015). The splits on one feature that send a value ``x`` right are
    those with a threshold below ``x`` (for a missing value, those whose
    missing values go right), so a table per feature of the leaves still
    possible in each tree, by the rank of ``x`` among that feature's
    thresholds, turns the traversal into one look-up and one AND per
    feature and row: no loop over trees or depths.
    """

    def __init__(self, r):
        feature, threshold = np.asarray(r["feature"], np.int64), np.asarray(r["threshold"], float)
        missing_left, leaf = np.asarray(r["missing_left"], bool), np.asarray(r["leaf"], bool)
        left, right = np.asarray(r["left"], np.int64), np.asarray(r["right"], np.int64)
        roots = np.asarray(r["roots"], np.int64)
        tree = np.zeros(len(leaf), np.int64)
        first = np.zeros(len(leaf), np.int64)  # tree-local number of each node's leftmost leaf
        count = np.zeros(len(leaf), np.int64)  # leaves under each node
        for t, root in enumerate(roots):
            stack, order, k = [int(root)], [], 0
            while stack:  # depth first, left before right: leaves numbered left to right
                node = stack.pop()
                tree[node] = t
                order.append(node)
                if leaf[node]:
                    first[node], count[node], k = k, 1, k + 1
                else:
                    stack += [int(right[node]), int(left[node])]
            for node in reversed(order):  # children before their parents
                if not leaf[node]:
                    first[node], count[node] = first[left[node]], count[left[node]] + count[right[node]]
        self.most = int(count[roots].max()) if len(roots) else 1
        self.dtype = np.dtype(np.uint32 if self.most <= 32 else np.uint64)
        self.full = np.array(-1).astype(self.dtype)  # every bit set
        split = np.flatnonzero(~leaf)
        # going right rules out the left subtree's leaves (fewer than 64: the right one holds one too)
        k, lo = count[left[split]].astype(np.uint64), first[left[split]].astype(np.uint64)
        mask = (~(((np.uint64(1) << k) - np.uint64(1)) << lo)).astype(self.dtype)
        self.features, self.thresholds, self.tables = [], [], []
        for f in np.unique(feature[split]):
            on = feature[split] == f
            u, rank = np.unique(threshold[split[on]], return_inverse=True)
            # row j: the splits on f with one of the j smallest thresholds send
            # the row right; the last row: a missing value
            table = np.full((len(u) + 2, len(roots)), self.full, dtype=self.dtype)
            np.bitwise_and.at(table, (np.ravel(rank) + 1, tree[split[on]]), mask[on])
            table[:-1] = np.bitwise_and.accumulate(table[:-1], axis=0)
            gone = on & ~missing_left[split]
            np.bitwise_and.at(table[-1], tree[split[gone]], mask[gone])
            self.features.append(int(f))
            self.thresholds.append(u)
            self.tables.append(table)
        self.values = np.zeros((len(roots), self.most))  # by tree and tree-local leaf number
        leaves = np.flatnonzero(leaf)
        self.values[tree[leaves], first[leaves]] = np.asarray(r["value"], float)[leaves]
        self.baseline = float(r["baseline"])

    def __call__(self, X, *, block=4096):
        """Decision function (log odds) on ``X`` (n, n_features), NaN where missing."""
        out = np.empty(len(X))
        trees = np.arange(len(self.values))
        for s in range(0, len(X), block):
            x = X[s : s + block]
            alive = np.full((len(x), len(trees)), self.full, dtype=self.dtype)
            for f, u, table in zip(self.features, self.thresholds, self.tables):
                row = np.searchsorted(u, x[:, f], side="left")
                row[np.isnan(x[:, f])] = len(u) + 1
                alive &= table[row]
            lowest = alive & (~alive + self.dtype.type(1))  # the leftmost possible leaf's bit
            exit_leaf = np.frexp(lowest.astype(np.float64))[1] - 1
            out[s : s + block] = self.baseline + self.values[trees, exit_leaf].sum(axis=1)
        return out


class RealismCritic:
    """A chain of exported classifiers (one per calibration round).

    A round is either trees on measured features (:func:`export_classifier`)
    or a small network on the pixels (:func:`export_network`).

    Parameters
    ----------
    rounds : sequence of dict
        What :func:`export_classifier` returns, in calibration order.
    galaxies : sequence of str, optional
        The galaxies whose real cut-outs the classifiers were trained on
        (the others are held out for ``benchmarks/mock_realism.py``).
    """

    def __init__(self, rounds, *, galaxies=()):
        self.rounds = list(rounds)
        self.galaxies = [str(g) for g in galaxies]
        # compiled on first use, by the id of their round
        self._forests, self._networks = {}, {}

    @property
    def features(self):
        """Names of the feature columns the tree rounds read (the union, in first-seen order)."""
        names = []
        for r in self.rounds:
            if not self._is_pixels(r):
                names += [str(f) for f in r["features"] if str(f) not in names]
        return names

    @property
    def needs_pixels(self):
        """Whether a round reads the cut-outs themselves."""
        return any(self._is_pixels(r) for r in self.rounds)

    @staticmethod
    def _is_pixels(r):
        return "kind" in r and str(r["kind"]) == "pixels"

    def compile(self):
        """Prepare every round now: trees into look-up tables, networks into torch modules.

        Otherwise each round is prepared when first used. The survey calls
        this before it forks its worker processes, which then share the
        prepared rounds (and the imported torch) instead of each preparing
        its own. Nothing is evaluated, so no thread pool is started.

        Returns
        -------
        self
        """
        for r in self.rounds:
            if self._is_pixels(r):
                self._network(r)
            else:
                self._forest(r)
        return self

    def _network(self, r):
        """The torch module of an image round (made once)."""
        key = id(r)
        if key not in self._networks:
            import torch

            net = pixel_network()
            net.load_state_dict({k[4:]: torch.from_numpy(np.asarray(v)) for k, v in r.items() if k.startswith("net.")})
            self._networks[key] = net.eval().to(memory_format=torch.channels_last)
        return self._networks[key]

    def _forest(self, r):
        """The compiled trees of a tree round (made once)."""
        key = id(r)
        if key not in self._forests:
            self._forests[key] = _Forest(r)
        return self._forests[key]

    def _network_raw(self, r, pixels, *, batch=256):
        """Log odds of an exported image critic on :func:`pixel_inputs` of cut-outs, (n, 2, 20, 20).

        Batches of a few hundred cut-outs, channels last: the activations
        of a batch stay in the CPU's cache, and the pooling layers run 4
        times faster than on channels-first tensors (together 5 times
        faster than batches of 4096, channels first; same log odds within
        2e-6).
        """
        import torch

        net = self._network(r)
        x = torch.from_numpy(pixels)
        out = np.empty(len(x))
        # one thread: the survey evaluates this in forked worker processes,
        # where an OpenMP pool inherited from a parent that used torch
        # deadlocks (and the workers already keep the cores busy)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                for s in range(0, len(x), batch):
                    xb = x[s : s + batch].contiguous(memory_format=torch.channels_last)
                    out[s : s + batch] = net(xb).squeeze(1).double().numpy()
        finally:
            torch.set_num_threads(threads)
        return out

    def _raw(self, r, X):
        """Decision function (log odds) of one exported classifier on X (n, n_features)."""
        return self._forest(r)(X)

    def log_ratio(self, table, cutouts=None):
        """log(p_real / p_mock) of each row of a feature table, summed over the rounds.

        Parameters
        ----------
        table : pandas.DataFrame
            Holds the critic's feature columns (:attr:`features`).
        cutouts : ndarray, optional
            The cut-outs of the rows, ``(n, 2, 20, 20)``; needed when
            :attr:`needs_pixels`.

        Returns
        -------
        ndarray
            One value per row; each round clipped to +-:data:`LOG_RATIO_CLIP`.
        """
        out = np.zeros(len(table))
        pixels = None  # what the image rounds read, prepared once for all of them
        for r in self.rounds:
            if self._is_pixels(r):
                if cutouts is None:
                    raise ValueError("RealismCritic.log_ratio: this critic reads the cut-outs too")
                if pixels is None:
                    pixels = pixel_inputs(cutouts)
                out += np.clip(self._network_raw(r, pixels), -LOG_RATIO_CLIP, LOG_RATIO_CLIP)
                continue
            X = np.array(table.loc[:, [str(f) for f in r["features"]]].to_numpy(dtype=float), copy=True)
            X[~np.isfinite(X)] = np.nan  # as the classifier saw them in training
            out += np.clip(self._raw(r, X), -LOG_RATIO_CLIP, LOG_RATIO_CLIP)
        return out

    def save(self, path):
        """Write the rounds into one ``.npz`` (keys ``r<k>_<name>``)."""
        arrays = {f"r{k}_{name}": np.asarray(v) for k, r in enumerate(self.rounds) for name, v in r.items()}
        np.savez_compressed(path, n_rounds=np.int64(len(self.rounds)),
                            galaxies=np.asarray(self.galaxies, dtype=str), **arrays)

    @classmethod
    def load(cls, path_or_file):
        """Read what :meth:`save` wrote."""
        with np.load(path_or_file, allow_pickle=False) as z:
            n = int(z["n_rounds"])
            rounds = [{f.split("_", 1)[1]: z[f] for f in z.files if f.startswith(f"r{k}_")} for k in range(n)]
            return cls(rounds,
                       galaxies=z["galaxies"].tolist() if "galaxies" in z.files else ())


def _shipped(name):
    ref = resources.files(__package__).joinpath(f"data/{name}")
    if not ref.is_file():
        return None
    with ref.open("rb") as fh:
        return RealismCritic.load(fh)


@functools.cache
def realism_critic():
    """The shipped critic of measured features (``data/critic.npz``), or None where none is shipped."""
    return _shipped("critic.npz")


@functools.cache
def proposal_model():
    """The shipped critic of source parameters (``data/proposal.npz``), or None.

    It tells, from a drawn source's true parameters alone
    (:func:`source_parameters`), how likely its rendered cut-out is to
    look real: ``log E[p_real / p_mock | parameters]``, learnt at
    calibration time from the feature critic's weights of rendered
    sources. The pool of drawn sources is thinned by it before anything
    is rendered (:func:`proposal_acceptance`), which brings the
    renderer's proposal near the real population, so that the
    resampling by the feature critic has little left to do: without it
    the few rendered sources in regions that the physics under-produces
    would cap what the resampling can reach.
    """
    return _shipped("proposal.npz")


#: The true parameters the proposal model reads, in this order.
SOURCE_PARAMETERS = ("kind", "mag_g", "colour", "p1", "p2", "p3", "size_px", "sigma_g", "sigma_z", "pGC",
                     "true_gc")


def source_parameters(sources):
    """The true parameters of drawn sources as a table (columns :data:`SOURCE_PARAMETERS`)."""
    import pandas as pd

    s = sources
    return pd.DataFrame({"kind": s["kind"].astype(float), "mag_g": s["mag_g"], "colour": s["mag_g"] - s["mag_z"],
                         "p1": s["p1"], "p2": s["p2"], "p3": s["p3"], "size_px": s["size_px"],
                         "sigma_g": s["sigma"][:, 0], "sigma_z": s["sigma"][:, 1], "pGC": s["pGC"],
                         "true_gc": s["true_gc"].astype(float)})


def proposal_acceptance(proposal, sources):
    """Probability of keeping each drawn source: exp(clipped log weight - :data:`PROPOSAL_LOG_CLIP`)."""
    log_g = proposal.log_ratio(source_parameters(sources))
    return np.exp(np.clip(log_g, -PROPOSAL_LOG_CLIP, PROPOSAL_LOG_CLIP) - PROPOSAL_LOG_CLIP)


def weighted_choice(log_weight, k, rng):
    """``k`` indices drawn without replacement with probability proportional to exp(log_weight).

    The Efraimidis-Spirakis keys ``log(u) / w`` are computed in log space
    (``log(-log u) - log w``, smallest first), so large log weights do not
    overflow.
    """
    log_weight = np.asarray(log_weight, dtype=float)
    if k > len(log_weight):
        raise ValueError(f"weighted_choice: {k} from {len(log_weight)}")
    key = np.log(-np.log(rng.random(len(log_weight)))) - log_weight
    return np.sort(np.argpartition(key, k - 1)[:k]) if k else np.zeros(0, np.int64)
