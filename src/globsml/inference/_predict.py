"""Candidate catalogues from a bundle: a labelled data set, a table, or cut-outs alone."""

from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_threshold
from .._errors import GlobsmlError
from ..data import FEATURES, GC_THRESHOLD, GCDataset, load_dataset, read_table
from ._bundle import load_bundle
from ._catalogue import PHOTOMETRY_COLUMNS, POSITION_COLUMNS, catalogue_provenance, catalogue_table, write_catalogue
from ._conformal import calibration_shift, fdr_threshold

__all__ = [
    "predict_catalogue",
    "catalogue_frame",
    "catalogue_metrics",
    "evaluate_predictions",
    "metrics_summary",
]


def catalogue_frame(sources, p_gc, threshold, *, p_gc_std=None, p_value=None):
    """Assemble a candidate catalogue from the input rows and their p_gc.

    Parameters
    ----------
    sources : pandas.DataFrame
        The input rows, with ``galaxy`` and ``ID``; position columns,
        photometry (``m4_g``, ``m4_z``, ``colour``) and ``pGC`` are copied
        when present.
    p_gc : array-like of float
    threshold : float
    p_gc_std : array-like of float, optional
        The spread of p_gc over the model's members.
    p_value : array-like of float, optional
        Conformal p-values (``predict --fdr``).

    Returns
    -------
    pandas.DataFrame
        ``galaxy``, ``ID``, ``p_gc``, ``p_gc_std`` and ``p_value`` when
        given, ``is_gc`` (``p_gc > threshold``, the published convention),
        then the position and photometry columns and ``pGC`` that
        ``sources`` has.
    """
    p_gc = np.asarray(p_gc, dtype=np.float64)
    cat = pd.DataFrame(
        {
            "galaxy": sources["galaxy"].astype(str).to_numpy(),
            "ID": sources["ID"].to_numpy(dtype=np.int64),
            "p_gc": p_gc,
        }
    )
    if p_gc_std is not None:
        cat["p_gc_std"] = np.asarray(p_gc_std, dtype=np.float64)
    if p_value is not None:
        cat["p_value"] = np.asarray(p_value, dtype=np.float64)
    # Strictly above, as the published models and globsml.evaluation.
    cat["is_gc"] = p_gc > threshold
    for col in (*POSITION_COLUMNS, *PHOTOMETRY_COLUMNS, "pGC"):
        if col in sources.columns:
            cat[col] = sources[col].to_numpy()
    return cat


def catalogue_metrics(catalogue, *, threshold=GC_THRESHOLD):
    """Metrics of a catalogue whose input was labelled (has ``pGC``).

    Uses :func:`globsml.evaluation.evaluate` (pooled and per galaxy).

    Returns
    -------
    globsml.evaluation.Evaluation or None
        ``None`` when the catalogue has no labels.
    """
    if "pGC" not in catalogue.columns:
        return None
    y = (catalogue["pGC"].to_numpy(dtype=float) >= GC_THRESHOLD).astype(np.int64)
    p = catalogue["p_gc"].to_numpy(dtype=float)
    return evaluate_predictions(y, p, galaxy=catalogue["galaxy"].to_numpy(), ids=catalogue["ID"].to_numpy(),
                                threshold=threshold)


def evaluate_predictions(y, p, *, galaxy, ids, threshold=GC_THRESHOLD):
    """Metrics of predictions (:func:`globsml.evaluation.evaluate`, an ``Evaluation``)."""
    from ..evaluation import evaluate

    return evaluate(y, p, galaxy=galaxy, ids=ids, threshold=threshold)


def metrics_summary(evaluation):
    """A JSON-friendly dict of an ``Evaluation``: pooled metrics and the per-galaxy table."""
    per_galaxy = evaluation.per_galaxy
    return {
        "threshold": float(evaluation.threshold),
        "pooled": dict(evaluation.pooled),
        "per_galaxy": per_galaxy.to_dict(orient="records") if len(per_galaxy) else [],
    }


