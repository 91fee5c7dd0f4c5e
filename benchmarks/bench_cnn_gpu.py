"""The CNN on a GPU (issue 21, point 4): an epoch, throughput, and the CPU's numbers.

On a machine with a GPU this records, for the published CNN (``GCCNNClassifier``):

- a training epoch on the full-size mock (84,929 cut-outs, batches of 500, flips);
- single-pass (deterministic) and 200-pass (MC dropout) prediction throughput;
- that the GPU gives the CPU's numbers within float tolerance: the same weights
  predicting on both devices (one pass and 200 MC-dropout passes, whose masks are
  drawn on the CPU from the same seed), and a network trained on each device from
  the same seed (the shuffling and flips come from the same CPU generator; the
  summation order differs, so the two networks differ by rounding that training
  carries along).

Usage::

    python benchmarks/bench_cnn_gpu.py [--device cuda] [--data DIR] [--tag NAME]

``--device cpu`` runs the same steps on the CPU (a check of the script where
there is no GPU; the comparisons are then CPU against CPU). Without ``--data``
the full-size mock of the user cache is used when it is there, else a synthetic
array of its size (``bench_cnn.py``'s): the timings need no real labels, and the
comparisons hold on any data. Writes ``benchmarks/results/bench_cnn_gpu[_TAG].json``
and ``.md``.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cnn import N_FULL, _cutouts  # noqa: E402

#: Largest difference of p_gc allowed between the devices for the same weights.
SAME_WEIGHTS_TOLERANCE = 1e-5


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_epoch(images, labels, device, *, n, batch_size=500):
    """Seconds of one training epoch on ``n`` cut-outs, extrapolated to the full mock."""
    from globsml.models import _cnn, _torch

    x = _cnn.clean_cutouts(images[:n], 0.0)
    y = torch.from_numpy(labels[:n].astype(np.float32))
    net = _cnn.CNNNet()
    _sync(device)
    t0 = time.perf_counter()
    _torch.train_binary(net, x, y, epochs=1, batch_size=batch_size, lr=1e-3, weight_decay=1e-5,
                        gen=_torch.generator(0), augment=_cnn.flip_augment, device=device)
    _sync(device)
    seconds = time.perf_counter() - t0
    return {"samples": n, "seconds": round(seconds, 2), "samples_per_s": round(n / seconds, 1),
            "epoch_s_full_mock": round(seconds * N_FULL / n, 2)}


def _estimator(device, network, **params):
    from globsml.models import GCCNNClassifier

    est = GCCNNClassifier(random_state=0, device=str(device), **params)
    est.network_, est.classes_ = network, np.array([0, 1])
    return est


def time_prediction(images, device, *, n, repeats=3):
    """Cut-outs per second, one deterministic pass and 200 MC-dropout passes."""
    from globsml.models import CNNNet

    torch.manual_seed(0)
    network = CNNNet().eval()
    x = images[:n]
    out = {}
    for passes, reps in ((1, repeats), (200, 1)):
        est = _estimator(device, network, mc_passes=passes, batch_size_predict=8192)
        est.predict_proba(x[:1000])  # warm-up: kernels, transfers
        best = np.inf
        for _ in range(reps):
            _sync(device)
            t0 = time.perf_counter()
            est.predict_proba(x)
            _sync(device)
            best = min(best, time.perf_counter() - t0)
        out[f"cutouts_per_s_{passes}_pass{'es' if passes > 1 else ''}"] = round(n / best, 1)
    return out


def same_numbers(images, labels, device, *, n_train=8000, n_test=4000, epochs=2):
    """How far the device's p_gc is from the CPU's: same weights, and trained from the same seed."""
    from globsml.models import CNNNet, GCCNNClassifier

    cpu = torch.device("cpu")
    x_test = images[n_train:n_train + n_test]
    torch.manual_seed(0)
    network = CNNNet().eval()
    same = {}
    for passes in (1, 200):
        p_cpu = _estimator(cpu, network, mc_passes=passes).predict_proba(x_test)[:, 1]
        p_dev = _estimator(device, network, mc_passes=passes).predict_proba(x_test)[:, 1]
        same[f"{passes}_pass{'es' if passes > 1 else ''}_max_abs_diff"] = float(np.max(np.abs(p_cpu - p_dev)))
    trained = {}
    for name, dev in (("cpu", cpu), ("device", device)):
        est = GCCNNClassifier(epochs=epochs, random_state=0, device=str(dev), mc_passes=1)
        est.fit(images[:n_train], labels[:n_train])
        trained[name] = est.set_params(device="cpu").predict_proba(x_test)[:, 1]
    diff = np.abs(trained["cpu"] - trained["device"])
    return {
        "same_weights": same,
        "same_weights_tolerance": SAME_WEIGHTS_TOLERANCE,
        "same_weights_met": all(v <= SAME_WEIGHTS_TOLERANCE for v in same.values()),
        "trained_from_the_same_seed": {
            "train_cutouts": n_train, "test_cutouts": len(x_test), "epochs": epochs,
            "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()),
            "same_decision_share": float(np.mean((trained["cpu"] > 0.5) == (trained["device"] > 0.5)))},
    }


def _markdown(r):
    t, p, s = r["training"], r["prediction"], r["same_numbers"]
    tr = s["trained_from_the_same_seed"]
    return "\n".join([
        "# The CNN on a GPU (issue 21, point 4)", "",
        f"Command: `{r['command']}`", "",
        f"Device: {r['device_name']} ({r['device']}); torch {r['torch']}; data: {r['data']['kind']} "
        f"({r['data']['n']} cut-outs).", "",
        "| figure | value |", "|---|---|",
        f"| training epoch, full mock ({N_FULL} cut-outs, batches of 500) | {t['epoch_s_full_mock']} s "
        f"({t['samples_per_s']} cut-outs/s) |",
        f"| prediction, one pass | {p['cutouts_per_s_1_pass']} cut-outs/s |",
        f"| prediction, 200 MC-dropout passes | {p['cutouts_per_s_200_passes']} cut-outs/s |",
        f"| same weights, largest p_gc difference to the CPU (1 / 200 passes) | "
        f"{s['same_weights']['1_pass_max_abs_diff']:.1e} / {s['same_weights']['200_passes_max_abs_diff']:.1e} "
        f"(tolerance {s['same_weights_tolerance']:.0e}: {'met' if s['same_weights_met'] else 'NOT met'}) |",
        f"| trained from the same seed ({tr['epochs']} epochs on {tr['train_cutouts']} cut-outs), p_gc on "
        f"{tr['test_cutouts']} others | largest difference {tr['max_abs_diff']:.1e}, mean {tr['mean_abs_diff']:.1e}, "
        f"same decision for {tr['same_decision_share']:.2%} |",
        ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device (default: cuda)")
    parser.add_argument("--data", help="a data directory with cut-outs (default: the cached full mock)")
    parser.add_argument("--epoch-n", type=int, default=None, help="cut-outs of the timed epoch (default: all)")
    parser.add_argument("--predict-n", type=int, default=20_000, help="cut-outs for the throughput runs")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args(argv)

    from globsml import GlobsmlError
    from globsml.models import _torch

    try:
        device = _torch.torch_device(args.device)
    except GlobsmlError as exc:
        sys.exit(f"bench_cnn_gpu: {exc}")
    images, labels, data = _cutouts(args.data)
    if labels is None:
        sys.exit(f"bench_cnn_gpu: {data['data']} has no labels; give a labelled data directory")
    n = len(images) if args.epoch_n is None else min(args.epoch_n, len(images))
    print(f"device {device}; data: {data['kind']} ({data['n']} cut-outs)", flush=True)
    result = {
        "benchmark": "cnn on a GPU", "command": "python " + " ".join(
            [str(Path(__file__).relative_to(ROOT))] + list(argv if argv is not None else sys.argv[1:])),
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "torch": torch.__version__, "data": data,
    }
    result["training"] = time_epoch(images, labels, device, n=n)
    print("epoch:", result["training"], flush=True)
    result["prediction"] = time_prediction(images, device, n=min(args.predict_n, len(images)))
    print("prediction:", result["prediction"], flush=True)
    result["same_numbers"] = same_numbers(images, labels, device)
    print("same numbers:", result["same_numbers"], flush=True)
    stem = ROOT / "benchmarks" / "results" / ("bench_cnn_gpu" + (f"_{args.tag}" if args.tag else ""))
    write_text(stem.with_suffix(".json"), json.dumps(result, indent=1) + "\n")
    write_text(stem.with_suffix(".md"), _markdown(result))
    print(_markdown(result))
    return 0 if result["same_numbers"]["same_weights_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
