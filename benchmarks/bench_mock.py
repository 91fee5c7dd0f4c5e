"""Time the mock survey: this code against a baseline checkout, side by side, in one run.

Usage::

    python benchmarks/bench_mock.py --baseline /path/to/old/checkout [--every 7] [--scale 1] [--tag NAME]
    python benchmarks/bench_mock.py --keep DIR            # this code alone, the mock kept in DIR

Each code makes the same mock (seed, scale, galaxies) in a child process
(``PYTHONPATH`` at its ``src``) with the survey's default 2 worker
processes; the figures are its wall time and its CPU time (user + system
of the child and its workers, ``getrusage(RUSAGE_CHILDREN)``), which the
other work on a shared machine changes far less than the wall time. The
two codes run one after the other, baseline first. ``--every N`` makes
every N-th galaxy by number of sources (full size) instead of all 141,
and the figures are also given per source and extrapolated to the
84,929 sources of the full survey. Writes
``benchmarks/results/bench_mock[_TAG].json`` and ``.md``.

``--compare A B`` compares two mocks of the same galaxies (e.g. the
baseline's and this code's, made with ``--keep``): the share of the
kept sources that both hold (same frame position) and the largest
difference of their measured features; the result is added to the
``--tag``'s result files.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import sys
from globsml.mock import make_mock_survey
galaxies = sys.argv[4].split(",") if sys.argv[4] else None
make_mock_survey(sys.argv[1], seed=int(sys.argv[2]), scale=float(sys.argv[3]), galaxies=galaxies, progress=False)
"""


