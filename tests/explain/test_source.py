import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import globsml
from globsml import GlobsmlError
from globsml.explain import explain_source, find_source, parse_source, training_side


@pytest.fixture(scope="module")
def data(synthetic_dir):
    return globsml.load_dataset(synthetic_dir)


def test_parse_and_find_source(data):
    assert parse_source("FCC47:10") == ("FCC47", 10)
    assert parse_source("NGC1427a:3") == ("NGC1427a", 3)
    for bad in ("FCC47", ":3", "FCC47:x"):
        with pytest.raises(GlobsmlError, match="source"):
            parse_source(bad)
    row = find_source(data, "VCC2", 5)
    assert data.sources["galaxy"].iloc[row] == "VCC2" and data.sources["ID"].iloc[row] == 5
    with pytest.raises(GlobsmlError, match="no galaxy 'FCC999'.*FCC1"):
        find_source(data, "FCC999", 1)
    with pytest.raises(GlobsmlError, match="no source ID 500 .*0 to 79"):
        find_source(data, "FCC1", 500)


def test_training_side_is_the_other_cluster(data):
    training, note = training_side(data, "FCC1")
    assert set(training.galaxies) == {"VCC1", "VCC2"}
    assert "Virgo" in note
    assert "FCC1" not in training.galaxies and "VCC1" in training.galaxies
    with pytest.raises(GlobsmlError, match="unknown set-up"):
        training_side(data, "FCC1", setup="nonsense")


def test_training_side_of_benchmark_setups(data):
    from globsml.experiments import setup_runs

    # As `globsml benchmark` trains: the training part of the set-up's run.
    training, note = training_side(data, "VCC1", setup="fornax2virgo")
    (_, split), = setup_runs("fornax2virgo", data)
    assert len(training) == len(split.train) and set(training.galaxies) == {"FCC1", "FCC2"}
    assert "Fornax2Virgo" in note
    with pytest.raises(GlobsmlError, match="training part of fornax2virgo"):
        training_side(data, "FCC1", setup="fornax2virgo", id=1)
    # lgo: the fold whose test part holds the source.
    training, note = training_side(data, "FCC2", setup="lgo", id=4, n_folds=2)
    assert "FCC2" not in training.galaxies
    # all2all: run `seed`; its test sources are never in its training part.
    runs = dict(setup_runs("all2all", data, seeds=2))
    row = int(runs[1].test[0])
    galaxy, ident = data.sources["galaxy"].iloc[row], int(data.sources["ID"].iloc[row])
    training, note = training_side(data, galaxy, setup="all2all", seed=1, id=ident)
    assert len(training) == len(runs[1].train) and "run 1" in note


def test_tabular_registry_model(data):
    expl = explain_source("explain-test-logistic", data, "FCC2", 7, num_samples=300, seed=0)
    assert expl.kind == "features" and expl.model_name == "explain-test-logistic"
    assert expl.lime.features[0] == "colour"  # decides the label by construction
    assert expl.cutout.shape == (2, 20, 20)
    assert expl.features.index.tolist()[:2] == ["area", "area_z"]
    assert expl.reference.shape[1] == 29 and set(np.unique(expl.reference_labels)) == {0, 1}
    assert "Virgo" in expl.trained_on
    assert expl.label in (0, 1) and 0 <= expl.p_gc <= 1
    assert expl.shown_features[0] == "colour"
    again = explain_source("explain-test-logistic", data, "FCC2", 7, num_samples=300, seed=0)
    assert again.p_gc == expl.p_gc
    np.testing.assert_array_equal(again.lime.weights, expl.lime.weights)


def test_fitted_model_with_stability(data):
    training, _ = training_side(data, "VCC1")
    forest = RandomForestClassifier(30, random_state=0).fit(training.features().fillna(0), training.y)

    class Filled:  # the forest cannot take NaN; a registry model would impute
        def predict_proba(self, X):
            return forest.predict_proba(X.fillna(0))

    expl = explain_source(Filled(), data, "VCC1", 3, training=training, num_samples=200, stability_calls=3)
    assert expl.lime.filled == ["m3_g"]  # VCC1:3 has NaN photometry
    assert 0 <= expl.stability.vsi <= 100 and len(expl.stability.explanations) == 3


def test_image_registry_model(data):
    expl = explain_source("explain-test-cnn", data, "FCC1", 0, seed=0)
    assert expl.kind == "images"
    assert expl.attributions.shape == (2, 20, 20)
    assert expl.attribution_method.startswith("integrated gradients")
    # The GC signal is the central z-band peak; the attribution lives near the centre.
    y, x = np.unravel_index(np.abs(expl.attributions).sum(axis=0).argmax(), (20, 20))
    assert abs(y - 10) <= 3 and abs(x - 10) <= 3
    assert expl.lime is None and expl.shown_features  # feature panels from the table


def test_errors(data):
    with pytest.raises(GlobsmlError, match="unknown model"):
        explain_source("no-such-model", data, "FCC1", 0)
    with pytest.raises(GlobsmlError, match="no galaxy"):
        explain_source("explain-test-logistic", data, "VCC9", 0)
    with pytest.raises(GlobsmlError, match="training data"):
        explain_source(RandomForestClassifier(), data, "FCC1", 0)


