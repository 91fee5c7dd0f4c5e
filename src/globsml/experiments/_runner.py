"""Run the grid of models x set-ups x seeds, resumably, and report it."""

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .._cpus import usable_cpus
from .._errors import GlobsmlError
from .._io import atomic_path
from ..data import FEATURES, GC_THRESHOLD
from ..models import final_estimator, make_model, model_names, model_spec, reusing_fits
from ..models._params import check_model_params
from ._data import resolve_dataset
from ._report import collect, write_report
from ._fit import fit_on_split, model_inputs
from ._result import load_runs, run_dir
from ._setups import LGO_FOLDS, SETUPS, resolve_setups, setup_runs, setup_title

__all__ = ["run_benchmark", "DEFAULT_MODELS", "DEFAULT_SETUPS"]

#: The models of the benchmark by default: the publication's tabular models
#: and the two beyond it (the neural ones are opt-in: ``models=[..., "cnn"]``).
DEFAULT_MODELS = ("logistic", "svm-linear", "svm-rbf", "knn", "1nn", "tree", "forest", "adaboost",
                  "catboost", "hgb", "calibrated-forest")
#: Every set-up: All2All, both Cluster2Cluster directions, leave-galaxies-out.
DEFAULT_SETUPS = tuple(SETUPS)

#: Bump when the meaning of a stored run changes, so old runs are recomputed.
_RUN_FORMAT = 1


def _data_digest(data, needs_features, needs_images):
    """A fingerprint of the labels and inputs, so a resumed run on other data is recomputed."""
    h = hashlib.sha256()
    src = data.sources
    h.update(str(len(src)).encode())
    h.update("\0".join(src["galaxy"].astype(str)).encode())
    h.update(np.ascontiguousarray(src["ID"].to_numpy(dtype=np.int64)).tobytes())
    h.update(np.ascontiguousarray(data.y).tobytes())
    if needs_features:
        h.update(np.ascontiguousarray(data.features().to_numpy(dtype=np.float64)).tobytes())
    if needs_images:
        for g in sorted(data.image_files):
            p = Path(data.image_files[g])
            h.update(f"{g}:{p.stat().st_size}".encode())
    return h.hexdigest()


def _run_key(digest, model, setup, seed, quick, n_folds, params=None):
    fields = [_RUN_FORMAT, digest, model, setup, int(seed), bool(quick), int(n_folds)]
    if params:  # only then, so that runs stored without overrides keep their keys
        fields.append(params)
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _finished(path, key):
    meta = path / "run.json"
    if not meta.is_file() or not (path / "predictions.csv").is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("key") == key
    except (OSError, ValueError):
        return False


def _importances(model):
    est = final_estimator(model)
    imp = getattr(est, "feature_importances_", None)
    if imp is None:
        return None
    imp = np.asarray(imp, dtype=float)
    if imp.shape != (len(FEATURES),) or not np.isfinite(imp).all():
        return None
    total = imp.sum()
    return imp / total if total > 0 else imp