def _child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_mock(src, out, *, seed, scale, galaxies):
    """Wall and CPU seconds of making the mock into ``out`` with the code in ``src`` (a child process)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, "-c", _CHILD, str(out), str(seed), str(scale), ",".join(galaxies or [])]
    load = os.getloadavg()
    t0, c0 = time.perf_counter(), _child_cpu()
    subprocess.run(cmd, env=env, check=True)
    wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
    import pandas as pd

    n = len(pd.read_csv(Path(out) / "ACS_sources_original.csv", usecols=["ID"]))
    return {"src": str(src), "sources": n, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "load_average_at_start": [round(x, 2) for x in load],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def compare_mocks(a, b):
    """How far two mocks of the same galaxies are apart: shared sources and their feature differences."""
    import numpy as np
    import pandas as pd
    from scipy.spatial import cKDTree

    ta, tb = (pd.read_csv(Path(d) / "ACS_sources_original.csv") for d in (a, b))
    cols = ["m3_g", "m3_z", "CI_g", "CI_z", "colour", "area", "area_z", "eccentricity", "fwhm", "kron_flux",
            "kron_flux_z", "pGC"]
    shared, largest = 0, {c: 0.0 for c in cols}
    for galaxy, ga in ta.groupby("galaxy"):
        gb = tb[tb["galaxy"] == galaxy]
        dist, idx = cKDTree(gb[["xcentroid", "ycentroid"]].to_numpy()).query(ga[["xcentroid", "ycentroid"]].to_numpy())
        same = dist < 1e-3
        shared += int(same.sum())
        if same.any():
            diff = np.abs(ga[cols].to_numpy()[same] - gb[cols].to_numpy()[idx[same]])
            for c, d in zip(cols, np.nanmax(diff, axis=0, initial=0.0)):
                largest[c] = max(largest[c], float(d))
    scale = {c: float(np.nanmax(np.abs(ta[c].to_numpy(dtype=float)))) for c in cols}
    return {"a": str(a), "b": str(b), "sources_a": len(ta), "sources_b": len(tb), "shared_sources": shared,
            "shared_share": round(shared / len(ta), 5),
            "largest_feature_difference_of_shared": max(largest.values()),
            "largest_difference_by_feature": largest,
            "largest_relative_difference": max(largest[c] / scale[c] for c in cols if scale[c] > 0),
            "features_compared": cols}


def _command(argv):
    import shlex

    return "python " + shlex.join([os.path.relpath(__file__, ROOT)] + (argv if argv is not None else sys.argv[1:]))


def _subset(every, scale):
    if every <= 1:
        return None
    sys.path.insert(0, str(ROOT / "src"))
    from globsml.mock import survey_counts

    counts = survey_counts(scale=scale).sort_values(["n_sources", "galaxy"], kind="stable")
    return counts["galaxy"].iloc[every // 2 :: every].tolist()


def _markdown(result):
    lines = ["# Mock survey: time, this code against the baseline", ""]
    if "command" in result:  # a timing run (a file may hold a comparison of mocks alone)
        lines += [f"Command: `{result['command']}`", "",
                  f"Machine: {result['cpu_count']} CPUs (the load averages say what else ran); "
                  f"Python {result['python']}. Galaxies: {result['galaxies_made']}; scale {result['scale']:g}, "
                  f"seed {result['seed']}.", "",
                  "| code | sources | wall s | CPU s (user+sys, workers included) | CPU ms per source "
                  "| full survey, CPU s / 2 cores (extrapolated) | load average at start |",
                  "|---|---|---|---|---|---|---|"]
    for name in ("baseline", "new"):
        r = result.get(name)
        if r:
            lines.append(f"| {name} ({r['src']}) | {r['sources']} | {r['wall_s']} | {r['cpu_s']} | "
                         f"{r['cpu_ms_per_source']} | {r['full_survey_cpu_s_per_core']} | {r['load_average_at_start']} |")
    if "ratio_cpu" in result:
        lines += ["", f"Ratio baseline / new: CPU {result['ratio_cpu']}x, wall {result['ratio_wall']}x "
                  "(the wall ratio moves with the other work on the machine; the CPU ratio is the figure)."]
    same = result.get("same_mock")
    if same:
        lines += ["", "## Is it the same mock?", "", f"Command: `{same['command']}`", ""]
        lines += [same["note"], ""] if same.get("note") else []
        lines += [
                  f"{same['shared_sources']} of {same['sources_a']} sources of {same['a']} are in {same['b']} "
                  f"({same['shared_share']:.2%}, same frame position within 0.001 px); over those, the largest "
                  f"difference of {', '.join(same['features_compared'])} is "
                  f"{same['largest_feature_difference_of_shared']:.2g}"
                  + (f" (relative to each column's largest value, at most {same['largest_relative_difference']:.1e}); by feature: "
                     + ", ".join(f"{c} {d:.1g}" for c, d in same["largest_difference_by_feature"].items())
                     if "largest_difference_by_feature" in same else "") + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a checkout of the code to compare with (its src/ is used)")
    parser.add_argument("--every", type=int, default=1, help="make every N-th galaxy by size (default: all)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="make this code's mock here and keep it (default: a temporary directory)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two mocks, add to the tag's results")
    parser.add_argument("--note", default="", help="with --compare: where the two mocks came from")
    args = parser.parse_args(argv)
    res_dir = ROOT / "benchmarks" / "results"
    stem = "bench_mock" + (f"_{args.tag}" if args.tag else "")
    if args.compare:
        same = compare_mocks(*args.compare)
        same["note"] = args.note
        same["command"] = _command(argv)
        print(json.dumps(same, indent=1))
        path = res_dir / f"{stem}.json"
        result = json.loads(path.read_text()) if path.is_file() else {}
        result["same_mock"] = same
        write_text(path, json.dumps(result, indent=1) + "\n")
        write_text(res_dir / f"{stem}.md", _markdown(result))
        return

    galaxies = _subset(args.every, args.scale)
    full_sources = 84929 * args.scale
    result = {"benchmark": "make_mock_survey, baseline against new", "command": _command(argv),
        "seed": args.seed, "scale": args.scale, "galaxies_made": "all" if galaxies is None else
        f"{len(galaxies)} (every {args.every}-th by size): {', '.join(galaxies)}",
        "cpu_count": os.cpu_count(), "python": platform.python_version()}
    runs = ([("baseline", Path(args.baseline) / "src")] if args.baseline else []) + [("new", ROOT / "src")]
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in runs:
            out = Path(args.keep) if (name == "new" and args.keep) else Path(tmp) / name
            r = time_mock(src, out, seed=args.seed, scale=args.scale, galaxies=galaxies)
            r["cpu_ms_per_source"] = round(1000 * r["cpu_s"] / r["sources"], 2)
            # what the full survey would take on 2 otherwise idle cores: its CPU time shared by the 2 workers
            r["full_survey_cpu_s_per_core"] = round(r["cpu_s"] / r["sources"] * full_sources / 2, 1)
            result[name] = r
            print(name, json.dumps(r), flush=True)
    if "baseline" in result:
        result["ratio_cpu"] = round(result["baseline"]["cpu_s"] / result["new"]["cpu_s"], 2)
        result["ratio_wall"] = round(result["baseline"]["wall_s"] / result["new"]["wall_s"], 2)
    res_dir.mkdir(parents=True, exist_ok=True)
    write_text(res_dir / f"{stem}.json", json.dumps(result, indent=1) + "\n")
    write_text(res_dir / f"{stem}.md", _markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
