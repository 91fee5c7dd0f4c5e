"""Tables and the self-contained HTML report of a benchmark."""

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path
from ..data import GC_THRESHOLD, PUBLICATION, published_results
from ..evaluation import evaluate, metric_label, metric_names
from ._figures import curve_figures, importance_figure, reliability_figure, summary_figure
from ._result import BenchmarkResult, load_runs
from ._setups import SETUPS, setup_title

__all__ = ["collect", "write_report", "results_table", "display_table", "markdown_table", "headline_table",
           "best_models", "TABLE_METRICS", "HEADLINE_METRICS", "BEST_RULE"]

#: The publication's columns, in its order (keys of :func:`globsml.evaluation.metric_names`).
TABLE_METRICS = ("tpr", "fdr", "fpr", "roc_auc", "auc_fdr_tpr", "average_precision",
                 "tpr_at_fdr_0.05", "tpr_at_fdr_0.1", "n_found", "n_gcs", "n_fake", "n_sources",
                 "brier")
#: Beyond the publication: the Brier score, mean (p_gc - y)^2, low when p_gc is
#: both sharp and calibrated (what ``calibrated-forest`` is for).
_EXTRA = ("brier",)
_LABELS = {"brier": "Brier"}
_COUNTS = {"n_found", "n_gcs", "n_fake", "n_sources"}
#: The columns of the report's headline tables, one per set-up.
HEADLINE_METRICS = ("tpr", "fdr", "fpr", "roc_auc", "auc_fdr_tpr")
#: How the best model of a set-up is chosen (:func:`best_models`), as the report prints it.
BEST_RULE = ("the highest mean AUC(FDR,TPR) over its runs (the area under the TPR-versus-FDR curve, the "
             "publication's summary of a catalogue's purity and completeness), TPR - FDR breaking ties")


def _order(values, preferred):
    known = [v for v in preferred if v in set(values)]
    return known + sorted(set(values) - set(known))


def collect(records, preds, *, threshold=GC_THRESHOLD, out=None, models=None, setups=None):
    """Evaluate stored runs into the benchmark's tables.

    Parameters
    ----------
    records : list of dict
        Run records (``model``, ``setup``, ``seed``, sizes, timings).
    preds : dict of (model, setup, seed) to DataFrame
        Test predictions of each run (``galaxy``, ``ID``, ``y_true``, ``p_gc``).
    threshold : float
    out : Path, optional
    models, setups : sequence of str, optional
        Row order (order of first appearance in ``records`` otherwise).

    Returns
    -------
    BenchmarkResult
    """

    models = _order([r["model"] for r in records], models or list(dict.fromkeys(r["model"] for r in records)))
    setups = _order([r["setup"] for r in records], setups or list(SETUPS))
    rank = {(m, s): (setups.index(s), models.index(m)) for m in models for s in setups}
    records = sorted(records, key=lambda r: (*rank[(r["model"], r["setup"])], r["seed"]))
    run_rows, galaxy_frames, error_frames = [], [], []
    for rec in records:
        pred = preds[(rec["model"], rec["setup"], rec["seed"])]
        ev = evaluate(pred["y_true"].to_numpy(), pred["p_gc"].to_numpy(),
                      galaxy=pred["galaxy"].to_numpy(), ids=pred["ID"].to_numpy(), threshold=threshold)
        tag = {"model": rec["model"], "setup": rec["setup"], "seed": rec["seed"]}
        p, yt = pred["p_gc"].to_numpy(dtype=float), pred["y_true"].to_numpy(dtype=float)
        brier = float(np.mean((p - yt) ** 2)) if len(p) else np.nan
        run_rows.append({**tag, **ev.pooled, "brier": brier, "n_train": rec.get("n_train"),
                         "n_validation": rec.get("n_validation"), "fit_s": rec.get("fit_s"),
                         "predict_s": rec.get("predict_s"), "fit_cpu_s": rec.get("fit_cpu_s"),
                         "predict_cpu_s": rec.get("predict_cpu_s")})
        galaxy_frames.append(ev.per_galaxy.assign(**tag))
        error_frames.append(ev.errors.assign(**tag))
    tag_cols = ["model", "setup", "seed"]
    names = [*metric_names(), *_EXTRA]
    runs = pd.DataFrame(run_rows, columns=[*tag_cols, *names, "n_train", "n_validation", "fit_s",
                                           "predict_s", "fit_cpu_s", "predict_cpu_s"])
    names = list(metric_names())
    per_galaxy = (pd.concat(galaxy_frames, ignore_index=True) if galaxy_frames
                  else pd.DataFrame(columns=["galaxy", *names]))
    per_galaxy = per_galaxy.loc[:, [*tag_cols, "galaxy", *names]] if len(per_galaxy) else \
        pd.DataFrame(columns=[*tag_cols, "galaxy", *names])
    errors = (pd.concat(error_frames, ignore_index=True) if error_frames
              else pd.DataFrame(columns=["galaxy", "ID", "kind", "p_gc"]))
    errors = errors.reindex(columns=[*tag_cols, "galaxy", "ID", "kind", "p_gc"])
    table = results_table(runs, models=models, setups=setups)
    return BenchmarkResult(out=Path(out) if out is not None else None, table=table, runs=runs,
                           per_galaxy=per_galaxy, errors=errors)


