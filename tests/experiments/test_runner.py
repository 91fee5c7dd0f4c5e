"""run_benchmark: outputs, resume after interruption, determinism, errors."""

import json

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.experiments import run_benchmark

FAST = dict(models=["logistic", "tree"], seeds=2, n_folds=3, quick=True, progress=False)


class Stop(Exception):
    pass


def test_outputs(tiny_data, tmp_path):
    r = run_benchmark(tiny_data, out=tmp_path, **FAST)
    # 2 models x (2 All2All + 1 + 1 + 3 folds)
    assert r.computed == 14 and r.skipped == 0
    assert list(r.table[["model", "setup"]].itertuples(index=False, name=None))[:3] == [
        ("logistic", "all2all"), ("tree", "all2all"), ("logistic", "virgo2fornax")]
    assert (r.table["n_runs"].to_numpy() == [2, 2, 1, 1, 1, 1, 3, 3]).all()
    for name in ("results.csv", "results.md", "runs.csv", "per_galaxy.csv", "per_galaxy.md",
                 "errors.csv", "roc_all2all.png", "fdr_tpr_lgo.png", "summary.png",
                 "importance.png", "calibration_all2all.png", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    errors = pd.read_csv(tmp_path / "errors.csv")
    assert list(errors.columns) == ["model", "setup", "seed", "galaxy", "ID", "kind", "p_gc"]
    assert set(errors["kind"]) <= {"FN", "FP", "TP"}
    # The error list agrees with the pooled counts of each run.
    runs = pd.read_csv(tmp_path / "runs.csv")
    row = runs[(runs.model == "tree") & (runs.setup == "virgo2fornax")].iloc[0]
    sub = errors[(errors.model == "tree") & (errors.setup == "virgo2fornax")]
    assert (sub.kind == "TP").sum() == row.n_found and (sub.kind == "FP").sum() == row.n_fake
    assert (sub.kind == "FN").sum() == row.n_gcs - row.n_found
    # Cluster2Cluster tests on the whole other cluster.
    assert row.n_sources == 180
    # A mean of the runs is what the table says.
    a2a = r.runs[(r.runs.model == "logistic") & (r.runs.setup == "all2all")]
    t = r.table.set_index(["model", "setup"]).loc[("logistic", "all2all")]
    assert t["tpr_mean"] == pytest.approx(a2a["tpr"].mean())
    assert t["tpr_std"] == pytest.approx(a2a["tpr"].std(ddof=1))
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 10 and "src=\"http" not in html
    # the headline first: a table per set-up, one best model starred in each, then the details
    assert html.index("At a glance") < html.index("All results") and html.count("class='best'") == 4
    assert "importance" in (tmp_path / "importances.csv").read_text()  # the tree has importances
    md = (tmp_path / "results.md").read_text()
    assert "| logistic | All2All | 2 |" in md and "AUC(FDR,TPR)" in md and "Brier" in md
    # The Brier score is the mean squared error of p_gc, from the stored predictions.
    pred = pd.read_csv(tmp_path / "runs" / "virgo2fornax" / "tree" / "run0" / "predictions.csv")
    assert row.brier == pytest.approx(((pred.p_gc - pred.y_true) ** 2).mean(), rel=1e-5)
    # Training rows with NaN photometry are dropped (5 rows have NaN m3_g).
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["models"] == ["logistic", "tree"] and cfg["quick"] is True


def test_resume_after_interruption(tiny_data, tmp_path):
    done = []

    def stop_after_first(record):
        done.append(record)
        raise Stop

    with pytest.raises(Stop):
        run_benchmark(tiny_data, out=tmp_path, on_run_done=stop_after_first, **FAST)
    assert len(done) == 1
    first = done[0]
    again = []
    r = run_benchmark(tiny_data, out=tmp_path, on_run_done=again.append, **FAST)
    assert r.skipped == 1 and r.computed == 13
    assert (first["model"], first["setup"], first["seed"]) not in {
        (x["model"], x["setup"], x["seed"]) for x in again}
    # Nothing half-written is left behind.
    assert not list(tmp_path.rglob("*.tmp*"))
    # A third call computes nothing; another profile (quick=False) recomputes.
    r3 = run_benchmark(tiny_data, out=tmp_path, report=False, **FAST)
    assert (r3.computed, r3.skipped) == (0, 14)
    r4 = run_benchmark(tiny_data, out=tmp_path, report=False,
                       **{**FAST, "quick": False, "setups": ["fornax2virgo"]})
    assert (r4.computed, r4.skipped) == (2, 0)


def test_same_seed_same_table(tiny_data, tmp_path):
    kw = {**FAST, "models": ["forest"], "setups": ["all2all", "virgo2fornax"]}
    a = run_benchmark(tiny_data, out=tmp_path / "a", **kw).table
    b = run_benchmark(tiny_data, out=tmp_path / "b", **kw).table
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "a" / "results.md").read_text() == (tmp_path / "b" / "results.md").read_text()
    c = run_benchmark(tiny_data, out=tmp_path / "c", report=False, **{**kw, "seeds": 3}).table
    assert not np.allclose(a["tpr_mean"], c["tpr_mean"])