def _run_one(data, features, y, name, setup, seed, split, *, quick, path, key, threads, params=None):
    """Fit, predict and store one (model, set-up, seed); return its run record."""
    spec = model_spec(name)
    # OpenMP/BLAS threads busy-wait at every barrier: on a shared or small
    # machine two threads of a gradient-boosting fit run many times slower
    # than one. Limit them, and the models' own joblib workers (a forest's
    # trees): with a worker process per core, two tree threads per process
    # cost 10 % more CPU for the same trees.
    with threadpool_limits(limits=threads):
        t0, c0 = time.perf_counter(), time.process_time()
        model, train = fit_on_split(name, data, split, seed=seed, quick=quick, params=params,
                                    features=features, context=f"{setup_title(setup)} run {seed}", n_jobs=threads)
        t1, c1 = time.perf_counter(), time.process_time()
        p_gc = np.asarray(model.predict_proba(model_inputs(data, spec.input, split.test, features)))[:, 1]
        t2, c2 = time.perf_counter(), time.process_time()
    src = data.sources.iloc[split.test]
    pred = pd.DataFrame({
        "galaxy": src["galaxy"].to_numpy(), "ID": src["ID"].to_numpy(),
        "cluster": src["cluster"].to_numpy(), "y_true": y[split.test], "p_gc": p_gc,
    })
    path.mkdir(parents=True, exist_ok=True)
    with atomic_path(path / "predictions.csv") as tmp:
        pred.to_csv(tmp, index=False, float_format="%.6g")
    imp = _importances(model) if spec.input == "features" else None
    if imp is not None:
        with atomic_path(path / "importances.csv") as tmp:
            pd.DataFrame({"feature": FEATURES, "importance": imp}).to_csv(tmp, index=False)
    record = {
        "key": key, "model": name, "setup": setup, "seed": int(seed), "quick": bool(quick),
        "params": params or {},
        "n_train": int(len(train)), "n_validation": int(len(split.validation)),
        "n_test": int(len(split.test)), "fit_s": round(t1 - t0, 3), "predict_s": round(t2 - t1, 3),
        # CPU seconds of this process (all its threads): on a shared machine
        # the wall clock also counts other people's work.
        "fit_cpu_s": round(c1 - c0, 3), "predict_cpu_s": round(c2 - c1, 3),
    }
    # run.json last: its presence (with the right key) marks the run as finished.
    with atomic_path(path / "run.json") as tmp:
        tmp.write_text(json.dumps(record, indent=1))
    return record


def _run_group(data, features, y, runs, *, quick, threads, params, on_done=None):
    """Runs of one split, in order; identical fits among them are done once."""
    records = []
    with reusing_fits():
        for setup, seed, split, name, path, key in runs:
            record = _run_one(data, features, y, name, setup, seed, split, quick=quick, path=path,
                              key=key, threads=threads, params=params.get(name))
            records.append(record)
            if on_done is not None:
                on_done(record)
    return records


def _n_jobs(jobs, n_tasks):
    """Worker processes to use: ``jobs`` (None: one per usable CPU core), at most one per task."""
    if jobs is None:
        jobs = usable_cpus()
    if int(jobs) < 1:
        raise GlobsmlError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    return max(1, min(int(jobs), n_tasks))


def _check_params(params, names):
    """Per-model parameter overrides: a dict of dicts for models in the benchmark."""
    params = dict(params or {})
    for name, overrides in params.items():
        if name not in names:
            raise GlobsmlError(
                f"parameters given for model {name!r}, which is not in the benchmark "
                f"({', '.join(names)})"
            )
        if not isinstance(overrides, dict):
            raise GlobsmlError(f"parameters of model {name!r} must be a mapping, got {overrides!r}")
        check_model_params(name, overrides)  # scikit-learn's validation, before the first fit
    return params


def _check_models(models, data):
    names = list(DEFAULT_MODELS) if models is None else list(models)
    if names == ["all"]:
        # Every trainable model; the published networks are trained already.
        names = model_names(pretrained=False)
    out = []
    for n in names:
        spec = model_spec(n)  # clear error for unknown names
        if spec.input == "images" and not data.has_images:
            raise GlobsmlError(
                f"model {n!r} needs cut-outs, but {data.name or 'the data'} has no ImageData/ "
                "for every galaxy; leave it out of --models"
            )
        if spec.input == "features" and not data.has_table:
            raise GlobsmlError(
                f"model {n!r} needs the feature table, but {data.name or 'the data'} has none; "
                "compute it with `globsml features` or choose image models"
            )
        if n not in out:
            out.append(n)
    return out


