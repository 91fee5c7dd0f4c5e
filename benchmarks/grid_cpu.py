"""CPU seconds of each default model's fit and prediction on one split, in one process, one thread each.

Where the time of the published grid goes (issue 21, point 3): CPU seconds
(process time) do not count the other work of a shared machine, so they add
up to what the grid costs on free cores. Usage::

    PYTHONPATH=SRC python benchmarks/grid_cpu.py DATA_DIR [SETUP]

prints ``model (fit CPU s, predict CPU s)`` per model and the total.
"""

import sys
import time

from threadpoolctl import threadpool_limits

from globsml import load_dataset
from globsml.experiments import DEFAULT_MODELS
from globsml.experiments._fit import fit_on_split, model_inputs
from globsml.experiments._setups import setup_runs
from globsml.models import reusing_fits


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ds = load_dataset(argv[0])
    features = ds.features()
    setup = argv[1] if len(argv) > 1 else "all2all"
    _, split = next(iter(setup_runs(setup, ds, seeds=1)))
    print(setup, "train", len(split.train), "test", len(split.test), flush=True)
    out = {}
    with reusing_fits():  # as the benchmark: calibrated-forest reuses the forest's fit
        for name in DEFAULT_MODELS:
            with threadpool_limits(limits=1):
                c0 = time.process_time()
                model, _ = fit_on_split(name, ds, split, features=features)
                c1 = time.process_time()
                model.predict_proba(model_inputs(ds, "features", split.test, features))
                c2 = time.process_time()
            out[name] = (round(c1 - c0, 2), round(c2 - c1, 2))
            print(name, out[name], flush=True)
    print("total cpu", round(sum(a + b for a, b in out.values()), 1))


if __name__ == "__main__":
    main()