def results_table(runs, *, models=None, setups=None):
    """Mean and std over runs of every metric, one row per (model, set-up).

    Columns: ``model``, ``setup``, ``n_runs``, then ``<metric>_mean`` and
    ``<metric>_std`` (std with ddof=1; NaN for a single run).
    """
    names = [c for c in (*metric_names(), *_EXTRA) if c in runs.columns]
    cols = ["model", "setup", "n_runs", *[f"{m}_{k}" for m in names for k in ("mean", "std")]]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    models = models or list(pd.unique(runs["model"]))
    setups = setups or list(pd.unique(runs["setup"]))
    for setup in setups:
        for model in models:
            sub = runs[(runs["model"] == model) & (runs["setup"] == setup)]
            if sub.empty:
                continue
            row = {"model": model, "setup": setup, "n_runs": len(sub)}
            for m in names:
                vals = sub[m].to_numpy(dtype=float)
                finite = vals[np.isfinite(vals)]
                row[f"{m}_mean"] = finite.mean() if len(finite) else np.nan
                row[f"{m}_std"] = finite.std(ddof=1) if len(finite) > 1 else np.nan
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _fmt(mean, std, count):
    if not np.isfinite(mean):
        return "–"
    digits = 1 if count else 3
    text = f"{mean:.{digits}f}" if not (count and float(mean).is_integer()) else f"{int(mean)}"
    if np.isfinite(std):
        text += f" ± {std:.{digits}f}"
    return text


def display_table(table, metrics=TABLE_METRICS):
    """The results table with "mean ± std" strings and printed column names."""
    out = pd.DataFrame({"model": table["model"], "set-up": table["setup"].map(lambda s: setup_title(s)),
                        "runs": table["n_runs"]})
    for m in metrics:
        if f"{m}_mean" in table.columns:
            out[_LABELS.get(m) or metric_label(m)] = [_fmt(a, b, m in _COUNTS) for a, b in
                                    zip(table[f"{m}_mean"], table[f"{m}_std"])]
    return out


def markdown_table(frame):
    """A GitHub-flavoured Markdown table of a DataFrame (cells as printed by ``str``)."""
    def cell(v):
        if isinstance(v, float):
            v = "–" if not np.isfinite(v) else f"{v:.3f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _galaxy_means(per_galaxy):
    """Per (model, set-up, galaxy): metrics averaged over the runs that tested the galaxy."""
    if per_galaxy.empty:
        return per_galaxy.drop(columns=["seed"], errors="ignore")
    names = [c for c in metric_names() if c in per_galaxy.columns]
    g = per_galaxy.groupby(["model", "setup", "galaxy"], sort=False)
    means = g[names].mean()
    means.insert(0, "n_runs", g.size())
    return means.reset_index()


def best_models(table):
    """The best model of each set-up: by :data:`BEST_RULE`.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table (:func:`results_table`).

    Returns
    -------
    dict of str to str
        Set-up to model, in the table's order of set-ups.
    """
    best = {}
    for setup, sub in table.groupby("setup", sort=False):
        score = sub["auc_fdr_tpr_mean"].fillna(-1) + 1e-6 * (sub["tpr_mean"] - sub["fdr_mean"]).fillna(0)
        best[setup] = sub.loc[score.idxmax(), "model"]
    return best