def run_benchmark(data=None, *, models=None, setups=None, seeds=10, out, quick=False, progress=True,
                  n_folds=LGO_FOLDS, threshold=GC_THRESHOLD, threads=1, jobs=1, params=None, report=True,
                  on_run_done=None):
    """Train and evaluate every model in every set-up; write tables, figures and a report.

    Each finished (model, set-up, seed) is stored under
    ``out/runs/<setup>/<model>/run<seed>/`` (``predictions.csv`` of the test
    sources, ``run.json``, ``importances.csv`` where the model has them),
    written atomically; a later call with the same ``out`` skips the runs
    that are there (same data, same ``quick``), so an interrupted benchmark
    resumes where it stopped.

    Parameters
    ----------
    data : GCDataset, str, Path or None
        Labelled data; ``None`` is the embedded default (the mock survey;
        with ``quick`` at half size, :data:`globsml.mock.QUICK_SCALE`).
    models : sequence of str, optional
        Registry names (:data:`DEFAULT_MODELS` by default; ``["all"]`` is every
        trainable registered model). Tabular models get the 29 raw features
        (training rows with NaN photometry dropped), image models the
        cut-outs. Models whose ``fit`` takes ``eval_set`` get the validation
        split.
    setups : sequence of str, optional
        Set-up names or aliases (``all2all``, ``virgo2fornax``,
        ``fornax2virgo``, ``cluster2cluster``, ``lgo``, ``all``); all by default.
    seeds : int
        Number of All2All seeds (0..seeds-1); see :func:`setup_runs`.
    out : str or Path
        Output directory.
    quick : bool
        Use the models' ``--quick`` profiles (fewer trees/iterations) and,
        for ``data=None``, the half-size mock survey.
    progress : bool
        Show a tqdm progress bar.
    n_folds : int
        Leave-galaxies-out folds.
    threshold : float
        ``p_gc > threshold`` is a predicted GC.
    threads : int or None
        Limit of OpenMP/BLAS threads during each fit and prediction
        (threadpoolctl), and the models' own joblib workers (``n_jobs``: a
        forest's trees); None leaves the libraries' and models' defaults.
        One by default: OpenMP threads busy-wait, and on a shared 2-core
        machine a histogram-gradient-boosting fit with two threads ran 30
        times slower than with one; two tree threads in each of two worker
        processes cost 10 % more CPU than one. Results do not depend on it.
    jobs : int or None
        Worker processes (None: one per CPU core). Each worker takes one
        task at a time: one model of one split, or the models sharing a fit
        (:attr:`~globsml.models.ModelSpec.shares_fit_with`), the costliest
        tasks first (:attr:`~globsml.models.ModelSpec.cost` times the
        training rows), so that every core stays busy to the end; results
        do not depend on it. With ``jobs > 1`` the progress bar and
        ``on_run_done`` advance a task at a time.
    params : dict of str to dict, optional
        Overrides of models' parameters, by model name (for instance
        ``{"cnn": {"epochs": 10}}``), on top of the published defaults or
        the quick profile. They are part of each run's key: a run stored
        with other overrides is recomputed.
    report : bool
        Write the tables, figures and HTML report (:func:`write_report`).
    on_run_done : callable, optional
        Called with each newly computed run's record (a dict) once it is
        stored (a hook for progress reporting and tests).

    Returns
    -------
    BenchmarkResult
    """
    on_quick_mock = data is None and quick
    data = resolve_dataset(data, quick=quick)
    if not data.labelled:
        raise GlobsmlError(f"{data.name or 'data'}: the benchmark needs labels (a pGC column)")
    setups = resolve_setups(DEFAULT_SETUPS if setups is None else setups)
    names = _check_models(models, data)
    inputs = {model_spec(n).input for n in names}  # "features", "images"
    if on_quick_mock and "images" in inputs:
        # benchmarks/results/mock_realism_quick_half.md: the pixels of the half-size mock are
        # easier to tell from real cut-outs than the full-size mock's; its features are not
        print("globsml: the quick look's mock survey has cut-outs less like real ones than the full-size "
              "mock's (its features are as real): compare image models without --quick", file=sys.stderr)
    params = _check_params(params, names)
    features = data.features() if "features" in inputs else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = _plan(data, setups, names, seeds=seeds, n_folds=n_folds)
    config = {"data": data.name, "n_sources": len(data), "models": names, "setups": setups,
              "seeds": int(seeds), "n_folds": int(n_folds), "quick": bool(quick),
              "threshold": float(threshold), "params": params}
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=1))
    digest = _data_digest(data, features is not None, "images" in inputs)
    groups, keys, skipped = _runs_to_do(plan, out, digest, quick=quick, n_folds=n_folds, params=params)
    computed = _compute(data, features, groups, total=len(plan), skipped=skipped, quick=quick, threads=threads,
                        params=params, jobs=jobs, progress=progress, on_run_done=on_run_done)
    records, preds = load_runs(out, models=names, setups=setups)
    records = [r for r in records if r["key"] in keys]
    result = collect(records, preds, threshold=threshold, out=out, models=names, setups=setups)
    result.computed, result.skipped = computed, skipped
    if report:
        result.files = write_report(result, config=config)
    return result


