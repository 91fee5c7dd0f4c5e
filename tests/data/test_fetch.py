import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.data import (
    PUBLISHED_COMMIT,
    FetchError,
    ManifestEntry,
    fetch,
    published_manifest,
)
from globsml.data._fetch import git_blob_sha1, read_manifest

from globsml_http_server import FileServer


def blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def make_files(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "data/ACS_sources_original.csv": b"ID,galaxy\n0,FCC1\n1,FCC1\n",
        "data/ImageData/FCC1_images.fits": rng.bytes(300_000),
        "data/NGC1427a/NGC1427a_sources.csv": rng.bytes(5_000),
        "experiments/Cluster2Cluster--TabularData/MLP/NeuralNet--best--X": rng.bytes(70_000),
    }


def manifest_of(files, *, sizes=True):
    return [ManifestEntry(p, blob_sha1(d), len(d) if sizes else None) for p, d in files.items()]


TARGETS = {
    "data/ACS_sources_original.csv": "ACS_sources_original.csv",
    "data/ImageData/FCC1_images.fits": "ImageData/FCC1_images.fits",
    "data/NGC1427a/NGC1427a_sources.csv": "NGC1427a/NGC1427a_sources.csv",
    "experiments/Cluster2Cluster--TabularData/MLP/NeuralNet--best--X": "models/NeuralNet--best--X",
}


def assert_complete(directory, files):
    for path, data in files.items():
        assert (directory / TARGETS[path]).read_bytes() == data
    assert not list(directory.rglob("*.part")), "a partial file was left behind"


@pytest.fixture
def server():
    files = make_files()
    with FileServer(files) as srv:
        srv.manifest = manifest_of(files)
        yield srv


def test_git_blob_sha1_is_what_git_prints(tmp_path):
    (tmp_path / "f").write_bytes(b"hello\n")
    # `echo hello | git hash-object --stdin`
    assert git_blob_sha1(tmp_path / "f") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_fresh_download_into_published_layout(tmp_path, server):
    out = tmp_path / "gc"
    result = fetch(out, base_url=server.url, manifest=server.manifest, progress=False)
    assert_complete(out, server.files)
    assert sorted(result.downloaded) == sorted(TARGETS.values())
    assert result.skipped == [] and result.resumed == []
    assert all(r is None for _, r in server.requests)  # no Range on a fresh download
    assert "4 file(s) downloaded" in result.summary()


def test_url_template_with_commit_and_unknown_sizes(tmp_path):
    files = make_files(1)
    with FileServer({f"{PUBLISHED_COMMIT}/{p}": d for p, d in files.items()}) as srv:
        fetch(tmp_path, base_url=srv.url + "/{commit}/{path}",
              manifest=manifest_of(files, sizes=False), progress=False)
    assert_complete(tmp_path, files)


def test_verified_files_are_skipped_without_download(tmp_path, server):
    fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    n = len(server.requests)
    (tmp_path / "ImageData" / "FCC1_images.fits.part").write_bytes(b"left over")
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert sorted(result.skipped) == sorted(TARGETS.values()) and not result.downloaded
    assert result.rehashed == [] and "(4 by the record of verified files, 0 re-hashed)" in result.summary()
    assert not (tmp_path / "ImageData" / "FCC1_images.fits.part").exists()
    assert len(server.requests) == n
    # without the record, files already present are re-hashed, not re-downloaded
    (tmp_path / ".globsml-verified.tsv").unlink()
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert len(result.skipped) == len(result.rehashed) == 4 and len(server.requests) == n
    assert (tmp_path / ".globsml-verified.tsv").is_file()


def test_changed_file_is_downloaded_again(tmp_path, server):
    fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    target = tmp_path / "ImageData" / "FCC1_images.fits"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF  # same size, other content, new modification time
    target.write_bytes(bytes(data))
    os.utime(target, ns=(1, 1))
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert result.downloaded == ["ImageData/FCC1_images.fits"]
    assert len(result.skipped) == 3 and result.rehashed == []
    # --rehash: every file hashed again, none trusted from the record
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, rehash=True, progress=False)
    assert len(result.rehashed) == 4 and not result.downloaded
    assert_complete(tmp_path, server.files)


