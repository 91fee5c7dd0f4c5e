"""Explain every false positive and false negative of a benchmark run."""

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from .._io import atomic_path
from ..data import GC_THRESHOLD
from ..experiments import resolve_dataset

__all__ = ["read_errors", "explain_errors", "ERRORS_FILENAME"]

#: What ``globsml benchmark`` writes into its run directory.
ERRORS_FILENAME = "errors.csv"
_ERROR_COLUMNS = ("model", "setup", "seed", "galaxy", "ID", "kind", "p_gc")


def read_errors(run_dir, *, model=None):
    """The false positives and negatives of a finished benchmark run.

    Parameters
    ----------
    run_dir : str or Path
        A ``globsml benchmark`` run directory (holding ``errors.csv``) or the
        CSV file itself.
    model : str, optional
        Keep only this model.

    Returns
    -------
    pandas.DataFrame
        Rows of kind FP or FN, columns as in ``errors.csv``.
    """
    path = Path(run_dir)
    if path.is_dir() or path.suffix.lower() != ".csv":
        path = path / ERRORS_FILENAME
    if not path.is_file():
        raise GlobsmlError(f"{path}: no such file; is {run_dir} a finished `globsml benchmark` run?")
    try:
        table = pd.read_csv(path)
    except Exception as exc:
        raise GlobsmlError(f"{path}: not a readable CSV table ({exc})") from None
    missing = [c for c in _ERROR_COLUMNS if c not in table.columns]
    if missing:
        raise GlobsmlError(f"{path}: missing column(s) {', '.join(missing)}")
    table["galaxy"] = table["galaxy"].astype(str)
    table = table[table["kind"].isin(["FP", "FN"])]
    if model is not None:
        if model not in set(table["model"]):
            known = ", ".join(sorted(set(table["model"].astype(str)))) or "none"
            raise GlobsmlError(f"{path}: no errors of model {model!r} (models with errors: {known})")
        table = table[table["model"] == model]
    return table.reset_index(drop=True)


def _run_config(run_dir):
    """The benchmark's ``config.json`` (data, quick, n_folds), or {} when absent."""
    import json

    path = Path(run_dir)
    path = (path if path.is_dir() else path.parent) / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text))