def features_from_cutouts(cutouts, *, galaxy, ids=None, ebv=None):
    """The feature table of cut-outs (:func:`globsml.features.cutout_features`)."""
    from ..features import cutout_features

    kwargs = {"galaxy": galaxy, "ids": ids}
    if ebv is not None:
        kwargs["ebv"] = ebv
    return cutout_features(cutouts, **kwargs)


def _with_input_columns(feats, rows):
    """Cut-out features, with positions and labels from the input rows only.

    Positions measured on a cut-out are cut-out pixels (the source near
    (10, 10)) and its sky position is unknown: a catalogue gets the input's
    positions when it has them, and none otherwise.
    """
    feats = feats.reset_index(drop=True).drop(columns=[c for c in POSITION_COLUMNS if c in feats.columns])
    rows = rows.reset_index(drop=True)
    for col in (*POSITION_COLUMNS, "pGC"):
        if col in rows.columns:
            feats[col] = rows[col].to_numpy()
    return feats


def _as_dataset(data, table, images):
    given = [n for n, v in (("data", data), ("table", table), ("images", images)) if v is not None]
    if len(given) != 1:
        raise GlobsmlError(f"give exactly one input (data, table or images), got {', '.join(given) or 'none'}")
    if data is not None:
        return data if isinstance(data, GCDataset) else load_dataset(data)
    if table is not None:
        if isinstance(table, pd.DataFrame):
            if "galaxy" not in table.columns or "ID" not in table.columns:
                raise GlobsmlError("the table needs columns galaxy and ID")
            return GCDataset(table, name="table")
        return GCDataset(read_table(table), name=str(table))
    if isinstance(images, GCDataset):
        return images
    images = Path(images)
    if not images.is_dir():
        raise GlobsmlError(f"{images}: expected a directory of <galaxy>_images.fits cut-out files")
    return load_dataset(images=images)


def _predict_dataset(bundle, ds, *, ebv=None, progress=False):
    """(rows used for the catalogue, p_gc, p_gc_std)."""
    if bundle.input == "images":
        if not ds.has_images:
            lacking = sorted(set(ds.galaxies) - set(ds.image_files))
            where = f" for galaxies {', '.join(lacking)}" if ds.image_files else ""
            raise GlobsmlError(
                f"{ds.name or 'data'}: bundle {bundle.name!r} needs cut-outs, and the input has none{where}"
            )
        p = np.empty(len(ds), dtype=np.float64)
        std = np.empty(len(ds), dtype=np.float64)
        galaxies = ds.sources["galaxy"].to_numpy()
        for galaxy in _progress(ds.galaxies, progress, f"{bundle.name} per galaxy"):
            rows = np.flatnonzero(galaxies == galaxy)
            p[rows], std[rows] = bundle.predict_proba(ds.images(rows), return_std=True)
        return ds.sources, p, std
    sources = dataset_features(ds, ebv=ebv, progress=progress)
    if len(sources) == 0:  # an empty catalogue, as with an image bundle
        return sources, np.zeros(0), np.zeros(0)
    return sources, *bundle.predict_proba(sources, return_std=True)


def dataset_features(ds, *, ebv=None, progress=False):
    """The sources of a data set with their features: the table's, or measured on the cut-outs."""
    if ds.has_table:
        return ds.sources
    if not ds.has_images:
        raise GlobsmlError(f"{ds.name or 'data'}: holds neither features nor cut-outs")
    # Cut-outs alone: compute the features first, galaxy by galaxy.
    parts = []
    galaxies = ds.sources["galaxy"].to_numpy()
    for galaxy in _progress(ds.galaxies, progress, "features from cut-outs"):
        rows = np.flatnonzero(galaxies == galaxy)
        ids = ds.sources["ID"].to_numpy()[rows]
        gal_ebv = ebv.get(galaxy) if isinstance(ebv, dict) else ebv
        feats = features_from_cutouts(ds.images(rows), galaxy=galaxy, ids=ids, ebv=gal_ebv)
        parts.append(_with_input_columns(feats, ds.sources.iloc[rows]))
    if not parts:  # only zero-source cut-out files: an empty table
        return ds.sources.reindex(columns=list(dict.fromkeys([*ds.sources.columns, *FEATURES])))
    return pd.concat(parts, ignore_index=True)