def test_resume_after_dropped_connection(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    server.drop[path] = 1
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert_complete(tmp_path, server.files)
    first, second = server.requests_of(path)
    assert first is None
    assert second == f"bytes={len(server.files[path]) // 2}-"  # only the rest was asked for
    assert result.resumed == ["ImageData/FCC1_images.fits"]


def test_connection_dropped_twice_keeps_part_for_next_run(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    server.drop[path] = 2
    with pytest.raises(FetchError) as info:
        fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    (line,) = info.value.failures
    assert re.search(r"ImageData/FCC1_images\.fits: the connection dropped twice .*rerun to resume", line)
    assert not (tmp_path / "ImageData" / "FCC1_images.fits").exists()
    assert (tmp_path / "ImageData" / "FCC1_images.fits.part").stat().st_size > 0
    # the other files made it
    assert (tmp_path / "models" / "NeuralNet--best--X").is_file()
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert result.resumed == ["ImageData/FCC1_images.fits"] and len(result.skipped) == 3
    assert_complete(tmp_path, server.files)


def test_partial_part_file_is_resumed(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    part = tmp_path / "ImageData" / "FCC1_images.fits.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(server.files[path][:123_456])
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert server.requests_of(path) == ["bytes=123456-"]
    assert result.resumed == ["ImageData/FCC1_images.fits"]
    assert_complete(tmp_path, server.files)


def test_server_ignoring_range_restarts_the_file(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    part = tmp_path / "ImageData" / "FCC1_images.fits.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(server.files[path][:1000])
    server.ignore_range = True
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert "ImageData/FCC1_images.fits" in result.downloaded
    assert_complete(tmp_path, server.files)


def test_corrupt_download_is_removed_and_reported(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    good = server.files[path]
    server.files[path] = good[:-1] + bytes([good[-1] ^ 1])  # same size, one bit off
    with pytest.raises(FetchError) as info:
        fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    (line,) = info.value.failures
    expected = blob_sha1(good)
    assert re.search(rf"ImageData/FCC1_images\.fits: git blob SHA-1 [0-9a-f]{{40}}, expected {expected}", line)
    assert "bad download was removed" in line
    assert "1 of 4 file(s) failed" in str(info.value)
    assert not (tmp_path / "ImageData" / "FCC1_images.fits").exists()
    assert not (tmp_path / "ImageData" / "FCC1_images.fits.part").exists()
    assert len(info.value.result.downloaded) == 3


def test_git_lfs_pointer_is_explained(tmp_path, server):
    path = "data/ACS_sources_original.csv"
    server.files[path] = b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 99\n"
    with pytest.raises(FetchError) as info:
        fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert "git-LFS pointer" in info.value.failures[0] and "media.githubusercontent.com" in info.value.failures[0]


def test_missing_file_on_server(tmp_path, server):
    del server.files["data/NGC1427a/NGC1427a_sources.csv"]
    with pytest.raises(FetchError) as info:
        fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert "NGC1427a/NGC1427a_sources.csv: " in info.value.failures[0]
    assert "HTTP 404" in info.value.failures[0]


def test_only_pattern_and_manifest_file(tmp_path, server):
    manifest = tmp_path / "m.tsv"
    manifest.write_text(
        "path\tgit_blob_sha1\tsize_bytes\n"
        + "".join(f"{e.path}\t{e.git_blob_sha1}\t{e.size}\n" for e in server.manifest)
    )
    assert read_manifest(manifest) == server.manifest
    out = tmp_path / "out"
    result = fetch(out, base_url=server.url, manifest=manifest, only="ImageData/*", progress=False)
    assert result.downloaded == ["ImageData/FCC1_images.fits"]
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == ["ImageData"]
    with pytest.raises(GlobsmlError, match="no file of the manifest matches"):
        fetch(out, base_url=server.url, manifest=manifest, only="nothing*", progress=False)


def test_bad_manifest_is_a_clear_error(tmp_path):
    bad = tmp_path / "m.tsv"
    bad.write_text("path\tgit_blob_sha1\tsize_bytes\ndata/x\tnot-a-sha\t3\n")
    with pytest.raises(GlobsmlError, match=r"m\.tsv, line 2: 'not-a-sha' is not a 40-digit hex SHA-1"):
        read_manifest(bad)


def test_published_manifests():
    files = published_manifest()
    models = published_manifest(models=True)
    assert len(files) == 146 and len(models) == 4
    targets = {e.target for e in files}
    assert "ACS_sources_original.csv" in targets and "NGC1427a/NGC1427a_sources.csv" in targets
    assert sum(t.startswith("ImageData/") and t.endswith("_images.fits") for t in targets) == 141
    assert sorted(e.target for e in models) == [
        "models/Fornax2Virgo--CNN", "models/NeuralNet--best--Fornax2Virgo",
        "models/NeuralNet--best--Virgo2Fornax", "models/Virgo2Fornax--CNN",
    ]


def test_published_manifest_matches_real_networks(shared_data):
    for entry in published_manifest(models=True):
        local = shared_data / "published_models" / Path(entry.target).name
        assert local.stat().st_size == entry.size
        assert git_blob_sha1(local) == entry.git_blob_sha1


def test_stale_part_file_from_another_version_is_replaced(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    part = tmp_path / "ImageData" / "FCC1_images.fits.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5000)  # not a prefix of the file
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert server.requests_of(path) == ["bytes=5000-", None]
    assert "ImageData/FCC1_images.fits" in result.downloaded
    assert_complete(tmp_path, server.files)


def test_published_networks_from_a_local_mirror(shared_data, tmp_path):
    # the real published manifest, the real files: what `globsml fetch --models` checks
    models = published_manifest(models=True)
    files = {e.path: (shared_data / "published_models" / Path(e.target).name).read_bytes() for e in models}
    # one real cut-out file: the copies here were converted to float32, so the
    # published git blob SHA-1 must refuse it
    fcc100 = next(e for e in published_manifest() if e.target == "ImageData/FCC100_images.fits")
    files[fcc100.path] = (shared_data / "ImageData" / "FCC100_images.fits").read_bytes()
    with FileServer(files) as srv:
        result = fetch(tmp_path, models=True, only="models/*", base_url=srv.url + "/{path}", progress=False)
        assert sorted(result.downloaded) == sorted(e.target for e in models)
        with pytest.raises(FetchError) as info:
            fetch(tmp_path, only="ImageData/FCC100_images.fits", base_url=srv.url, progress=False)
    for e in models:
        assert (tmp_path / e.target).read_bytes() == files[e.path]
    (line,) = info.value.failures
    assert f"expected {fcc100.git_blob_sha1} (size" in line and "expected 2367360)" in line
    assert not (tmp_path / "ImageData" / "FCC100_images.fits").exists()


def test_complete_part_file_is_verified_and_kept(tmp_path, server):
    path = "data/ImageData/FCC1_images.fits"
    part = tmp_path / "ImageData" / "FCC1_images.fits.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(server.files[path])  # killed after the last byte, before the rename
    result = fetch(tmp_path, base_url=server.url, manifest=server.manifest, progress=False)
    assert server.requests_of(path) == [f"bytes={len(server.files[path])}-"]  # answered 416
    assert result.resumed == ["ImageData/FCC1_images.fits"]
    assert_complete(tmp_path, server.files)
