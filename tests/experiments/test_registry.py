"""One registry of set-ups and one fit: a set-up added in one place reaches every command."""

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.cli import main
from globsml.experiments import (
    SETUPS,
    Setup,
    Split,
    fit_on_split,
    get_setup,
    register_setup,
    run_benchmark,
    setup_names,
)


def _by_galaxy_name(data, *, seed):
    """Train on galaxies whose name ends in 1 or 2, test on the rest (seed: the validation draw)."""
    galaxy = data.sources["galaxy"].to_numpy()
    train = np.flatnonzero(~np.char.endswith(galaxy.astype(str), "3"))
    validation = np.random.default_rng(seed).choice(train, 10, replace=False)
    return Split(np.setdiff1d(train, validation), validation, np.flatnonzero(np.char.endswith(galaxy.astype(str), "3")))


@pytest.fixture
def new_setup(monkeypatch):
    """A set-up registered for the length of a test."""
    setup = Setup("galaxy3", "Galaxy3", "test on the galaxies named ...3",
                  lambda s, data, *, seeds, n_folds: [(0, s.split(data, seed=0))], _by_galaxy_name)
    monkeypatch.setitem(SETUPS, setup.name, setup)
    return setup


def test_builtin_setups_and_their_kinds():
    assert setup_names() == ["all2all", "virgo2fornax", "fornax2virgo", "lgo"]
    assert setup_names(one_model=True) == ["all2all", "virgo2fornax", "fornax2virgo"]
    assert get_setup("Virgo2Fornax").title == "Virgo2Fornax"
    with pytest.raises(GlobsmlError, match="unknown set-up 'nope'.*all2all"):
        get_setup("nope")
    with pytest.raises(GlobsmlError, match="several models"):
        get_setup("lgo").split(None, seed=0)
    with pytest.raises(ValueError, match="registered already"):
        register_setup(get_setup("lgo"))


def test_a_registered_setup_reaches_benchmark_train_and_help(new_setup, tiny_data, tmp_path, capsys):
    result = run_benchmark(tiny_data, models=["logistic"], setups=["galaxy3"], out=tmp_path / "b",
                           quick=True, progress=False, jobs=1, report=False)
    assert result.runs["setup"].tolist() == ["galaxy3"]
    assert int(result.runs["n_sources"].iloc[0]) == 120  # tested on VCC3 and FCC3
    inference = pytest.importorskip("globsml.inference")
    bundle = inference.train_bundle(tiny_data, "logistic", setup="galaxy3", seed=4, quick=True)
    assert bundle.training["setup"] == "galaxy3" and bundle.training["seed"] == 4
    assert sum(part["n_sources"] for part in bundle.training["test"].values()) == 120
    for command in (["benchmark", "--help"], ["train", "--help"], ["explain", "--help"]):
        with pytest.raises(SystemExit):
            main(command)
        assert "galaxy3: test on the galaxies named ...3" in " ".join(capsys.readouterr().out.split())


def test_fit_on_split_is_the_benchmark_fit(tiny_data, tmp_path):
    split = get_setup("all2all").split(tiny_data, seed=1)
    model, train = fit_on_split("forest", tiny_data, split, seed=1, quick=True)
    # Tabular models train on the complete rows only (the data hold 5 NaN rows).
    incomplete = np.flatnonzero(tiny_data.features()["m3_g"].isna().to_numpy())
    assert not np.isin(train, incomplete).any()
    assert len(train) == len(split.train) - np.isin(split.train, incomplete).sum()
    result = run_benchmark(tiny_data, models=["forest"], setups=["all2all"], seeds=2, out=tmp_path / "b",
                           quick=True, progress=False, jobs=1, report=False)
    stored = result.runs.set_index("seed").loc[1]
    assert int(stored["n_train"]) == len(train)
    preds = __import__("pandas").read_csv(tmp_path / "b" / "runs" / "all2all" / "forest" / "run1" / "predictions.csv")
    np.testing.assert_allclose(preds["p_gc"], model.predict_proba(tiny_data.features().iloc[split.test])[:, 1],
                               rtol=1e-5)
    one_class = Split(np.flatnonzero(tiny_data.y == 0)[:20], np.array([], dtype=np.int64), split.test)
    with pytest.raises(GlobsmlError, match="run 7: the training set .* only one class"):
        fit_on_split("forest", tiny_data, one_class, context="run 7")
