"""``fetch`` from a hostile manifest or with a careless URL: nothing written outside DIR, one line."""

import hashlib
import re
import os

import pytest

from globsml import GlobsmlError
from globsml.cli import main
from globsml.data import ManifestEntry, fetch

from globsml_http_server import FileServer

DATA = b"ID,galaxy\n0,FCC1\n"
SHA1 = hashlib.sha1(b"blob %d\0" % len(DATA) + DATA).hexdigest()

#: Manifest paths that would land outside DIR (or over its record).
ESCAPING_PATHS = {
    "absolute": "/tmp/globsml-hostile-absolute.csv",
    "parent": "../outside.csv",
    "parent inside data/": "data/../../outside.csv",
    "deep parent": "data/ImageData/../../../outside.csv",
    "the record of verified files": "data/.globsml-verified.tsv",
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(ESCAPING_PATHS))
def test_escaping_manifest_paths_are_refused_before_any_download(tmp_path, case):
    path = ESCAPING_PATHS[case]
    with FileServer({path: DATA}) as srv:
        with pytest.raises(GlobsmlError, match=r"manifest path .*(outside|record)") as info:
            fetch(tmp_path / "dir", base_url=srv.url, manifest=[ManifestEntry(path, SHA1, len(DATA))],
                  progress=False)
        assert not srv.requests
    assert "failed" not in str(info.value)  # refused as a whole, not one failed download
    assert not (tmp_path / "outside.csv").exists() and not os.path.exists("/tmp/globsml-hostile-absolute.csv")


@pytest.mark.parametrize("link", ["ImageData", "ImageData/FCC1_images.fits"])
def test_paths_through_symlinks_out_of_dir_are_refused(tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "dir" / link
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(outside if link == "ImageData" else outside / "x.fits")
    entry = ManifestEntry("data/ImageData/FCC1_images.fits", SHA1, len(DATA))
    with FileServer({entry.path: DATA}) as srv:
        with pytest.raises(GlobsmlError, match=r"resolves to .*/outside/.*, outside .*dir; refusing to follow"):
            fetch(tmp_path / "dir", base_url=srv.url, manifest=[entry], progress=False)
        assert not srv.requests
    assert not list(outside.iterdir())


@pytest.mark.parametrize(("base_url", "message"), [
    ("http://mirror/{nope}/{path}", r"not a URL template \(KeyError"),
    ("http://mirror/{path", r"not a URL template \(ValueError"),
    ("http://mirror/{0}", r"not a URL template \(IndexError"),
    ("http://mirror/{path.x}", r"not a URL template \(AttributeError"),
    ("mirror.example.org/{path}", "expected an http://, https:// or file:// URL"),
    ("javascript:alert(1)", "expected an http://, https:// or file:// URL"),
])
def test_a_bad_base_url_is_one_line(tmp_path, capsys, base_url, message):
    code = main(["fetch", str(tmp_path / "d"), "--base-url", base_url, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"globsml fetch: error: --base-url {base_url!r}: ")
    assert re.search(message, err), err
    assert not (tmp_path / "d").exists()