def _progress(items, progress, desc):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="galaxy")


def predict_catalogue(bundle, *, data=None, table=None, images=None, threshold=None, fdr=None, ebv=None,
                      out=None, as_table=False, progress=False):
    """Candidate catalogue of new sources from a trained bundle.

    Give exactly one input. A tabular bundle uses the table's features, or
    computes them from the cut-outs when there is no table; an image bundle
    (a CNN) reads the cut-outs.

    Parameters
    ----------
    bundle : Bundle, str or Path
        A bundle, its path, or a published network's name.
    data : str, Path or GCDataset, optional
        A data directory (table and/or ``ImageData/``), as :func:`globsml.load_dataset`.
    table : str, Path or pandas.DataFrame, optional
        A source table in the published format (e.g. ``NGC1427a_sources.csv``).
    images : str or Path, optional
        A directory of ``<galaxy>_images.fits`` cut-out files.
    threshold : float, optional
        ``is_gc = p_gc > threshold``; the bundle's threshold by default.
    fdr : float, optional
        Choose the threshold instead so that the false discovery rate is at
        most ``fdr`` (conformal p-values against the bundle's calibration
        data, Benjamini-Hochberg; :func:`fdr_threshold`). The guarantee
        holds where the input's non-GCs are exchangeable with the
        calibration ones; a :class:`CalibrationShiftWarning` says when the
        input looks unlike them (:func:`calibration_shift`). Adds the
        column ``p_value``.
    ebv : float or dict, optional
        E(B-V) for features computed from cut-outs (one value, or per galaxy).
    out : str or Path, optional
        Also write the catalogue there (format by extension: ``.ecsv``,
        ``.fits``, ``.vot``, ``.parquet``, ``.csv``; see
        :func:`write_catalogue`), with its provenance.
    as_table : bool
        Return the astropy QTable (units, ``sky_centroid`` SkyCoord,
        provenance in ``meta``; :func:`catalogue_table`) instead of the
        DataFrame.
    progress : bool
        Show progress bars.

    Returns
    -------
    pandas.DataFrame or astropy.table.QTable
        ``galaxy``, ``ID``, ``p_gc``, ``p_gc_std`` (the spread over the
        model's members, :func:`globsml.models.predict_proba_std`),
        ``p_value`` with ``fdr``, ``is_gc``, the input's position and
        photometry columns, and ``pGC`` when labelled (then
        :func:`catalogue_metrics` gives the metrics).
    """
    bundle = load_bundle(bundle)
    if fdr is not None and threshold is not None:
        raise GlobsmlError("give a threshold or an FDR level, not both")
    threshold = check_threshold(bundle.threshold if threshold is None else threshold)
    if fdr is not None and bundle.calibration is None:
        raise GlobsmlError(f"bundle {bundle.name!r} keeps no calibration data, which an FDR level needs; "
                           "retrain it with `globsml train` (calibration fraction > 0)")
    ds = _as_dataset(data, table, images)
    sources, p, std = _predict_dataset(bundle, ds, ebv=ebv, progress=progress)
    p_value = None
    if fdr is not None:
        threshold, p_value = fdr_threshold(p, bundle.calibration, fdr)
        calibration_shift(p, bundle.calibration, where=str(ds.name or "the input"))
    cat = catalogue_frame(sources, p, threshold, p_gc_std=std, p_value=p_value)
    meta = catalogue_provenance(bundle, threshold=threshold, fdr=fdr, data=ds.name)
    if out is not None:
        write_catalogue(cat, out, meta=meta)
    return catalogue_table(cat, meta) if as_table else cat