def test_worker_processes_give_the_same_table(tiny_data, tmp_path):
    kw = {**FAST, "models": ["forest", "calibrated-forest", "svm-linear"],
          "setups": ["all2all", "virgo2fornax"], "report": False}
    serial = run_benchmark(tiny_data, out=tmp_path / "serial", jobs=1, **kw)
    done = []
    parallel = run_benchmark(tiny_data, out=tmp_path / "parallel", jobs=2, on_run_done=done.append, **kw)
    assert parallel.computed == len(done) == 9
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    for rel in ("all2all/calibrated-forest/run1", "virgo2fornax/svm-linear/run0"):
        a = pd.read_csv(tmp_path / "serial" / "runs" / rel / "predictions.csv")
        b = pd.read_csv(tmp_path / "parallel" / "runs" / rel / "predictions.csv")
        pd.testing.assert_frame_equal(a, b)
    with pytest.raises(GlobsmlError, match="jobs must be a positive"):
        run_benchmark(tiny_data, out=tmp_path / "x", jobs=0, **kw)


def test_calibrated_forest_with_and_without_the_forest_of_its_split(tiny_data, tmp_path):
    """Reusing the forest grown for ``forest`` gives what a fresh fit gives."""
    kw = {**FAST, "setups": ["virgo2fornax"], "report": False}
    run_benchmark(tiny_data, out=tmp_path / "both", **{**kw, "models": ["forest", "tree", "calibrated-forest"]})
    run_benchmark(tiny_data, out=tmp_path / "alone", **{**kw, "models": ["calibrated-forest"]})
    rel = "runs/virgo2fornax/calibrated-forest/run0/predictions.csv"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "both" / rel),
                                  pd.read_csv(tmp_path / "alone" / rel))


@pytest.mark.parametrize("models", [["forest", "adaboost"], ["knn", "1nn"]])
def test_models_sharing_work_give_what_they_give_alone(tiny_data, tmp_path, models):
    """adaboost with the forest of its split (its first round's trees), 1nn with knn (one neighbour search)."""
    kw = {**FAST, "setups": ["virgo2fornax"], "report": False}
    run_benchmark(tiny_data, out=tmp_path / "both", **{**kw, "models": models})
    run_benchmark(tiny_data, out=tmp_path / "alone", **{**kw, "models": models[1:]})
    rel = f"runs/virgo2fornax/{models[1]}/run0/predictions.csv"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "both" / rel),
                                  pd.read_csv(tmp_path / "alone" / rel))


def test_one_joblib_worker_per_fit_gives_the_same_predictions(tiny_data, tmp_path):
    """--threads 1 also sets the models' n_jobs to 1 (forest trees, neighbour searches): same numbers."""
    from globsml.experiments._fit import _set_n_jobs
    from globsml.models import make_model

    boost = _set_n_jobs(make_model("adaboost", quick=True), 1)
    params = boost.get_params(deep=True)
    assert [params[k] for k in params if k.endswith("n_jobs")] == [1]  # the forest inside the boosting
    # n_jobs left at None stays None: scikit-learn >= 1.8 warns when LogisticRegression is given one
    logistic = _set_n_jobs(make_model("logistic"), 1)
    assert all(v is None for k, v in logistic.get_params(deep=True).items() if k.endswith("n_jobs"))
    models = ["forest", "adaboost", "knn", "calibrated-forest"]
    kw = {**FAST, "setups": ["virgo2fornax"], "report": False, "models": models}
    run_benchmark(tiny_data, out=tmp_path / "one", **{**kw, "threads": 1})
    run_benchmark(tiny_data, out=tmp_path / "all", **{**kw, "threads": None})
    for name in models:
        rel = f"runs/virgo2fornax/{name}/run0/predictions.csv"
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "one" / rel), pd.read_csv(tmp_path / "all" / rel))


