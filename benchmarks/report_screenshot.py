"""Look at the benchmark's HTML report in a real browser: headless Chromium takes a screenshot.

The report is self-contained HTML (figures embedded); this renders it as a
person would see it, at a laptop's width, and checks the picture is not
blank: the spread of its pixel values and the fraction of pixels that are
not white (text, tables, figures). A broken page (a stray ``<`` that
swallows the body, CSS that hides it, an encoding error) comes out blank
or nearly so.

Usage::

    python benchmarks/report_screenshot.py REPORT.html [--png docs/_static/report.png]
                                           [--size 1280,1600]

``REPORT.html`` is ``report.html`` of a ``globsml benchmark`` output
directory, e.g. of a quick run on a small mock::

    globsml mock /tmp/m20 --scale 0.1
    globsml benchmark --quick --data /tmp/m20 --out /tmp/b20
    python benchmarks/report_screenshot.py /tmp/b20/report.html --png docs/_static/report.png

Prints the image statistics as JSON and exits non-zero when the picture is
blank or Chromium is missing. The test ``tests/experiments/test_report_browser.py``
(marked ``slow``; skipped without Chromium) does the same on a report of a
made-up data set.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: The Chromium executables tried, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The picture is blank below these: the standard deviation of the grey levels (0..1)
#: and the fraction of pixels darker than near-white.
MIN_STD = 0.05
MIN_INK = 0.02


def find_browser():
    """The path of a Chromium executable on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html, png, *, size=(1280, 1600), browser=None, timeout=180):
    """Render ``html`` (a file) in headless Chromium and write a PNG screenshot to ``png``."""
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium on PATH (apt-get install chromium)")
    html, png = Path(html).resolve(), Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        tmp = png.with_name(f".{png.name}.tmp.png")
        cmd = [browser, "--headless", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--screenshot={tmp}", f"--window-size={size[0]},{size[1]}", html.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not tmp.is_file():
            tmp.unlink(missing_ok=True)
            raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
        os.replace(tmp, png)
    return png


def image_stats(png):
    """Size, grey-level standard deviation and the fraction of non-white pixels of a PNG."""
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    grey = img[..., :3].mean(axis=-1) if img.ndim == 3 else img
    return {"width": int(grey.shape[1]), "height": int(grey.shape[0]), "std": float(np.std(grey)),
            "ink": float(np.mean(grey < 0.95))}


def is_blank(stats):
    """Whether the statistics of :func:`image_stats` describe a blank picture."""
    return stats["std"] < MIN_STD or stats["ink"] < MIN_INK


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="report.html of a benchmark")
    parser.add_argument("--png", default=None, help="where the screenshot goes (default: beside the report)")
    parser.add_argument("--size", default="1280,1600", help="window WIDTH,HEIGHT in pixels")
    args = parser.parse_args(argv)
    report = Path(args.report)
    if not report.is_file():
        parser.error(f"{report}: no such report")
    size = tuple(int(v) for v in args.size.split(","))
    png = Path(args.png) if args.png else report.with_name("report_screenshot.png")
    try:
        screenshot(report, png, size=size)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = image_stats(png)
    print(json.dumps({"png": str(png), **stats, "blank": is_blank(stats)}, indent=1))
    return 1 if is_blank(stats) else 0


if __name__ == "__main__":
    sys.exit(main())
