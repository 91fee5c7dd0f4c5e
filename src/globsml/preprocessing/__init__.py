"""Preprocessing as published: incomplete rows, median imputation, rescaling.

The published models see the 29 features after three steps:

1. training rows with NaN in a photometric feature are dropped
   (:func:`drop_incomplete`, :func:`complete_rows`);
2. NaN in the data to predict is replaced by the training median
   (:class:`TrainingMedianImputer`);
3. each feature is rescaled with its own scheme, fitted on the training
   data (:class:`FeatureRescaler`, :data:`PUBLISHED_SCHEMES`).

:func:`make_preprocessor` chains 2 and 3 into the pipeline that goes in
front of every tabular model.
"""

from ._missing import TrainingMedianImputer, complete_rows, drop_incomplete
from ._pipeline import make_preprocessor
from ._rescaling import SCHEMES, PUBLISHED_SCHEMES, FeatureRescaler

__all__ = [
    "SCHEMES",
    "PUBLISHED_SCHEMES",
    "FeatureRescaler",
    "TrainingMedianImputer",
    "complete_rows",
    "drop_incomplete",
    "make_preprocessor",
]