def headline_table(table, *, published=None):
    """The report's headline: per set-up, one row per model, the best marked, the publication's beside.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table (:func:`results_table`).
    published : pandas.DataFrame, optional
        The publication's figures (:func:`globsml.data.published_results`,
        the default); an empty frame leaves them out. A published row
        follows the row of the same model in the same set-up (the end of
        the set-up when the model did not run); set-ups that did not run
        get none.

    Returns
    -------
    pandas.DataFrame
        Columns ``setup`` (registry name), ``set-up`` (printed), ``model``,
        ``source`` (``"globsml"`` or the publication), ``runs``, the
        :data:`HEADLINE_METRICS` as "mean ± std" strings under their
        printed names ("–" where not known), and ``best`` (True on the
        best model of the set-up, :func:`best_models`).

    Examples
    --------
    >>> import pandas as pd
    >>> from globsml.experiments import headline_table
    >>> runs = pd.DataFrame({"model": ["forest", "forest", "knn", "knn"], "setup": "all2all",
    ...                      "seed": [0, 1, 0, 1], "tpr": [0.90, 0.92, 0.85, 0.86],
    ...                      "fdr": [0.05, 0.07, 0.1, 0.1], "fpr": 0.02, "roc_auc": [0.98, 0.99, 0.95, 0.96],
    ...                      "auc_fdr_tpr": [0.95, 0.96, 0.90, 0.91]})
    >>> from globsml.experiments import results_table
    >>> head = headline_table(results_table(runs))
    >>> head[["model", "TPR", "best"]].to_numpy().tolist()
    [['forest', '0.910 ± 0.014', True], ['knn', '0.855 ± 0.007', False]]
    """
    published = published_results() if published is None else published
    labels = {m: metric_label(m) for m in HEADLINE_METRICS}
    best = best_models(table) if len(table) else {}
    rows = []
    for setup in pd.unique(table["setup"]):
        sub = table[table["setup"] == setup]
        pub = published[published["setup"] == setup] if len(published) else published
        placed = set()
        for row in sub.to_dict("records"):
            rows.append({"setup": setup, "model": row["model"], "source": "globsml", "runs": str(row["n_runs"]),
                         **{labels[m]: _fmt(row.get(f"{m}_mean", np.nan), row.get(f"{m}_std", np.nan), False)
                            for m in HEADLINE_METRICS},
                         "best": best.get(setup) == row["model"]})
            for p in pub[pub["model"] == row["model"]].to_dict("records") if len(pub) else ():
                rows.append(_published_row(setup, p, labels))
                placed.add(row["model"])
        for p in pub[~pub["model"].isin(placed)].to_dict("records") if len(pub) else ():
            rows.append(_published_row(setup, p, labels))
    out = pd.DataFrame(rows, columns=["setup", "model", "source", "runs", *labels.values(), "best"])
    out.insert(1, "set-up", out["setup"].map(setup_title))
    return out


def _published_row(setup, pub, labels):
    return {"setup": setup, "model": pub["model"], "source": PUBLICATION, "runs": "–",
            **{labels[m]: _fmt(float(pub.get(m, np.nan)), np.nan, False) for m in HEADLINE_METRICS},
            "best": False}


def _headline_html(head):
    """The headline tables as HTML, one per set-up (best model starred, published rows in italics)."""
    metrics = [metric_label(m) for m in HEADLINE_METRICS]
    parts = ["<div class='headline'>"]
    for setup, sub in head.groupby("setup", sort=False):
        parts += [f"<div class='setup'><h3>{html.escape(setup_title(setup))}</h3>",
                  "<table><thead><tr><th>model</th><th>runs</th>",
                  *(f"<th>{html.escape(m)}</th>" for m in metrics), "</tr></thead><tbody>"]
        for r in sub.to_dict("records"):
            ours = r["source"] == "globsml"
            name = html.escape(r["model"]) if ours else f"{html.escape(r['model'])} (published)"
            cls = " class='best'" if r["best"] else ("" if ours else " class='pub'")
            mark = "&#9733; " if r["best"] else ""
            parts.append(f"<tr{cls}><td>{mark}{name}</td><td>{html.escape(r['runs'])}</td>"
                         + "".join(f"<td>{html.escape(r[m])}</td>" for m in metrics) + "</tr>")
        parts.append("</tbody></table></div>")
    parts.append("</div>")
    return "\n".join(parts)


def _png(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    data = buf.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return base64.b64encode(data).decode("ascii")


def _write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_csv(path, frame):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def _importances(out, runs):
    frames = []
    for row in runs.itertuples(index=False):
        path = Path(out) / "runs" / row.setup / row.model / f"run{row.seed}" / "importances.csv"
        if path.is_file():
            frames.append(pd.read_csv(path).assign(model=row.model, setup=row.setup, seed=row.seed))
    if not frames:
        return pd.DataFrame(columns=["model", "setup", "seed", "feature", "importance"])
    return pd.concat(frames, ignore_index=True)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1300px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0} td:first-child,td:nth-child(2){text-align:left}
