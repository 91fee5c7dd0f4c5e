import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError, load_dataset
from globsml.data import FEATURES, PUBLISHED_COLUMNS, cluster_of, write_cutouts


def _tiny(tmp_path, n=(3, 2)):
    rows = []
    for g, k in zip(("FCC1", "VCC2"), n):
        for i in range(k):
            row = {c: 1.0 for c in PUBLISHED_COLUMNS}
            row.update(ID=i, galaxy=g, pGC=0.9 if i == 0 else 0.1, cluster=cluster_of(g))
            rows.append(row)
    table = pd.DataFrame(rows, columns=PUBLISHED_COLUMNS)
    table.to_csv(tmp_path / "ACS_sources_original.csv")
    (tmp_path / "ImageData").mkdir()
    for g, k in zip(("FCC1", "VCC2"), n):
        cut = np.zeros((k, 2, 20, 20), np.float64)
        cut[:, 0, 10, 10] = np.arange(k) + (100 if g == "VCC2" else 0)
        write_cutouts(tmp_path / "ImageData" / f"{g}_images.fits", cut)
    return tmp_path


def test_table_and_images_join_by_galaxy_and_id(tmp_path):
    ds = load_dataset(_tiny(tmp_path))
    assert len(ds) == 5 and ds.labelled and ds.has_table and ds.has_images
    assert list(ds.y) == [1, 0, 0, 1, 0]
    assert list(ds.cluster) == ["Fornax"] * 3 + ["Virgo"] * 2
    assert "Unnamed: 0" not in ds.sources.columns
    # rows in another order still get their own frames
    sub = ds.select([4, 0, 2])
    assert list(sub.images()[:, 0, 10, 10]) == [101, 0, 2]
    assert sub.images().dtype == np.float32
    assert ds.features().columns.tolist() == list(FEATURES)


def test_images_only_and_table_only(tmp_path):
    root = _tiny(tmp_path)
    imgs = load_dataset(root / "ImageData")
    assert len(imgs) == 5 and not imgs.labelled and not imgs.has_table and imgs.has_images
    table = load_dataset(root / "ACS_sources_original.csv")
    assert table.labelled and not table.has_images
    with pytest.raises(GlobsmlError, match="unlabelled"):
        imgs.y


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(GlobsmlError, match="no such file"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(GlobsmlError, match="neither"):
        load_dataset(tmp_path)


def test_real_cutouts_load_lazily(shared_data):
    ds = load_dataset(shared_data / "ImageData")
    assert len(ds) == 48677 and len(ds.galaxies) == 105
    frames = ds.images([0, len(ds) - 1])
    assert frames.shape == (2, 2, 20, 20)


def test_real_ngc1427a_table_is_unlabelled(shared_data):
    ds = load_dataset(shared_data / "NGC1427a")
    assert len(ds) == 1824 and not ds.labelled
    assert set(ds.cluster) == {"Fornax"}
    assert ds.features().shape == (1824, 29)


def test_no_path_is_a_clear_error_and_the_default_lives_above_the_mock(tmp_path, monkeypatch):
    # The data layer never renders the mock survey behind a caller's back ...
    with pytest.raises(GlobsmlError, match="name the data.*resolve_dataset"):
        load_dataset()
    # ... the experiments' resolve_dataset(None) asks the mock layer for it.
    import globsml.mock
    from globsml.experiments import resolve_dataset

    root = _tiny(tmp_path)
    asked = []
    monkeypatch.setattr(globsml.mock, "default_data_dir", lambda **kw: asked.append(kw) or root)
    ds = resolve_dataset(None)
    assert len(ds) == 5 and ds.name == str(root)
    resolve_dataset(None, quick=True)
    assert asked == [{"quick": False}, {"quick": True}]
    assert resolve_dataset(ds) is ds
