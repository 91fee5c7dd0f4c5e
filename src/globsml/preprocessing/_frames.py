"""Turning what a user passes into a DataFrame of named features."""

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from ..data import FEATURES


def as_feature_frame(X, *, what, columns=None):
    """``X`` as a DataFrame with named columns (no copy of a DataFrame).

    Parameters
    ----------
    X : pandas.DataFrame or array-like
        An array gets the names ``columns`` (or the 29 published
        :data:`~globsml.data.FEATURES` when ``columns`` is None) and must
        have that many columns.
    what : str
        Who asks, for error messages.
    columns : list of str, optional
        Columns that must be present (fitted names); the result holds
        exactly these, in this order.
    """
    if isinstance(X, pd.DataFrame):
        frame = X
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise GlobsmlError(
                    f"{what}: missing feature column(s) {', '.join(map(str, missing))} "
                    "that the transformer was fitted with"
                )
            if list(frame.columns) != list(columns):
                frame = frame.loc[:, list(columns)]
        non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_numeric:
            raise GlobsmlError(
                f"{what}: column(s) {', '.join(map(str, non_numeric))} are not numeric; "
                "pass only the feature columns"
            )
        return frame
    values = np.asarray(X, dtype=float)
    names = list(FEATURES) if columns is None else list(columns)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise GlobsmlError(
            f"{what}: expected a DataFrame or a 2-D array with {len(names)} columns "
            f"({', '.join(names[:3])}, ...), got shape {values.shape}"
        )
    return pd.DataFrame(values, columns=names)
