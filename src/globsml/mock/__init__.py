"""The mock survey: the published data set's shape, rendered from physics.

141 galaxies of Virgo and Fornax with the published numbers of sources
and GCs; GCs as PSF-convolved King profiles, foreground stars and
background galaxies as contaminants, neighbours and blends, host light
and its noise, regions off the detector; labels as noisy as the real
catalogue's; the table measured on the cut-outs. Calibrated on the real
cut-outs (:mod:`globsml.mock._calibration`). Sources are detected on
their rendered cut-outs, and a realism critic trained on real against
rendered cut-outs picks, out of several times more rendered sources than
the survey needs, those most like real ones (:mod:`globsml.mock._critic`).
It is the project's embedded default data set (:func:`default_data_dir`).
"""

from ._cache import default_data_dir, default_mock_path, cache_dir, generator_digest, DEFAULT_SEED, QUICK_SCALE
from ._survey import make_mock_survey, survey_counts, make_galaxy, MARKER

__all__ = [
    "make_mock_survey",
    "survey_counts",
    "make_galaxy",
    "MARKER",
    "default_data_dir",
    "default_mock_path",
    "cache_dir",
    "generator_digest",
    "DEFAULT_SEED",
    "QUICK_SCALE",
]
