"""Survey runs survive faults: damaged outputs, a second run, a killed run, failing partitions, lost schedulers."""

import fcntl

import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.cli import main
from globsml.inference import _dask, predict_catalogue, predict_partitions, read_partitioned, write_partitions

from .test_dask import _same

pytest.importorskip("distributed")


@pytest.fixture
def parts(tmp_path, tiny_table):
    write_partitions(tiny_table, tmp_path / "parts", rows_per_partition=120)  # 4 partitions
    return tmp_path / "parts"


def _error_lines(capsys):
    """stderr without the progress bar."""
    return [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
            if line.strip() and not line.startswith("partitions:")]


def _run(bundle, parts, out, **kwargs):
    return predict_partitions(bundle, parts, out=out, engine=kwargs.pop("engine", "serial"), progress=False, **kwargs)


#: Ways an output partition can be damaged between two runs.
DAMAGES = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "not parquet": lambda p: p.write_text("galaxy,ID,p_gc,is_gc\n"),
    "too few rows": lambda p: pd.read_parquet(p).iloc[:5].to_parquet(p, index=False),
    "edited values": lambda p: pd.read_parquet(p).assign(p_gc=0.0, is_gc=False).to_parquet(p, index=False),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_output_partition_is_recomputed(tmp_path, tiny_bundle, tiny_table, parts, damage):
    first = _run(tiny_bundle, parts, tmp_path / "out")
    DAMAGES[damage](tmp_path / "out" / "part.00002.parquet")
    again = _run(tiny_bundle, parts, tmp_path / "out")
    assert again["n_skipped"] == 3 and again["n_sources"] == first["n_sources"] == len(tiny_table)
    _same(read_partitioned(tmp_path / "out"), predict_catalogue(tiny_bundle, table=tiny_table))


def test_a_partition_written_by_a_run_that_died_before_recording_it_is_kept(tmp_path, tiny_bundle, parts):
    _run(tiny_bundle, parts, tmp_path / "out")
    (tmp_path / "out" / _dask.DONE_FILE).unlink()  # killed after the worker wrote, before the driver recorded
    assert _run(tiny_bundle, parts, tmp_path / "out")["n_skipped"] == 4


def test_two_runs_cannot_share_an_output_directory(tmp_path, tiny_bundle, parts):
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / _dask.LOCK_FILE, "a") as held:  # another run, still going
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(GlobsmlError, match="another run is writing to it"):
            _run(tiny_bundle, parts, tmp_path / "out")
    assert not list((tmp_path / "out").glob("part.*"))


def test_temporary_files_of_a_killed_run_are_removed(tmp_path, tiny_bundle, parts):
    _run(tiny_bundle, parts, tmp_path / "out")
    stale = tmp_path / "out" / ".part.00001.parquet.k1ll3d.tmp.parquet"
    stale.write_bytes(b"half a partition")
    _run(tiny_bundle, parts, tmp_path / "out")
    assert not stale.exists()


def _bare_second_partition(tmp_path, tiny_table):
    """Partition 1 lacks the features and has no cut-outs: it fails; the others are healthy."""
    write_partitions(tiny_table, tmp_path / "mixed", rows_per_partition=120)
    bare = tmp_path / "mixed" / "part.00001.parquet"
    pd.read_parquet(bare)[["galaxy", "ID"]].to_parquet(bare, index=False)
    return tmp_path / "mixed"


@pytest.mark.parametrize("engine", ["serial", "dask"])
def test_a_failing_partition_ends_in_one_line_and_the_healthy_ones_are_kept(tmp_path, tiny_bundle, tiny_table,
                                                                            capsys, engine):
    mixed = _bare_second_partition(tmp_path, tiny_table)
    argv = ["predict", "--model", str(tiny_bundle), "--table", str(mixed), "--out", str(tmp_path / "out"),
            "--engine", "dask", "--workers", "1"]
    if engine == "serial":
        with pytest.raises(GlobsmlError, match=r"1 of 4 partition\(s\) failed, first partition 1 \(part\.00001"):
            _run(tiny_bundle, mixed, tmp_path / "out")
    else:
        assert main(argv) == 2
        lines = _error_lines(capsys)
        assert len(lines) == 1 and "Traceback" not in lines[0], lines
        err = lines[0]
        assert "partition 1 (part.00001.parquet, row group 0): " in err and "lacks feature column" in err
    assert sorted(p.name for p in (tmp_path / "out").glob("part.*")) == [
        "part.00000.parquet", "part.00002.parquet", "part.00003.parquet"]


def test_finished_partitions_survive_a_dying_worker(tmp_path, tiny_bundle, parts, monkeypatch):
    real = _dask._run_partition

    def dies_on_partition_2(ref, part, out_path, threshold, ebv):
        if part.index == 2:
            raise RuntimeError("worker killed (simulated)")
        return real(ref, part, out_path, threshold, ebv)

    monkeypatch.setattr(_dask, "_run_partition", dies_on_partition_2)
    with pytest.raises(GlobsmlError, match=r"partition 2 .*RuntimeError: worker killed"):
        _run(tiny_bundle, parts, tmp_path / "out", engine="dask", n_workers=2, processes=False)
    monkeypatch.setattr(_dask, "_run_partition", real)
    assert _run(tiny_bundle, parts, tmp_path / "out")["n_skipped"] == 3  # only the lost one is recomputed


def test_an_unreachable_scheduler_is_one_line(tmp_path, tiny_bundle, parts, capsys):
    assert main(["predict", "--model", str(tiny_bundle), "--table", str(parts), "--out", str(tmp_path / "out"),
                 "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    lines = _error_lines(capsys)
    assert len(lines) == 1 and "cannot reach the dask scheduler tcp://127.0.0.1:9" in lines[0], lines


def test_local_cluster_listens_on_localhost_only(tmp_path, tiny_bundle, parts, monkeypatch):
    import distributed

    seen = {}

    def fake_cluster(**kwargs):
        seen.update(kwargs)
        raise OSError("stop here")

    monkeypatch.setattr(distributed, "LocalCluster", fake_cluster)
    with pytest.raises(GlobsmlError, match="cannot reach"):
        _run(tiny_bundle, parts, tmp_path / "out", engine="dask", processes=True)
    assert seen["host"] == "127.0.0.1"
    assert seen["dashboard_address"].startswith("127.0.0.1:")
    assert seen["worker_dashboard_address"].startswith("127.0.0.1:")


def test_paths_sent_to_workers_are_absolute(tmp_path, tiny_bundle, tiny_table, monkeypatch):
    from pathlib import Path

    write_partitions(tiny_table, tmp_path / "rel", rows_per_partition=240)
    monkeypatch.chdir(tmp_path)
    sent = []
    real = _dask._run_partition

    def spy(ref, part, out_path, threshold, ebv):
        sent.append((part.path, part.stack, str(out_path)))
        return real(ref, part, out_path, threshold, ebv)

    monkeypatch.setattr(_dask, "_run_partition", spy)
    _run(tiny_bundle, "rel", "out")
    assert len(sent) == 2 and all(Path(p).is_absolute() and Path(o).is_absolute() for p, _, o in sent)
