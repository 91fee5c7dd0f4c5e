"""The partitioned (Dask) path gives the same catalogue as the in-memory path."""

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.data import IMAGE_DIRNAME
from globsml.inference import (
    list_partitions,
    predict_catalogue,
    predict_partitions,
    read_partitioned,
    write_partitions,
)

from .conftest import make_cutouts

pytest.importorskip("distributed")


def _same(a, b):
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert a["galaxy"].astype(str).tolist() == b["galaxy"].astype(str).tolist()
    np.testing.assert_array_equal(a["ID"].to_numpy(), b["ID"].to_numpy())
    np.testing.assert_array_equal(a["p_gc"].to_numpy(), b["p_gc"].to_numpy())
    np.testing.assert_array_equal(a["is_gc"].to_numpy(), b["is_gc"].to_numpy())


def test_dask_on_a_local_cluster_equals_in_memory(tmp_path, tiny_bundle, tiny_table):
    write_partitions(tiny_table, tmp_path / "parts", rows_per_partition=100)
    assert len(list_partitions(tmp_path / "parts")) == 5
    summary = predict_partitions(tiny_bundle, tmp_path / "parts", out=tmp_path / "out", engine="dask",
                                 n_workers=2, processes=False, progress=False)
    assert summary["n_sources"] == len(tiny_table) and summary["n_partitions"] == 5
    got = read_partitioned(tmp_path / "out")
    expected = predict_catalogue(tiny_bundle, table=tiny_table)
    _same(got, expected)
    assert summary["n_candidates"] == int(expected["is_gc"].sum())
    # The output is a Parquet dataset that pandas/pyarrow read as one table.
    assert len(pd.read_parquet(tmp_path / "out")) == len(tiny_table)


def test_interrupted_run_resumes_and_other_runs_are_refused(tmp_path, tiny_bundle, tiny_table):
    write_partitions(tiny_table, tmp_path / "parts", rows_per_partition=200)
    first = predict_partitions(tiny_bundle, tmp_path / "parts", out=tmp_path / "out", engine="serial",
                               progress=False)
    (tmp_path / "out" / "part.00001.parquet").unlink()  # as if killed before the last partition
    again = predict_partitions(tiny_bundle, tmp_path / "parts", out=tmp_path / "out", engine="serial",
                               progress=False)
    assert again["n_skipped"] == 2 and again["n_sources"] == first["n_sources"]
    assert again["n_candidates"] == first["n_candidates"]
    _same(read_partitioned(tmp_path / "out"), predict_catalogue(tiny_bundle, table=tiny_table))
    with pytest.raises(GlobsmlError, match="holds the output of another run"):
        predict_partitions(tiny_bundle, tmp_path / "parts", out=tmp_path / "out", engine="serial",
                           threshold=0.9, progress=False)


def test_cutout_stacks_features_computed_per_partition(tmp_path, tiny_bundle, tiny_data, tiny_table):
    """A tabular bundle on partitions that hold only cut-outs: features come from the frames."""
    ids = tiny_table[["galaxy", "ID"]]
    write_partitions(ids, tmp_path / "stacks", rows_per_partition=150, cutouts=make_cutouts(tiny_table))
    predict_partitions(tiny_bundle, tmp_path / "stacks", out=tmp_path / "out", engine="dask",
                       n_workers=2, processes=False, progress=False)
    got = read_partitioned(tmp_path / "out")
    expected = predict_catalogue(tiny_bundle, images=tiny_data / IMAGE_DIRNAME)
    _same(got, expected)


def test_partition_errors_are_clear(tmp_path, tiny_bundle, tiny_table):
    with pytest.raises(GlobsmlError, match="no such Parquet file or directory"):
        list_partitions(tmp_path / "nothing")
    write_partitions(tiny_table[["galaxy", "ID"]], tmp_path / "bare", rows_per_partition=500)
    with pytest.raises(GlobsmlError, match="lacks feature column.*no cut-out stack"):
        predict_partitions(tiny_bundle, tmp_path / "bare", out=tmp_path / "o", engine="serial", progress=False)
    parts = write_partitions(tiny_table, tmp_path / "p", rows_per_partition=500,
                             cutouts=make_cutouts(tiny_table))
    np.save(parts[0].with_suffix(".npy"), np.zeros((3, 2, 20, 20), np.float32))
    with pytest.raises(GlobsmlError, match=r"cut-out stack has shape \(3, 2, 20, 20\), expected \(480, 2, 20, 20\)"):
        list_partitions(tmp_path / "p")


def _flatten(x):
    return np.nan_to_num(np.asarray(x, dtype=np.float64).reshape(len(x), -1))


def test_image_bundle_on_cutout_stacks(tmp_path, tiny_table):
    """An image model reads the .npy stacks partition by partition (memory-mapped)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from globsml.inference import Bundle

    cut = make_cutouts(tiny_table)
    y = (tiny_table["pGC"] >= 0.5).astype(int).to_numpy()
    model = make_pipeline(FunctionTransformer(_flatten), LogisticRegression(max_iter=200)).fit(cut, y)
    bundle = Bundle(model, input="images", name="flat-logistic")
    write_partitions(tiny_table[["galaxy", "ID", "xcentroid", "ycentroid"]], tmp_path / "stacks",
                     rows_per_partition=130, cutouts=cut)
    predict_partitions(bundle, tmp_path / "stacks", out=tmp_path / "out", engine="dask", n_workers=2,
                       processes=False, progress=False)
    got = read_partitioned(tmp_path / "out")
    # A dot product through BLAS may round the last bit differently with the
    # batch size (trees, in the tests above, agree exactly).
    np.testing.assert_allclose(got["p_gc"].to_numpy(), model.predict_proba(cut)[:, 1], rtol=1e-12, atol=0)
    assert list(got.columns) == ["galaxy", "ID", "p_gc", "p_gc_std", "is_gc", "xcentroid", "ycentroid"]
    write_partitions(tiny_table[["galaxy", "ID"]], tmp_path / "no_stacks", rows_per_partition=500)
    with pytest.raises(GlobsmlError, match="needs cut-outs, and there is no part.00000.npy"):
        predict_partitions(bundle, tmp_path / "no_stacks", out=tmp_path / "o2", engine="serial", progress=False)
