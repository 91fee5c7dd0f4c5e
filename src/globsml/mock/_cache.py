"""The embedded default data set: the full-size mock, made once into the user cache."""

import os
import sys
from pathlib import Path

from .._errors import GlobsmlError
from ._survey import MARKER, make_mock_survey

__all__ = ["default_data_dir", "default_mock_path", "cache_dir", "generator_digest", "DEFAULT_SEED", "QUICK_SCALE"]

DEFAULT_SEED = 0

#: The default mock's scale for a quick look (``globsml benchmark --quick``):
#: half the sources of every galaxy. On 2 cores the full-size mock alone takes
#: about 3 minutes; at half size the quick benchmark, mock included, gives its
#: first result in about 3 (``benchmarks/results/readme_main_command.md``).
QUICK_SCALE = 0.5


def cache_dir():
    """The user cache directory of globsml (``GLOBSML_CACHE``, else pooch's OS cache)."""
    env = os.environ.get("GLOBSML_CACHE")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("globsml"))


def _default_scale(quick):
    """``GLOBSML_MOCK_SCALE`` when it is set (it always wins), else 1, or :data:`QUICK_SCALE` for ``quick``."""
    raw = os.environ.get("GLOBSML_MOCK_SCALE")
    if raw is None:
        return QUICK_SCALE if quick else 1.0
    try:
        scale = float(raw)
    except ValueError:
        raise GlobsmlError(f"GLOBSML_MOCK_SCALE={raw!r}: expected a number in (0, 1]") from None
    if not 0 < scale <= 1:
        raise GlobsmlError(f"GLOBSML_MOCK_SCALE={raw!r}: expected a number in (0, 1]")
    return scale


#: The packages whose code makes the mock: its physics constants live in
#: their modules, so a change there must not reuse a stale cached mock.
GENERATOR_PACKAGES = ("globsml.mock", "globsml.features")


def generator_digest():
    """Eight hex digits of sha256 over the globsml version and what makes the mock.

    That is the modules of :data:`GENERATOR_PACKAGES` and the mock's
    shipped calibration files (``mock/data``).
    """
    import hashlib
    from importlib import resources

    from .._version import __version__

    h = hashlib.sha256(__version__.encode())
    parts = [(pkg, resources.files(pkg), ".py") for pkg in GENERATOR_PACKAGES]
    parts.append(("data", resources.files(__package__).joinpath("data"), ""))
    for label, folder, suffix in parts:
        for name in sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(suffix)):
            h.update(f"{label}/{name}".encode())
            h.update(folder.joinpath(name).read_bytes())
    return h.hexdigest()[:8]


def default_mock_path(*, scale=1.0):
    """Where :func:`default_data_dir` keeps the default mock of ``scale``, whether it is made yet or not.

    ``<cache>/mock-seed0-scale<scale>-<digest>`` (:func:`cache_dir`,
    :func:`generator_digest`). A benchmark that must not take minutes to
    make the mock looks there first.

    Returns
    -------
    Path
    """
    return cache_dir() / f"mock-seed{DEFAULT_SEED}-scale{scale:g}-{generator_digest()}"


def default_data_dir(*, quick=False, progress=True):
    """The directory of the default data set: the mock survey, made on first use.

    The first call makes the full-size mock (seed 0) into
    :func:`default_mock_path`, ``<cache>/mock-seed0-scale1-<digest>`` (the digest
    is :func:`generator_digest`, so a new calibration, physics or release
    makes a new mock instead of reusing an old one) and says so on
    stderr; later calls reuse it. The environment variable
    ``GLOBSML_MOCK_SCALE``, when set, gives the scale of both the full-size
    and the quick mock (tests and CI use a small one).

    Parameters
    ----------
    quick : bool
        The mock for a quick look instead: every galaxy at
        :data:`QUICK_SCALE` of its sources (``mock-seed0-scale0.5-<digest>``).
    progress : bool
        Show a progress bar while the mock is made.

    Returns
    -------
    Path
    """
    scale = _default_scale(quick)
    path = default_mock_path(scale=scale)
    if not (path / MARKER).is_file():
        print(f"globsml: no data given; making the mock survey (scale {scale:g}) once into {path} "
              "(later runs reuse it)", file=sys.stderr)
        make_mock_survey(path, seed=DEFAULT_SEED, scale=scale, progress=progress)
    return path
