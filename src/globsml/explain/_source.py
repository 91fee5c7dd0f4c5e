"""Explain one source: everything a person needs to see why it is (not) a GC."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from ..data import FEATURES, GC_THRESHOLD, cluster_of
from ..experiments import LGO_FOLDS, SETUPS, Split, fit_on_split, get_setup, resolve_dataset
from ..models import make_model, model_names, model_spec
from ._image import image_attributions, torch_module
from ._lime import LIME_KERNEL_WIDTH, lime_explain, lime_stability

__all__ = [
    "Explanation",
    "ResolvedModel",
    "explain_source",
    "explain_resolved",
    "find_source",
    "fit_for_source",
    "parse_source",
    "resolve_model",
    "training_side",
    "training_split",
    "DISPLAY_FEATURES",
]

#: Features shown for image models (they have no LIME ranking): colour,
#: brightness, concentration, size and shape, the quantities an astronomer
#: selects GCs by.
DISPLAY_FEATURES = ("colour", "m3_z", "CI_z", "semimajor_sigma_z", "eccentricity_z", "area_z")

class ResolvedModel(NamedTuple):
    """A fitted model ready to explain sources (what :func:`resolve_model` returns).

    Attributes
    ----------
    estimator : fitted classifier
    kind : {"features", "images"}
    name : str
    training : GCDataset or None
        The labelled data it was trained on, where known and at hand.
    trained_on : str
        Says what it was trained on, for people.
    origin : {"given", "trained", "published", "bundle"}
        Where it comes from: decides which reference data an explanation can show.
    """

    estimator: object
    kind: str
    name: str
    training: object
    trained_on: str
    origin: str


@dataclass
class Explanation:
    """Why a model calls one source a GC or not.

    Attributes
    ----------
    galaxy : str
    id : int
    model_name : str
    kind : {"features", "images"}
        What the model looks at.
    p_gc : float
        The model's probability that the source is a GC.
    label : int or None
        The catalogue label (1 = GC) when the data are labelled.
    pgc_catalogue : float or None
        The catalogue probability pGC.
    cutout : numpy.ndarray or None
        (2, 20, 20) g and z cut-out.
    features : pandas.Series or None
        The source's 29 raw features.
    reference : pandas.DataFrame or None
        Features of the reference population (the training data) ...
    reference_labels : numpy.ndarray or None
        ... with their labels (1 = GC) ...
    reference_note : str
        ... and what they are (e.g. "training data: Virgo, catalogue labels").
    reference_p_gc : numpy.ndarray or None
        p_gc of the other sources of the galaxy (image models without
        labelled training data).
    lime : LimeExplanation or None
        For tabular models.
    stability : LimeStability or None
        VSI/CSI, when asked for.
    attributions : numpy.ndarray or None
        (2, 20, 20) pixel attributions, for image models.
    attribution_method : str
    shown_features : list of str
        The features whose distributions the figure shows.
    trained_on : str
        What the model was trained on.
    """

    galaxy: str
    id: int
    model_name: str
    kind: str
    p_gc: float
    label: object = None
    pgc_catalogue: object = None
    cutout: object = None
    features: object = None
    reference: object = None
    reference_labels: object = None
    reference_note: str = ""
    reference_p_gc: object = None
    lime: object = None
    stability: object = None
    attributions: object = None
    attribution_method: str = ""
    shown_features: list = field(default_factory=list)
    trained_on: str = ""

    @property
    def source(self):
        """``GALAXY:ID``."""
        return f"{self.galaxy}:{self.id}"

    @property
    def is_candidate(self):
        """Whether the model calls the source a GC: ``p_gc > GC_THRESHOLD``, as the catalogue does."""
        return bool(self.p_gc > GC_THRESHOLD)

    @property
    def verdict(self):
        """``"GC"`` or ``"not a GC"`` (see :attr:`is_candidate`)."""
        return "GC" if self.is_candidate else "not a GC"


def parse_source(text):
    """Split ``GALAXY:ID`` into (galaxy, int ID)."""
    galaxy, sep, ident = str(text).rpartition(":")
    if not sep or not galaxy:
        raise GlobsmlError(f"source {text!r}: expected GALAXY:ID, e.g. FCC47:10")
    try:
        return galaxy, int(ident)
    except ValueError:
        raise GlobsmlError(f"source {text!r}: the ID {ident!r} is not an integer") from None


def find_source(data, galaxy, id):
    """Row position of source ``galaxy:id`` in ``data.sources``.

    Raises
    ------
    GlobsmlError
        Naming the galaxy (and the galaxies there are) or the ID range.
    """
    src = data.sources
    in_galaxy = np.flatnonzero(src["galaxy"].to_numpy() == str(galaxy))
    if not len(in_galaxy):
        known = data.galaxies
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        raise GlobsmlError(f"{data.name or 'data'}: no galaxy {galaxy!r}; it has {len(known)} galaxies ({shown})")
    ids = src["ID"].to_numpy()[in_galaxy]
    hit = in_galaxy[ids == int(id)]
    if not len(hit):
        raise GlobsmlError(
            f"{data.name or 'data'}: galaxy {galaxy} has no source ID {id} "
            f"(its IDs run from {int(ids.min())} to {int(ids.max())})"
        )
    return int(hit[0])


def training_side(data, galaxy, *, setup=None, seed=0, id=None, n_folds=None):
    """The labelled training data for explaining a source of ``galaxy``.

    Without ``setup``, the model is trained on the cluster the source is NOT
    in, leaving out the source's galaxy (so the source is never in the
    training data). With a set-up of :data:`globsml.experiments.SETUPS`, the
    training part of that set-up's split is used, exactly as ``globsml
    train`` and ``globsml benchmark`` make it: the split of seed ``seed``
    (:meth:`globsml.experiments.Setup.split`), and for leave-galaxies-out
    the fold whose test part holds the source (``id`` needed there).

    Returns
    -------
    training : GCDataset
    note : str
    """
    split, _, note = training_split(data, galaxy, setup=setup, seed=seed, id=id, n_folds=n_folds)
    return data.select(split.train), note


def training_split(data, galaxy, *, setup=None, seed=0, id=None, n_folds=None):
    """The split a model explaining a source of ``galaxy`` is trained on (see :func:`training_side`).

    Returns
    -------
    split : globsml.experiments.Split
        Row positions into ``data``.
    model_seed : int
        The model's seed: ``seed``, or the fold index for leave-galaxies-out
        (as the benchmark seeds its runs).
    note : str
    """
    if not data.labelled:
        raise GlobsmlError(
            f"{data.name or 'data'}: unlabelled (no pGC); a model to train needs labelled data "
            "(give --data a labelled data directory, or use a published or bundled model)"
        )
    if setup is not None:
        return _setup_split(data, galaxy, get_setup(setup), seed=int(seed), id=id, n_folds=n_folds)
    home = cluster_of(galaxy)
    if home is None:
        raise GlobsmlError(f"galaxy {galaxy}: unknown cluster; name a --setup")
    cluster = "Virgo" if home == "Fornax" else "Fornax"
    in_galaxy = data.sources["galaxy"].to_numpy() == str(galaxy)
    mask = (data.cluster == cluster) & ~in_galaxy
    if not mask.any():
        raise GlobsmlError(f"{data.name or 'data'}: no labelled {cluster} sources to train on")
    if len(np.unique(data.y[mask])) < 2:
        raise GlobsmlError(f"{data.name or 'data'}: the {cluster} training sources are all of one class")
    split = Split(np.flatnonzero(mask), np.array([], dtype=np.int64), np.flatnonzero(in_galaxy))
    n_galaxies = len(np.unique(data.sources["galaxy"].to_numpy()[mask]))
    return split, int(seed), f"{cluster} ({len(split.train)} sources, {n_galaxies} galaxies)"


def _setup_split(data, galaxy, setup, *, seed, id, n_folds):
    """The split of a registered set-up that a source of ``galaxy`` is explained under."""
    if setup.one_model:
        run, split = seed, setup.split(data, seed=seed)
        if id is not None:
            row = find_source(data, galaxy, id)
            if row in set(split.train.tolist()) or row in set(split.validation.tolist()):
                raise GlobsmlError(
                    f"{galaxy}:{id} is in the training part of {setup.name} run {run}; "
                    "explain it with another --seed or set-up"
                )
    else:  # folds: the one that tests the source
        if id is None:
            raise GlobsmlError(f"the {setup.name} set-up needs the source (GALAXY:ID) to find its fold")
        row = find_source(data, galaxy, id)
        chosen = [(k, sp) for k, sp in setup.runs(data, n_folds=n_folds or LGO_FOLDS)
                  if row in set(sp.test.tolist())]
        if not chosen:
            raise GlobsmlError(f"{galaxy}:{id} is in no test fold of {setup.name}")
        run, split = chosen[0]
    return split, int(run), f"{setup.title} run {run} ({len(split.train)} sources)"


def fit_for_source(model, data, galaxy, *, setup=None, seed=0, id=None, n_folds=None, quick=False,
                   params=None):
    """Train a registry model to explain a source of ``galaxy``, as ``globsml train`` would.

    Returns
    -------
    ResolvedModel
    """
    split, model_seed, note = training_split(data, galaxy, setup=setup, seed=seed, id=id, n_folds=n_folds)
    est, _ = fit_on_split(model, data, split, seed=model_seed, quick=quick, params=params)
    return ResolvedModel(est, model_spec(model).input, str(model), data.select(split.train),
                         _with_profile(note, quick, params), "trained")


def _with_profile(note, quick, params):
    """The training note, with the quick profile and parameter overrides named."""
    if quick:
        note += ", quick profile"
    if params:
        note += ", " + ", ".join(f"{k}={v}" for k, v in params.items())
    return note


def _published_cluster(est):
    """Training cluster of a published pre-trained network: that of its set-up."""
    network = getattr(est, "network", None)
    return get_setup(network).train_cluster if network in SETUPS else None


def resolve_model(model, data, galaxy, *, training=None, setup=None, seed=0, quick=False, id=None, n_folds=None,
                  params=None):
    """Turn a registry name, bundle path or fitted estimator into a fitted model.

    Returns
    -------
    ResolvedModel
        (estimator, kind, name, training, trained_on, origin).
    """
    if not isinstance(model, (str, Path)):
        kind = _guess_kind(model)
        note = "given model" if training is None else f"given model; reference {training.name}"
        return ResolvedModel(model, kind, type(model).__name__, training, note, "given")
    text = str(model)
    if text not in model_names() and Path(text).exists():
        return _resolve_bundle(Path(text), data, galaxy, training=training, setup=setup)
    spec = model_spec(text)
    if spec.pretrained:
        est = make_model(text, random_state=seed, quick=quick, **(params or {}))
        cluster = _published_cluster(est)
        ref = None
        if training is None and cluster is not None and data.labelled and data.has_table:
            sub = data.cluster == cluster
            ref = data.select(sub) if sub.any() else None
        elif training is not None:
            ref = training
        return ResolvedModel(est, spec.input, text, ref, f"published weights ({cluster or 'see model'} labels)",
                             "published")
    if training is None:
        return fit_for_source(text, data, galaxy, setup=setup, seed=seed, id=id, n_folds=n_folds, quick=quick,
                              params=params)
    everything = Split(np.arange(len(training)), np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    est, _ = fit_on_split(text, training, everything, seed=seed, quick=quick, params=params)
    note = _with_profile(f"{training.name} ({len(training)} sources)", quick, params)
    return ResolvedModel(est, spec.input, text, training, note, "trained")


def _guess_kind(est):
    """What a given fitted estimator takes: a network with a convolution looks at images."""
    kind = getattr(est, "input_kind_", None)
    if kind in ("features", "images"):
        return kind
    module = torch_module(est)
    if module is not None:
        import torch

        if any(isinstance(m, torch.nn.Conv2d) for m in module.modules()):
            return "images"
    return "features"


def _resolve_bundle(path, data, galaxy, *, training=None, setup=None):
    """A saved model bundle (``globsml train``): its model as it is, never refitted.

    The reference data: ``training`` if given, else the training part of the
    bundle's own set-up and seed rebuilt from ``data`` when ``data`` is
    labelled (the bundle records them), else none (then the source's galaxy
    serves, split by the model's verdict).
    """
    try:
        from ..inference import load_bundle
    except ImportError:  # pragma: no cover - inference ships with globsml
        raise GlobsmlError(f"{path}: model bundles are not supported by this globsml") from None
    bundle = load_bundle(path)
    est = bundle.model
    kind = bundle.input
    name = bundle.name or path.name
    info = dict(getattr(bundle, "training", {}) or {})
    note = f"bundle {path.name}" + (f" ({info['setup']}, seed {info.get('seed', 0)})" if info.get("setup") else "")
    ref = training
    if ref is None and data.labelled and data.has_table and info.get("setup"):
        try:
            # The bundle's own split: the set-up and seed it was trained with.
            ref = training_side(data, galaxy, setup=setup or info["setup"], seed=int(info.get("seed", 0)))[0]
        except GlobsmlError:
            ref = None
    return ResolvedModel(est, kind, name, ref, note, "bundle")


def explain_source(
    model,
    data,
    galaxy,
    id,
    *,
    training=None,
    setup=None,
    seed=0,
    num_features=8,
    num_samples=5000,
    stability_calls=0,
    baseline="zero",
    pixels="auto",
    quick=False,
    params=None,
):
    """Explain the p_gc of one source.

    Parameters
    ----------
    model : str, Path or fitted classifier
        A registry name (trained here on the training side, see
        :func:`training_side`), a published pre-trained model name, a model
        bundle path, or an already fitted estimator (then give ``training``
        for LIME and the reference distributions of a tabular model).
    data : GCDataset or path
        Data holding the source (table and/or cut-outs).
    galaxy : str
    id : int
    training : GCDataset, optional
        Labelled training data (default: see :func:`training_side`).
    setup : str, optional
        ``"virgo2fornax"`` or ``"fornax2virgo"``.
    seed : int
        Seed of training and of LIME: same seed, same explanation.
    num_features, num_samples : int
        Of LIME (tabular models).
    stability_calls : int
        When >= 2, also compute LIME's VSI/CSI over that many calls.
    baseline : {"zero", "blur"}
        Of the image attributions.
    pixels : {"auto", "ig", "occlusion", "lime"}
        Method of the image attributions (see :func:`image_attributions`).
    quick : bool
        Train registry models with their quick (CI) profile.
    params : dict, optional
        Overrides of the registry model's parameters.

    Returns
    -------
    Explanation
    """
    data = resolve_dataset(data)
    find_source(data, galaxy, id)  # a wrong GALAXY:ID fails before any training
    resolved = resolve_model(model, data, galaxy, training=training, setup=setup, seed=seed, quick=quick, id=id,
                             params=params)
    return explain_resolved(
        resolved, data, galaxy, id, seed=seed, num_features=num_features, num_samples=num_samples,
        stability_calls=stability_calls, baseline=baseline, pixels=pixels,
    )


def explain_resolved(resolved, data, galaxy, id, *, seed=0, num_features=8, num_samples=5000,
                     stability_calls=0, baseline="zero", pixels="auto"):
    """:func:`explain_source` for a model already resolved by :func:`resolve_model`.

    Explaining many sources of one model (``globsml explain --errors``)
    trains it once.
    """
    est, kind, name, training, trained_on, origin = resolved
    row = find_source(data, galaxy, id)
    record = data.sources.iloc[row]
    label = pgc = None
    if data.labelled and pd.notna(record["pGC"]):
        pgc = float(record["pGC"])
        label = int(pgc >= GC_THRESHOLD)  # the catalogue label rule
    cutout = data.images([row])[0] if galaxy in data.image_files else None
    features = record.reindex(list(FEATURES)).astype(float) if data.has_table else None
    expl = Explanation(
        galaxy=str(galaxy), id=int(id), model_name=name, kind=kind, p_gc=float("nan"),
        label=label, pgc_catalogue=pgc, cutout=cutout, features=features, trained_on=trained_on,
    )
    if training is not None and training.has_table and training.labelled:
        expl.reference = training.features()
        expl.reference_labels = training.y
        if origin == "published":
            # Pre-trained elsewhere: these are only sources of the same cluster.
            expl.reference_note = f"{training.name} sources of the network's training cluster, catalogue labels"
        else:
            expl.reference_note = f"training data: {trained_on}"
    if kind == "images":
        if cutout is None:
            raise GlobsmlError(f"{data.name or 'data'}: no cut-out of {galaxy}:{id} for image model {name}")
        expl.p_gc = float(np.asarray(est.predict_proba(cutout[None]))[0, 1])
        attr, method = image_attributions(est, cutout[None], method=pixels, baseline=baseline, seed=seed)
        expl.attributions, expl.attribution_method = attr[0], method
        if expl.reference is None:
            _galaxy_reference(expl, est, data, galaxy, seed=seed)
        expl.shown_features = [f for f in DISPLAY_FEATURES if expl.reference is not None and f in expl.reference]
        return expl
    if features is None:
        raise GlobsmlError(
            f"{data.name or 'data'}: no feature table for tabular model {name}; measure the features "
            "on the cut-outs with `globsml features`, or explain an image model"
        )
    if training is None and origin != "bundle":
        raise GlobsmlError(f"LIME for {name} needs the training data (give training=...)")
    frame = features.to_frame().T
    expl.p_gc = float(np.asarray(est.predict_proba(frame))[0, 1])
    if training is not None:
        train_x = training.features()
    elif origin == "bundle":
        # A bundle without its labelled training data at hand: LIME samples
        # from the features of this data set (it needs no labels), and the
        # reference is the data split by the model's own verdict.
        train_x = data.features()
        expl.reference = train_x
        expl.reference_labels = (np.asarray(est.predict_proba(train_x))[:, 1] > GC_THRESHOLD).astype(int)
        expl.reference_note = f"sources of {data.name or 'the data'}, split by this model's verdict"
    expl.lime = lime_explain(
        est, features, train_x, num_features=num_features, num_samples=num_samples,
        kernel_width=LIME_KERNEL_WIDTH, seed=seed,
    )
    if stability_calls and stability_calls >= 2:
        expl.stability = lime_stability(
            est, features, train_x, n_calls=stability_calls, num_features=num_features,
            num_samples=num_samples, kernel_width=LIME_KERNEL_WIDTH, seed=seed,
        )
    expl.shown_features = list(expl.lime.features[:6])
    return expl


#: At most this many sources of a galaxy serve as the reference population
#: (measuring features on cut-outs and MC-dropout predictions cost time).
MAX_REFERENCE = 2000


def _galaxy_reference(expl, est, data, galaxy, *, seed=0):
    """Without labelled training data: the other sources of the same galaxy,
    split by the model's own verdict, with features measured on the cut-outs
    (when :mod:`globsml.features` can) -- clearly marked as such."""
    rows = np.flatnonzero(data.sources["galaxy"].to_numpy() == galaxy)
    if len(rows) > MAX_REFERENCE:
        own = rows[data.sources["ID"].to_numpy()[rows] == expl.id]
        others = np.setdiff1d(rows, own)
        pick = np.random.default_rng(seed).choice(others, MAX_REFERENCE - len(own), replace=False)
        rows = np.sort(np.concatenate([own, pick]))
    images = data.images(rows)
    p = np.asarray(est.predict_proba(images))[:, 1]
    feats = None
    if data.has_table:
        feats = data.sources.iloc[rows].reindex(columns=list(FEATURES))
    else:
        try:
            from ..features import cutout_features
        except ImportError:
            cutout_features = None
        if cutout_features is not None:
            try:
                ids = data.sources["ID"].to_numpy()[rows]
                feats = cutout_features(images, galaxy=galaxy, ids=ids).reindex(columns=list(FEATURES))
                own = np.flatnonzero(data.sources["ID"].to_numpy()[rows] == expl.id)
                expl.features = feats.iloc[int(own[0])].astype(float)
            except Exception as exc:  # the measurement is an extra, never a reason to fail
                feats = None
                expl.reference_note = f"(features not measured: {exc})"
    expl.reference_p_gc = p
    if feats is not None:
        expl.reference = feats.reset_index(drop=True)
        expl.reference_labels = (p > GC_THRESHOLD).astype(int)
        expl.reference_note = f"other sources of {galaxy}, split by this model's verdict"
