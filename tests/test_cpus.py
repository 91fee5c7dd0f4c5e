import os

import pytest

from globsml._cpus import usable_cpus
from globsml.experiments import _runner


def test_worker_count_follows_the_cores_this_process_may_use(monkeypatch):
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this system")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cpus() == 1
    assert _runner._n_jobs(None, 10) == 1
    assert _runner._n_jobs(4, 10) == 4 and _runner._n_jobs(4, 2) == 2