def explain_errors(run_dir, data, out_dir, *, model=None, limit=None, num_samples=5000, quick=False,
                   progress=True):
    """Explain each FP and FN of a benchmark run into ``out_dir`` with an index page.

    Every (model, set-up, seed) run is retrained once, on the training part
    of its set-up's split with its seed, as ``globsml benchmark`` trains it
    (``quick`` and the number of folds are read from the run's
    ``config.json``), so it is the model that made the errors as far as its
    training is deterministic. Figures already there are kept, so an
    interrupted run resumes where it stopped.

    Parameters
    ----------
    run_dir : str or Path
        The benchmark run (its ``errors.csv``).
    data : GCDataset, path or None
        The data the benchmark ran on (None: the ``data`` of the run's
        ``config.json``, else the mock survey).
    out_dir : str or Path
        Gets ``<model>/<setup>/seed<seed>/<FP|FN>_<galaxy>_<ID>.png`` and
        ``index.html``.
    model : str, optional
        Only this model's errors.
    limit : int, optional
        At most this many errors per (model, set-up, seed) and kind, the
        most confident ones first.
    num_samples : int
        LIME samples per explanation.

    Returns
    -------
    pathlib.Path
        The index page.
    """
    from tqdm.auto import tqdm

    from ._figures import plot_explanation, save_figure
    from ._source import explain_resolved, fit_for_source, training_split

    errors = read_errors(run_dir, model=model)
    config = _run_config(run_dir)
    if data is None and config.get("data") and Path(config["data"]).exists():
        data = config["data"]  # the data the benchmark ran on
    data = resolve_dataset(data)
    quick = bool(config.get("quick", quick))
    n_folds = config.get("n_folds")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Most confident mistakes first: far from the threshold.
    errors = errors.assign(_conf=np.abs(errors["p_gc"].astype(float) - GC_THRESHOLD))
    errors = errors.sort_values(["model", "setup", "seed", "kind", "_conf"], ascending=[True, True, True, True, False])
    if limit is not None:
        errors = errors.groupby(["model", "setup", "seed", "kind"], sort=False).head(int(limit))
    sections, skipped = [], []
    models = {}  # (model, training note) -> resolved model: each run is trained once
    bar = tqdm(total=len(errors), desc="explaining errors", disable=not progress)
    for (name, setup, seed), group in errors.groupby(["model", "setup", "seed"], sort=False):
        folder = out_dir / _slug(name) / _slug(setup) / f"seed{int(seed)}"
        entries = []
        for r in group.itertuples(index=False):
            png = folder / f"{r.kind}_{_slug(r.galaxy)}_{int(r.ID)}.png"
            if not png.is_file():
                try:
                    _, _, note = training_split(
                        data, r.galaxy, setup=str(setup), seed=int(seed), id=int(r.ID), n_folds=n_folds)
                    key = (str(name), note)
                    if key not in models:
                        models[key] = fit_for_source(str(name), data, r.galaxy, setup=str(setup), seed=int(seed),
                                                     id=int(r.ID), n_folds=n_folds, quick=quick)
                except GlobsmlError as exc:
                    skipped.append(f"{name} / {setup} / seed {int(seed)} / {r.galaxy}:{int(r.ID)}: {exc}")
                    bar.update(1)
                    continue
                expl = explain_resolved(models[key], data, r.galaxy, int(r.ID), seed=int(seed),
                                        num_samples=num_samples)
                save_figure(plot_explanation(expl), png)
                now = expl.p_gc
            else:
                now = None  # figure kept from an earlier call
            entries.append((r.kind, r.galaxy, int(r.ID), float(r.p_gc), png.relative_to(out_dir), now))
            bar.update(1)
        sections.append((str(name), str(setup), int(seed), entries))
    bar.close()
    index = out_dir / "index.html"
    import os

    with atomic_path(index) as tmp:
        tmp.write_text(_index_html(run_dir, sections, skipped), encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a web page to share, not a private temp file
    return index


def _index_html(run_dir, sections, skipped):
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>globsml: errors of {esc(str(run_dir))}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em} figure{display:inline-block;margin:4px;"
        "text-align:center;font-size:12px} img{width:300px;border:1px solid #ccc}</style></head><body>",
        f"<h1>False positives and false negatives of {esc(str(run_dir))}</h1>",
        "<p>FP: the model says GC, the catalogue says not (pGC &lt; 0.5). FN: the other way round. "
        "Most confident mistakes first. Click a thumbnail for the full figure. The model is retrained "
        "as the benchmark trained it; a bold p_gc marks a source where the retrained model disagrees "
        "with the run by more than 0.01.</p>",
    ]
    for name, setup, seed, entries in sections:
        parts.append(f"<h2>{esc(name)}, {esc(setup)}, seed {seed}</h2>")
        for kind, title in (("FP", "False positives"), ("FN", "False negatives")):
            rows = [e for e in entries if e[0] == kind]
            parts.append(f"<h3>{title} ({len(rows)})</h3><div>")
            for _, galaxy, ident, p, rel, now in rows:
                href = esc(rel.as_posix())
                # The retrained model should give the run's p_gc; say so when it does not.
                differs = now is not None and abs(now - p) > 0.01
                note = f" <b>(retrained: {now:.2f})</b>" if differs else ""
                parts.append(
                    f"<figure><a href='{href}'><img src='{href}' alt='{esc(galaxy)}:{ident}'></a>"
                    f"<figcaption>{esc(galaxy)}:{ident}, p_gc = {p:.2f}{note}</figcaption></figure>"
                )
            parts.append("</div>")
    if skipped:
        parts.append("<h2>Not explained</h2><ul>")
        parts.extend(f"<li>{esc(s)}</li>" for s in skipped)
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