def test_images_only_data(synthetic_dir, tiny_cnn):
    # Cut-outs without a table and without labels (like the real ImageData):
    # the reference population is the galaxy's other sources, with features
    # measured on the cut-outs, split by the model's own verdict.
    images_only = globsml.load_dataset(synthetic_dir / "ImageData")
    labelled = globsml.load_dataset(synthetic_dir)
    training, _ = training_side(labelled, "FCC1")
    cnn = tiny_cnn().fit(training.images(), training.y)
    expl = explain_source(cnn, images_only, "FCC1", 5)
    assert expl.label is None and expl.pgc_catalogue is None
    assert expl.reference_p_gc.shape == (80,)
    np.testing.assert_allclose(expl.reference_p_gc[5], expl.p_gc, rtol=1e-5)
    assert expl.attributions.shape == (2, 20, 20)
    assert expl.reference is not None and len(expl.reference) == 80
    assert "split by this model's verdict" in expl.reference_note
    assert expl.features is not None and np.isfinite(expl.features["colour"])


def test_bundle_path(data, tmp_path):
    inference = pytest.importorskip("globsml.inference")
    path = tmp_path / "bundle"
    inference.train_bundle(data, "explain-test-logistic", setup="virgo2fornax", out=path)
    expl = explain_source(str(path), data, "FCC1", 6, num_samples=200)
    assert expl.kind == "features" and "bundle" in expl.trained_on
    assert expl.lime.features[0] == "colour"
    # The reference is the bundle's own training part, rebuilt from the labelled data.
    assert expl.reference_note.startswith("training data") and set(expl.reference_labels) == {0, 1}
    from globsml.experiments import get_setup, setup_runs

    (_, split), = setup_runs("virgo2fornax", data)
    assert len(expl.reference) == len(split.train)
    # ... with the bundle's own seed: its validation rows are not in it.
    inference.train_bundle(data, "explain-test-logistic", setup="virgo2fornax", seed=3, out=tmp_path / "seed3")
    expl3 = explain_source(str(tmp_path / "seed3"), data, "FCC1", 6, num_samples=200)
    split3 = get_setup("virgo2fornax").split(data, seed=3)
    assert not np.array_equal(split3.train, split.train)
    np.testing.assert_array_equal(expl3.reference.to_numpy(), data.features().iloc[split3.train].to_numpy())
    # Unlabelled data: LIME samples from the data's own features.
    unlabelled = globsml.GCDataset(data.sources.drop(columns="pGC"), image_files=data.image_files, name="u")
    expl = explain_source(str(path), unlabelled, "FCC1", 6, num_samples=200)
    assert expl.label is None and "split by this model's verdict" in expl.reference_note
    assert expl.lime.features[0] == "colour"


def test_reference_population_is_capped(synthetic_dir, tiny_cnn, monkeypatch):
    from globsml.explain import _source

    monkeypatch.setattr(_source, "MAX_REFERENCE", 30)
    images_only = globsml.load_dataset(synthetic_dir / "ImageData")
    labelled = globsml.load_dataset(synthetic_dir)
    training, _ = training_side(labelled, "VCC2")
    cnn = tiny_cnn(epochs=5).fit(training.images(), training.y)
    a = explain_source(cnn, images_only, "VCC2", 77, seed=1)
    b = explain_source(cnn, images_only, "VCC2", 77, seed=1)
    assert len(a.reference) == 30 and len(a.reference_p_gc) == 30
    assert np.isclose(a.reference_p_gc, a.p_gc, rtol=1e-5).any()  # the source itself is among them
    pd.testing.assert_frame_equal(a.reference, b.reference)  # same seed, same sample


@pytest.mark.shared
def test_published_cnn_on_a_real_cutout(shared_data, monkeypatch, tmp_path):
    from globsml.explain import plot_explanation, save_figure

    monkeypatch.setenv("GLOBSML_PUBLISHED_MODELS", str(shared_data / "published_models"))
    # The smallest real galaxy (250 cut-outs); quick = 20 MC-dropout passes.
    expl = explain_source("published-cnn-fornax2virgo", shared_data / "ImageData", "VCC1993", 3, quick=True)
    assert expl.kind == "images" and expl.label is None and "Fornax" in expl.trained_on
    assert expl.attributions.shape == (2, 20, 20) and np.isfinite(expl.attributions).all()
    assert 0 <= expl.p_gc <= 1 and expl.reference_p_gc.shape == (250,)
    assert expl.features is not None and len(expl.reference) == 250  # measured on the cut-outs
    _ = save_figure(plot_explanation(expl), tmp_path / "real.png")
    assert (tmp_path / "real.png").stat().st_size > 5_000


def test_a_source_at_the_threshold_is_no_candidate_in_the_figure_either():
    from globsml.explain import Explanation

    # The catalogue's rule is p_gc > 0.5; the explanation says the same at exactly 0.5.
    at = Explanation(galaxy="FCC1", id=1, model_name="m", kind="features", p_gc=0.5)
    above = Explanation(galaxy="FCC1", id=1, model_name="m", kind="features", p_gc=0.5000001)
    assert (at.is_candidate, at.verdict) == (False, "not a GC")
    assert (above.is_candidate, above.verdict) == (True, "GC")
    # A user mistake is a ValueError too (scikit-learn's convention), and a GlobsmlError.
    with pytest.raises(ValueError, match="no galaxy"):
        find_source(globsml.GCDataset(pd.DataFrame({"galaxy": ["FCC1"], "ID": [0]})), "VCC1", 0)