.headline{display:flex;flex-wrap:wrap;gap:0 2em} .headline h3{margin:0.6em 0 0.2em}
.headline table{font-size:14px;margin-bottom:0.6em} .headline td:nth-child(2){text-align:right}
tr.best td{background:#e3f4e1;font-weight:600} tr.pub td{color:#555;font-style:italic}
.headline th:first-child{text-align:left} .rule{font-size:13px;color:#444}
img{max-width:100%;border:1px solid #eee;margin:4px} .figs{display:flex;flex-wrap:wrap}
code{background:#f4f4f4;padding:1px 4px} details{margin-bottom:1em}
"""


def write_report(result, *, config=None):
    """Write the tables, figures and the self-contained HTML report of a benchmark.

    Files in ``result.out``: ``results.csv`` and ``results.md`` (one row per
    model and set-up), ``runs.csv`` (one row per run, with timings),
    ``per_galaxy.csv`` (every run), ``per_galaxy_mean.csv`` (mean over runs),
    ``per_galaxy.md`` (best model of each set-up), ``errors.csv`` (model,
    setup, seed, galaxy, ID, kind FN/FP/TP, p_gc), ``roc_<setup>.png``,
    ``fdr_tpr_<setup>.png``, ``calibration_<setup>.png``, ``summary.png``, ``importance.png``,
    ``importances.csv`` and ``report.html`` (figures embedded).

    Returns
    -------
    dict of str to Path
    """
    out = Path(result.out)
    config = dict(config or {})
    table = result.table
    models = list(pd.unique(table["model"]))
    setups = list(pd.unique(table["setup"]))
    threshold = config.get("threshold", GC_THRESHOLD)
    display = display_table(table)
    files, galaxy_tables = _write_tables(result, out, display, threshold)
    figure_files, figures = _write_figures(result, out, models, setups, threshold)
    files.update(figure_files)
    html_text = _report_html(result, config, display, galaxy_tables, figures, models=models, setups=setups,
                             threshold=threshold)
    _write_text(out / "report.html", html_text)
    files["report.html"] = out / "report.html"
    return files


def _write_tables(result, out, display, threshold):
    """The CSV and Markdown tables; their files, and the per-galaxy tables of the best models."""
    files = {}
    table, runs = result.table, result.runs
    for name, frame in (("results.csv", table), ("runs.csv", runs), ("per_galaxy.csv", result.per_galaxy),
                        ("errors.csv", result.errors)):
        _write_csv(out / name, frame)
        files[name] = out / name
    gal_means = _galaxy_means(result.per_galaxy)
    _write_csv(out / "per_galaxy_mean.csv", gal_means)
    files["per_galaxy_mean.csv"] = out / "per_galaxy_mean.csv"
    _write_text(out / "results.md", "# Benchmark results\n\nMean ± std over runs; a GC is "
                f"p_gc > {threshold:g}.\n\n" + markdown_table(display))
    files["results.md"] = out / "results.md"

    best = best_models(table) if len(table) else {}
    gal_cols = ["n_sources", "n_gcs", "n_found", "n_fake", "tpr", "fdr", "roc_auc"]
    gal_sections, gal_html = [], []
    for setup, model in best.items():
        sub = gal_means[(gal_means["setup"] == setup) & (gal_means["model"] == model)]
        show = sub.loc[:, ["galaxy", "n_runs", *gal_cols]].rename(columns=metric_label)
        title = f"{setup_title(setup)}, {model} (best AUC(FDR,TPR))"
        gal_sections.append(f"## {title}\n\n" + markdown_table(show))
        gal_html.append((title, show))
    _write_text(out / "per_galaxy.md", "# Per galaxy (mean over runs)\n\n" + "\n".join(gal_sections))
    files["per_galaxy.md"] = out / "per_galaxy.md"
    return files, gal_html


def _write_figures(result, out, models, setups, threshold):
    """Summary, curves per set-up and importances as PNG files; their files and base64 images."""
    files = {}
    table, runs = result.table, result.runs
    _, preds = load_runs(out, models=models, setups=setups)
    preds = {k: v for k, v in preds.items()
             if ((runs["model"] == k[0]) & (runs["setup"] == k[1]) & (runs["seed"] == k[2])).any()}
    images = []
    if len(table):
        images.append(("Summary", _png(summary_figure(table, models=models, setups=setups),
                                       out / "summary.png")))
        files["summary.png"] = out / "summary.png"
    curve_imgs = []
    for setup in setups:
        figs = curve_figures(preds, setup, models, threshold=threshold)
        if figs is None:
            continue
        for kind, fig in zip(("roc", "fdr_tpr"), figs):
            path = out / f"{kind}_{setup}.png"
            curve_imgs.append((f"{setup_title(setup)} {kind}", _png(fig, path)))
            files[path.name] = path
    for setup in setups:
        fig = reliability_figure(preds, setup, models)
        if fig is not None:
            path = out / f"calibration_{setup}.png"
            curve_imgs.append((f"{setup_title(setup)} calibration", _png(fig, path)))
            files[path.name] = path
    imps = _importances(out, runs)
    _write_csv(out / "importances.csv", imps)
    files["importances.csv"] = out / "importances.csv"
    imp_img = _png(importance_figure(imps.loc[:, ["model", "feature", "importance"]]),
                   out / "importance.png")
    files["importance.png"] = out / "importance.png"
    return files, {"summary": images, "curves": curve_imgs, "importance": imp_img}


def _report_html(result, config, display, gal_html, figures, *, models, setups, threshold):
    """The self-contained HTML report (figures embedded)."""
    runs = result.runs

    def img(b64, alt):
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'

    err_counts = (result.errors.groupby(["model", "setup", "kind"], sort=False).size()
                  .unstack("kind", fill_value=0).reset_index() if len(result.errors) else pd.DataFrame())
    timing = (runs.groupby(["model", "setup"], sort=False)[["fit_s", "predict_s"]].mean().round(2)
              .reset_index() if len(runs) else pd.DataFrame())
    head = headline_table(result.table) if len(result.table) else pd.DataFrame()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>globsml benchmark</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>globsml benchmark</h1>",
        f"<p>Data: <code>{html.escape(str(config.get('data', '')))}</code> "
        f"({config.get('n_sources', '?')} sources). Models: {html.escape(', '.join(models))}. "
        f"Set-ups: {html.escape(', '.join(setup_title(s) for s in setups))}. "
        f"All2All seeds: {config.get('seeds', '?')}; leave-galaxies-out folds: "
        f"{config.get('n_folds', '?')}; quick profile: {config.get('quick', False)}. "
        f"A source is a predicted GC when p_gc &gt; {threshold:g}; a GC is pGC &ge; {GC_THRESHOLD:g}.</p>",
        "<h2>At a glance (mean ± std over runs)</h2>",
        _headline_html(head) if len(head) else "<p>no runs</p>",
        f"<p class='rule'>&#9733; the best model of each set-up: {html.escape(BEST_RULE)}. In italics, marked "
        f"(published): the figures printed in {html.escape(PUBLICATION)} for the same set-up and model, on the "
        "real data (ours are on the data above). The details follow.</p>",
        "<h2>All results (mean ± std over runs)</h2>", display.to_html(index=False, border=0),
        "<div class='figs'>", *(img(b, a) for a, b in figures["summary"]), "</div>",
        "<h2>ROC, TPR-versus-FDR and calibration curves (runs of a set-up pooled)</h2>",
        "<p>Calibration: the fraction of GCs among sources in bins of p_gc; on the diagonal, "
        "p_gc means what it says.</p><div class='figs'>",
        *(img(b, a) for a, b in figures["curves"]), "</div>",
        "<h2>Feature importances</h2>", img(figures["importance"], "feature importances"),
        "<h2>Per galaxy, best model of each set-up (mean over runs)</h2>",
    ]
    for title, frame in gal_html:
        parts += [f"<details><summary>{html.escape(title)}</summary>",
                  frame.to_html(index=False, border=0, float_format=lambda v: f"{v:.3f}",
                                na_rep="–"), "</details>"]
    parts += ["<h2>Errors</h2><p>Number of missed (FN), fake (FP) and found (TP) GCs summed over "
              "runs; the IDs are in <code>errors.csv</code> (read by "
              "<code>globsml explain --errors</code>).</p>",
              err_counts.to_html(index=False, border=0) if len(err_counts) else "<p>none</p>",
              "<h2>Run times (seconds, mean per run)</h2>",
              timing.to_html(index=False, border=0) if len(timing) else "<p>none</p>",
              "<h2>Configuration</h2><pre>", html.escape(json.dumps(config, indent=1)), "</pre>",
              "</body></html>"]
    return "\n".join(parts)
