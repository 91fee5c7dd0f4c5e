"""Missing values as the published preprocessing treats them.

Rows with NaN in a photometric feature (the logarithm of a non-positive
aperture flux) are dropped from the training data; NaN in data to be
predicted is replaced by the median of the training data.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._errors import GlobsmlError
from ..data import PHOTOMETRIC_FEATURES
from ._frames import as_feature_frame

__all__ = ["TrainingMedianImputer", "complete_rows", "drop_incomplete"]


class TrainingMedianImputer(TransformerMixin, BaseEstimator):
    """Replace missing values by the median of each column in the training data.

    Non-finite values (NaN, +inf, -inf) count as missing, both when
    learning the medians and when replacing. Unlike
    ``sklearn.impute.SimpleImputer`` it never drops a column, and it writes
    with a real assignment (the published code's chained assignment
    ``df[col][mask] = median`` does nothing under pandas 3 copy-on-write);
    the input is never modified in place.

    Attributes
    ----------
    feature_names_in_ : numpy.ndarray of str
    n_features_in_ : int
    medians_ : numpy.ndarray
        Training median of each column.
    """

    def fit(self, X, y=None):
        """Learn the median of each column (missing values ignored).

        Raises
        ------
        GlobsmlError
            If a column has no finite value in the training data (there is
            no median to impute with).
        """
        frame = as_feature_frame(X, what="TrainingMedianImputer.fit")
        values = frame.to_numpy(dtype=float, copy=True)
        values[~np.isfinite(values)] = np.nan
        empty = [c for c, ok in zip(frame.columns, np.isfinite(values).any(axis=0)) if not ok]
        if empty:
            raise GlobsmlError(
                f"column(s) {', '.join(map(str, empty))} have no finite value in the training "
                f"data ({len(frame)} rows): no median to impute missing values with"
            )
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = values.shape[1]
        self.medians_ = np.nanmedian(values, axis=0)
        return self

    def transform(self, X):
        """A copy of ``X`` with every missing value replaced by its training median.

        Returns
        -------
        numpy.ndarray
            Float64 values in the fitted column order (a DataFrame with
            ``set_output(transform="pandas")``).
        """
        check_is_fitted(self, "medians_")
        frame = as_feature_frame(X, what="TrainingMedianImputer.transform",
                                 columns=list(self.feature_names_in_))
        values = frame.to_numpy(dtype=float, copy=True)
        missing = ~np.isfinite(values)
        values[missing] = np.broadcast_to(self.medians_, values.shape)[missing]
        return values

    def get_feature_names_out(self, input_features=None):
        """The output column names (the input names, unchanged)."""
        check_is_fitted(self, "feature_names_in_")
        return np.asarray(self.feature_names_in_, dtype=object)


def complete_rows(X, *, columns=PHOTOMETRIC_FEATURES):
    """Which rows have a finite value in every photometric feature.

    Parameters
    ----------
    X : pandas.DataFrame
        Must hold ``columns``.
    columns : sequence of str, optional
        Defaults to :data:`globsml.data.PHOTOMETRIC_FEATURES` (CI, CI4,
        CI5, m3, m4, m5 in both bands and the colour): the columns whose NaN
        rows the published code drops from the training data.

    Returns
    -------
    numpy.ndarray of bool
        True for rows to keep.
    """
    if not isinstance(X, pd.DataFrame):
        raise GlobsmlError(
            f"complete_rows: expected a DataFrame with columns {', '.join(columns)}, "
            f"got {type(X).__name__}"
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise GlobsmlError(f"complete_rows: missing column(s) {', '.join(missing)}")
    values = X.loc[:, list(columns)].to_numpy(dtype=float)
    return np.isfinite(values).all(axis=1)


def drop_incomplete(X, y=None, *more, columns=PHOTOMETRIC_FEATURES):
    """Drop the rows of ``X`` (and the matching rows of ``y`` and ``more``) with
    NaN in a photometric feature, as the published code does before training.

    Parameters
    ----------
    X : pandas.DataFrame
    y, *more : array-like, optional
        Row-aligned with ``X`` (arrays, Series, DataFrames; same length).
    columns : sequence of str, optional
        See :func:`complete_rows`.

    Returns
    -------
    X_kept : pandas.DataFrame
        When only ``X`` is given; its index is kept (not reset), so kept rows
        can be traced back.
    (X_kept, y_kept, *more_kept) : tuple
        When ``y`` (or more) is given; pandas objects keep their index,
        numpy arrays are indexed by the mask, None stays None.
    """
    mask = complete_rows(X, columns=columns)
    if y is None and not more:
        return X[mask]
    out = [X[mask]]
    for i, arg in enumerate((y, *more)):
        if arg is None:
            out.append(None)
            continue
        if len(arg) != len(mask):
            raise GlobsmlError(
                f"drop_incomplete: argument {i + 2} has {len(arg)} rows, X has {len(mask)}"
            )
        if isinstance(arg, (pd.Series, pd.DataFrame)):
            out.append(arg[mask])
        else:
            out.append(np.asarray(arg)[mask])
    return tuple(out)
