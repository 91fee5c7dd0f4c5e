import hashlib
import re
import shutil
import subprocess
import sys

import pytest

from globsml.cli import main

import globsml_tiny_data as tiny
from globsml_http_server import FileServer


def test_validate_ok_exits_0(tmp_path, capsys):
    root = tiny.make_dataset(tmp_path)
    assert main(["validate", str(root)]) == 0
    out = capsys.readouterr().out
    assert "table+images, 2 galaxies, 5 labelled sources" in out
    assert "Virgo: 1 galaxies, 2 sources (1 GCs, 1 non-GCs)" in out and "problem" not in out


@pytest.mark.parametrize("case", sorted(tiny.BROKEN))
def test_validate_problem_exits_1_with_message(tmp_path, capsys, case):
    root = tiny.make_dataset(tmp_path)
    breaker, pattern = tiny.BROKEN[case]
    breaker(root)
    assert main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert any(re.search(pattern, line) for line in problems), out
    assert "Traceback" not in out and re.search(r"\d+ problem\(s\) found in ", out)


def test_validate_missing_path_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"globsml validate: error: {tmp_path / 'nowhere'}: no such file or directory"


def test_validate_console_script_on_corrupt_fits(tmp_path):
    # the installed command, end to end: one line per problem, no traceback
    root = tiny.make_dataset(tmp_path)
    (root / "ImageData" / "VCC2_images.fits").write_bytes(b"SIMPLE  =" + b"\xff" * 3000)
    proc = subprocess.run([sys.executable, "-m", "globsml", "validate", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert re.search(r"problem: .*VCC2_images\.fits: unreadable FITS file", proc.stdout)


def test_validate_real_cutouts(shared_data, capsys):
    assert main(["validate", str(shared_data / "ImageData")]) == 0
    out = capsys.readouterr().out
    assert "images only, 105 galaxies, 48,677 unlabelled sources" in out


def test_validate_real_ngc1427a(shared_data, tmp_path, capsys):
    shutil.copy(shared_data / "NGC1427a" / "NGC1427a_sources.csv", tmp_path)
    assert main(["validate", str(tmp_path)]) == 0
    assert "table only, 1 galaxies, 1,824 unlabelled sources" in capsys.readouterr().out


def _blob(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_fetch_command(tmp_path, capsys):
    files = {"data/ImageData/FCC1_images.fits": b"a" * 70_000, "data/ACS_sources_original.csv": b"ID\n0\n"}
    manifest = tmp_path / "m.tsv"
    manifest.write_text("path\tgit_blob_sha1\tsize_bytes\n"
                        + "".join(f"{p}\t{_blob(d)}\t{len(d)}\n" for p, d in files.items()))
    out = tmp_path / "gc"
    common = ["--base-url", None, "--manifest", str(manifest), "--no-progress"]
    with FileServer(files) as srv:
        common[1] = srv.url
        assert main(["fetch", str(out), *common]) == 0
        assert "2 file(s) downloaded" in capsys.readouterr().out
        assert (out / "ImageData" / "FCC1_images.fits").read_bytes() == files["data/ImageData/FCC1_images.fits"]
        assert main(["fetch", str(out), *common]) == 0
        assert "2 already verified" in capsys.readouterr().out
        # a corrupt download: exit 1, a clear message, nothing left under the final name
        (out / "ImageData" / "FCC1_images.fits").unlink()
        srv.files["data/ImageData/FCC1_images.fits"] = b"b" * 70_000
        assert main(["fetch", str(out), *common, "--only", "ImageData/*"]) == 1
        err = capsys.readouterr().err
        assert re.search(r"failed: ImageData/FCC1_images\.fits: git blob SHA-1 [0-9a-f]{40}, expected "
                         + _blob(files["data/ImageData/FCC1_images.fits"]), err)
        assert "1 of 1 file(s) failed" in err
        assert not list((out / "ImageData").iterdir())


def test_fetch_bad_manifest_exits_2(tmp_path, capsys):
    bad = tmp_path / "m.tsv"
    bad.write_text("no header\n")
    assert main(["fetch", str(tmp_path / "gc"), "--manifest", str(bad), "--no-progress"]) == 2
    assert "expected a TSV header path git_blob_sha1 size_bytes" in capsys.readouterr().err


def test_fetch_help_names_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fetch", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--models", "--only", "--base-url", "--manifest"):
        assert option in out
    assert "raw.githubusercontent.com/dodo47/GCDetection" in "".join(out.split())
