"""The preprocessing in front of every tabular model."""

from sklearn.pipeline import Pipeline

from ._missing import TrainingMedianImputer
from ._rescaling import FeatureRescaler

__all__ = ["make_preprocessor"]


def make_preprocessor(schemes=None):
    """Median imputation (training medians) followed by the published rescaling.

    Parameters
    ----------
    schemes : dict of str to str, optional
        Rescaling scheme of each feature; defaults to
        :data:`~globsml.preprocessing.PUBLISHED_SCHEMES`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"impute"`` (:class:`TrainingMedianImputer`) and ``"rescale"``
        (:class:`FeatureRescaler`), with pandas output so that the model
        behind it sees named feature columns (and keeps the input's index).
        Dropping incomplete training rows is not a transformer's job (a
        transformer cannot drop rows of ``y``): call :func:`drop_incomplete`
        on the training data before fitting.
    """
    return Pipeline(
        [("impute", TrainingMedianImputer()), ("rescale", FeatureRescaler(schemes=schemes))]
    ).set_output(transform="pandas")
