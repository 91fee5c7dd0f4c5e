"""predict_catalogue on a labelled data set, a table alone and cut-outs alone."""

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.data import FEATURES, IMAGE_DIRNAME
from globsml.features import cutout_features
from globsml.inference import catalogue_metrics, load_bundle, predict_catalogue, read_catalogue


def test_labelled_data_gives_catalogue_and_metrics(tmp_path, tiny_bundle, tiny_data, tiny_table):
    cat = predict_catalogue(tiny_bundle, data=tiny_data, out=tmp_path / "c.parquet")
    bundle = load_bundle(tiny_bundle)
    np.testing.assert_array_equal(cat["p_gc"].to_numpy(), bundle.predict_proba(tiny_table))
    assert cat["is_gc"].tolist() == (cat["p_gc"] > 0.5).tolist()
    metrics = catalogue_metrics(cat)
    assert metrics.pooled["n_sources"] == len(tiny_table)
    assert metrics.pooled["n_gcs"] == int((tiny_table["pGC"] >= 0.5).sum())
    assert set(metrics.per_galaxy["galaxy"]) == {"FCC1", "FCC2", "VCC1", "VCC2"}
    back = read_catalogue(tmp_path / "c.parquet")
    np.testing.assert_array_equal(back["p_gc"].to_numpy(), cat["p_gc"].to_numpy())


def test_table_alone_and_threshold(tmp_path, tiny_bundle, tiny_table):
    unlabelled = tiny_table.drop(columns=["pGC"])
    unlabelled.to_csv(tmp_path / "t.csv", index=False)
    cat = predict_catalogue(tiny_bundle, table=tmp_path / "t.csv", threshold=0.3)
    assert catalogue_metrics(cat) is None and "pGC" not in cat.columns
    assert cat["is_gc"].tolist() == (cat["p_gc"] > 0.3).tolist()
    assert cat["is_gc"].sum() > (cat["p_gc"] > 0.5).sum()
    same = predict_catalogue(tiny_bundle, table=unlabelled, threshold=0.3)
    np.testing.assert_array_equal(same["p_gc"].to_numpy(), cat["p_gc"].to_numpy())


def test_cutouts_alone_compute_the_features(tiny_bundle, tiny_data):
    from globsml.data import read_cutouts

    cat = predict_catalogue(tiny_bundle, images=tiny_data / IMAGE_DIRNAME)
    assert len(cat) == 480 and cat["galaxy"].nunique() == 4
    feats = cutout_features(np.asarray(read_cutouts(tiny_data / IMAGE_DIRNAME / "VCC1_images.fits"), dtype=np.float32),
                            galaxy="VCC1")
    expected = load_bundle(tiny_bundle).predict_proba(feats)
    np.testing.assert_allclose(cat.loc[cat["galaxy"] == "VCC1", "p_gc"].to_numpy(), expected)


def test_missing_features_are_a_clear_error(tiny_bundle, tiny_table):
    with pytest.raises(GlobsmlError, match="needs feature column.*colour"):
        predict_catalogue(tiny_bundle, table=tiny_table.drop(columns=["colour"]))


def test_exactly_one_input(tiny_bundle, tiny_data):
    with pytest.raises(GlobsmlError, match="exactly one input"):
        predict_catalogue(tiny_bundle)
    with pytest.raises(GlobsmlError, match="exactly one input.*data, table"):
        predict_catalogue(tiny_bundle, data=tiny_data, table=tiny_data)


def test_bad_threshold(tiny_bundle, tiny_data):
    with pytest.raises(GlobsmlError, match=r"threshold must lie in \[0, 1\], got 1.5"):
        predict_catalogue(tiny_bundle, data=tiny_data, threshold=1.5)


def test_image_bundle_on_a_table_alone_is_refused(tmp_path, tiny_table):
    from sklearn.dummy import DummyClassifier

    from globsml.inference import Bundle

    b = Bundle(DummyClassifier().fit(np.zeros((4, 1)), [0, 1, 0, 1]), input="images", name="dummy")
    with pytest.raises(GlobsmlError, match="needs cut-outs"):
        predict_catalogue(b, table=tiny_table)


@pytest.mark.shared
def test_real_ngc1427a_table(shared_data, tiny_bundle):
    cat = predict_catalogue(tiny_bundle, table=shared_data / "NGC1427a" / "NGC1427a_sources.csv")
    assert len(cat) == 1824 and set(cat["galaxy"]) == {"NGC1427a"}
    assert {"xcentroid", "sky_centroid.ra", "sky_centroid.dec"} <= set(cat.columns)
    assert np.isfinite(cat["p_gc"]).all()
    assert list(load_bundle(tiny_bundle).features) == list(FEATURES)


@pytest.mark.shared
def test_real_cutouts_with_the_published_cnn(tmp_path, shared_data, monkeypatch, capsys):
    """globsml predict on real cut-outs with a published network, by name and as a saved bundle."""
    from globsml.cli import main
    from globsml.inference import published_bundle

    if not (shared_data / "published_models" / "Virgo2Fornax--CNN").is_file():
        pytest.skip("the published networks are not in ../shared/gcdata")
    monkeypatch.setenv("GLOBSML_PUBLISHED_MODELS", str(shared_data / "published_models"))
    images = tmp_path / "images"
    images.mkdir()
    (images / "VCC1993_images.fits").symlink_to(shared_data / "ImageData" / "VCC1993_images.fits")
    assert main(["predict", "--model", "published-cnn-virgo2fornax", "--images", str(images),
                 "--out", str(tmp_path / "c.csv"), "--mc-passes", "3"]) == 0
    assert "candidates among" in capsys.readouterr().out
    cat = read_catalogue(tmp_path / "c.csv")
    assert set(cat["galaxy"]) == {"VCC1993"} and len(cat) > 0
    assert cat["is_gc"].any() and not cat["is_gc"].all()
    # Saved as a bundle (weights as a torch state), it predicts the same.
    bundle = published_bundle("published-cnn-virgo2fornax", mc_passes=3)
    bundle.save(tmp_path / "pub.bundle")
    again = predict_catalogue(tmp_path / "pub.bundle", images=images)
    np.testing.assert_allclose(again["p_gc"].to_numpy(), cat["p_gc"].to_numpy(), atol=1e-6)


def test_cutouts_alone_carry_no_cutout_positions(tiny_bundle, tiny_data):
    cat = predict_catalogue(tiny_bundle, images=tiny_data / IMAGE_DIRNAME)
    # Photometry measured on the cut-outs is the source's; positions on them are not.
    assert list(cat.columns) == ["galaxy", "ID", "p_gc", "p_gc_std", "is_gc", "m4_g", "m4_z", "colour"]