def _plan(data, setups, names, *, seeds, n_folds):
    """Every (set-up, seed, split, model) of the benchmark, in report order."""
    plan = []
    for setup in setups:
        for seed, split in setup_runs(setup, data, seeds=seeds, n_folds=n_folds):
            for name in names:
                plan.append((setup, seed, split, name))
    return plan


def _fit_family(name, names):
    """The model whose work ``name`` reuses (in a chain, the first), when it is in the benchmark too; else ``name``."""
    seen = set()
    while name not in seen:
        seen.add(name)
        other = model_spec(name).shares_fit_with
        if not other or other not in names:
            return name
        name = other
    return name


def _runs_to_do(plan, out, digest, *, quick, n_folds, params):
    """The runs not finished on disk as worker tasks; the keys of every run; how many are done.

    A task is one model of one split, or the models of one split that share
    work (cnn and cnn+kNN; forest, adaboost and calibrated-forest; knn and
    1nn: :attr:`~globsml.models.ModelSpec.shares_fit_with`), the model whose
    work the others reuse first, so that they find it in their worker's
    memory. Tasks come costliest
    first (the models' :attr:`~globsml.models.ModelSpec.cost` times the
    split's training rows; ties in plan order): with the long ones started
    early, the short ones fill both cores to the end.
    """
    names = {name for _, _, _, name in plan}
    tasks, keys, skipped = {}, set(), 0
    for setup, seed, split, name in plan:
        path = run_dir(out, setup, name, seed)
        key = _run_key(digest, name, setup, seed, quick, n_folds, params.get(name))
        keys.add(key)
        if _finished(path, key):
            skipped += 1
            continue
        family = _fit_family(name, names)
        runs = tasks.setdefault((setup, seed, family), [])
        run = (setup, seed, split, name, path, key)
        if name == family:  # the model whose work the others reuse runs first
            runs.insert(0, run)
        else:
            runs.append(run)

    def cost(runs):
        return sum(model_spec(r[3]).cost for r in runs) * len(runs[0][2].train)

    order = sorted(tasks, key=lambda k: -cost(tasks[k]))  # stable: ties keep plan order
    return {k: tasks[k] for k in order}, keys, skipped


def _compute(data, features, groups, *, total, skipped, quick, threads, params, jobs, progress, on_run_done):
    """Compute and store the runs of ``groups``, in this process or in worker processes; return how many."""
    y = data.y
    computed = 0
    bar = tqdm(total=total, initial=skipped, desc="benchmark", unit="run", disable=not progress)
    jobs = _n_jobs(jobs, len(groups))

    def done(record):
        nonlocal computed
        computed += 1
        bar.update()
        if on_run_done is not None:
            on_run_done(record)

    if jobs == 1:
        for (setup, seed, _), runs in groups.items():
            bar.set_postfix_str(f"{setup_title(setup)} {seed}")
            _run_group(data, features, y, runs, quick=quick, threads=threads, params=params, on_done=done)
    else:
        bar.set_postfix_str(f"{jobs} workers")
        tasks = (delayed(_run_group)(data, features, y, runs, quick=quick, threads=threads, params=params)
                 for runs in groups.values())
        for records in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
            for record in records:
                done(record)
    bar.close()
    return computed
