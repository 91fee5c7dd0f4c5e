"""globsml: find extragalactic globular clusters in HST images with machine learning.

A rebuild of Dold & Fahrion 2022 (A&A 663, A81). Read the package like a
table of contents: :mod:`globsml.data` (the published format),
:mod:`globsml.features`, :mod:`globsml.mock`, :mod:`globsml.models`,
:mod:`globsml.evaluation`, :mod:`globsml.experiments`,
:mod:`globsml.explain` and :mod:`globsml.cli`.
"""

from ._errors import DataFormatError, GlobsmlError
from ._version import __version__
from .data import GCDataset, load_dataset

__all__ = ["__version__", "GlobsmlError", "DataFormatError", "GCDataset", "load_dataset"]

__citation__ = """@article{DoldFahrion2022,
  author  = {Dold, Dominik and Fahrion, Katja},
  title   = {Evaluating the feasibility of interpretable machine learning for globular cluster detection},
  journal = {Astronomy \\& Astrophysics},
  volume  = {663},
  pages   = {A81},
  year    = {2022},
}"""
