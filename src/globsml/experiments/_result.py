"""What a benchmark leaves: its result type and its runs on disk."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["BenchmarkResult", "load_runs", "run_dir"]


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` produced (everything is also on disk under ``out``).

    Attributes
    ----------
    out : Path
    table : pandas.DataFrame
        One row per (model, set-up): mean and std over runs of every metric.
    runs : pandas.DataFrame
        One row per (model, set-up, seed): pooled metrics, sizes, timings.
    per_galaxy : pandas.DataFrame
        Metrics per galaxy of every run.
    errors : pandas.DataFrame
        model, setup, seed, galaxy, ID, kind (FN/FP/TP), p_gc.
    computed, skipped : int
        Runs computed now, and runs found finished on disk (resumed).
    files : dict of str to Path
        The written tables, figures and the HTML report.
    """

    out: Path
    table: pd.DataFrame
    runs: pd.DataFrame
    per_galaxy: pd.DataFrame
    errors: pd.DataFrame
    computed: int = 0
    skipped: int = 0
    files: dict = field(default_factory=dict)


def run_dir(out, setup, model, seed):
    """Where one run's files live: ``out/runs/<setup>/<model>/run<seed>/``."""
    return Path(out) / "runs" / setup / model / f"run{int(seed)}"


def load_runs(out, *, models=None, setups=None):
    """Read the finished runs under ``out/runs``: (records, {(model, setup, seed): predictions})."""
    records, preds = [], {}
    for meta in sorted(Path(out).glob("runs/*/*/run*/run.json")):
        rec = json.loads(meta.read_text())
        if models is not None and rec["model"] not in models:
            continue
        if setups is not None and rec["setup"] not in setups:
            continue
        records.append(rec)
        preds[(rec["model"], rec["setup"], rec["seed"])] = pd.read_csv(
            meta.parent / "predictions.csv", dtype={"galaxy": str, "cluster": str})
    return records, preds
