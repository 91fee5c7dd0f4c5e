"""Shared fixtures: the real data beside the checkout, tiny made-up data sets."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# One OpenMP thread per process, as ``globsml benchmark --threads 1``: the
# libraries' default (one thread per core) spins waiting for busy cores on a
# shared machine; the domain classifier's doctest took 403 s (63 s CPU) with
# it and 35 s (4.4 s CPU) without, on the same busy 2-core machine. Set before
# any library starts its OpenMP runtime; subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: The real published data (cut-outs, NGC1427a table, networks), when present.
SHARED = Path(os.environ.get("GLOBSML_SHARED", Path(__file__).resolve().parents[2] / "shared" / "gcdata"))


def pytest_collection_modifyitems(items):
    """Mark by fixture: tests that read the real data (``shared_data``) are ``shared``; tests
    on the small mock survey (``small_mock``, rendered once per session: half a minute and
    more) are ``slow``, so that ``-m "not slow"`` never renders it."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "shared_data" in fixtures:
            item.add_marker(pytest.mark.shared)
        if "small_mock" in fixtures:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def shared_data():
    """Path of ``../shared/gcdata``; skips the test when it is absent."""
    if not (SHARED / "ImageData").is_dir():
        pytest.skip("the real data (../shared/gcdata) is not here")
    return SHARED


@pytest.fixture(scope="session")
def small_mock(tmp_path_factory):
    """A small mock survey (``globsml mock --scale 0.02 --seed 0``), made once per test session."""
    from globsml.mock import make_mock_survey

    return make_mock_survey(tmp_path_factory.mktemp("mock") / "survey", seed=0, scale=0.02, progress=False)
