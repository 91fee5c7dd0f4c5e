"""The HTML report in a real browser: headless Chromium renders it, and the picture is not blank."""

import importlib.util
from pathlib import Path

import pytest

from globsml.experiments import run_benchmark

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("report_screenshot", ROOT / "benchmarks" / "report_screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_report_renders_in_chromium(tiny_data, tmp_path):
    shot = _script()
    if shot.find_browser() is None:
        pytest.skip("no Chromium on PATH")
    out = tmp_path / "bench"
    run_benchmark(tiny_data, out=out, models=["logistic", "tree"], setups=["all2all", "virgo2fornax"], seeds=2,
                  quick=True, progress=False)
    png = shot.screenshot(out / "report.html", tmp_path / "report.png", size=(1280, 1600))
    stats = shot.image_stats(png)
    assert (stats["width"], stats["height"]) == (1280, 1600)
    assert not shot.is_blank(stats), stats
    # a page whose body is swallowed (an unclosed comment) is blank: the check can fail
    broken = tmp_path / "broken.html"
    broken.write_text((out / "report.html").read_text().replace("<body>", "<body><!--", 1))
    assert shot.is_blank(shot.image_stats(shot.screenshot(broken, tmp_path / "broken.png", size=(1280, 1600))))
