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

from . import _missing, _pipeline, _rescaling
from ._missing import *  # noqa: F403
from ._pipeline import *  # noqa: F403
from ._rescaling import *  # noqa: F403

__all__ = [*_rescaling.__all__, *_missing.__all__, *_pipeline.__all__]