def test_quick_without_data_runs_on_the_quick_mock(small_mock, tmp_path, monkeypatch):
    """--quick on the default data asks for the half-size mock; without --quick, the full-size one."""
    import globsml.mock

    asked = []
    monkeypatch.setattr(globsml.mock, "default_data_dir", lambda **kw: asked.append(kw["quick"]) or small_mock)
    kw = dict(models=["logistic"], setups=["virgo2fornax"], progress=False, report=False)
    run_benchmark(None, out=tmp_path / "quick", quick=True, **kw)
    run_benchmark(None, out=tmp_path / "full", **kw)
    assert asked == [True, False]
    config = json.loads((tmp_path / "quick" / "config.json").read_text())
    assert config["data"] == str(small_mock) and config["quick"] is True


@pytest.mark.parametrize("models, quick, notice", [(["cnn"], True, True), (["logistic"], True, False),
                                                   (["cnn"], False, False)])
def test_image_models_on_the_quick_mock_are_told_to_compare_on_the_full_one(
        small_mock, tmp_path, monkeypatch, capsys, models, quick, notice):
    import globsml.mock
    from globsml.experiments import _runner

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(globsml.mock, "default_data_dir", lambda **kw: small_mock)
    monkeypatch.setattr(_runner, "_compute", stop)  # the notice comes before any run
    with pytest.raises(Stop):
        run_benchmark(None, out=tmp_path, models=models, setups=["virgo2fornax"], quick=quick, progress=False)
    assert ("compare image models without --quick" in capsys.readouterr().err) is notice


def test_clear_errors(tiny_data, tmp_path):
    with pytest.raises(GlobsmlError, match="unknown model 'nope'"):
        run_benchmark(tiny_data, out=tmp_path, models=["nope"], progress=False)
    with pytest.raises(GlobsmlError, match="needs cut-outs"):
        run_benchmark(tiny_data, out=tmp_path, models=["cnn"], progress=False)
    virgo = tiny_data.in_cluster("Virgo")
    with pytest.raises(GlobsmlError, match="no Fornax sources"):
        run_benchmark(virgo, out=tmp_path, models=["logistic"], setups=["cluster2cluster"],
                      progress=False)
    unlabelled = type(tiny_data)(tiny_data.sources.drop(columns="pGC"), name="u")
    with pytest.raises(GlobsmlError, match="needs labels"):
        run_benchmark(unlabelled, out=tmp_path, progress=False)


def test_tasks_keep_shared_fits_together_costliest_first(tiny_data, tmp_path):
    """One task per model of a split, those sharing work in one (the shared-with first); costliest first."""
    from globsml.experiments._runner import _plan, _runs_to_do
    from globsml.models import model_spec

    # adaboost and 1nn listed before the models whose work they reuse
    names = ["logistic", "adaboost", "1nn", "forest", "calibrated-forest", "knn"]
    plan = _plan(tiny_data, ["all2all", "fornax2virgo"], names, seeds=2, n_folds=5)
    tasks, keys, skipped = _runs_to_do(plan, tmp_path, "digest", quick=True, n_folds=5, params={})
    assert skipped == 0 and len(keys) == len(plan)
    assert sum(len(runs) for runs in tasks.values()) == len(plan)
    together = {"forest": ["forest", "adaboost", "calibrated-forest"], "knn": ["knn", "1nn"]}
    for (setup, seed, family), runs in tasks.items():
        models = [r[3] for r in runs]
        assert all(r[0] == setup and r[1] == seed for r in runs)
        assert models == together.get(family, [family])
    costs = [sum(model_spec(r[3]).cost for r in runs) * len(runs[0][2].train) for runs in tasks.values()]
    assert costs == sorted(costs, reverse=True)
    # without the forest, calibrated-forest is a task of its own
    plan = _plan(tiny_data, ["all2all"], ["calibrated-forest"], seeds=1, n_folds=5)
    tasks, _, _ = _runs_to_do(plan, tmp_path, "digest", quick=True, n_folds=5, params={})
    assert [k[2] for k in tasks] == ["calibrated-forest"]
