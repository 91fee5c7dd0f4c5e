"""Per-feature rescaling as in Dold & Fahrion 2022 (Sect. 3, globsML code)."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._errors import GlobsmlError
from ..data import FEATURES
from ._frames import as_feature_frame

__all__ = ["SCHEMES", "PUBLISHED_SCHEMES", "FeatureRescaler"]

#: Every rescaling scheme :class:`FeatureRescaler` knows, with what it does.
SCHEMES = {
    "norm": "standardise: (x - mean) / std (std with ddof=1, as pandas' .std())",
    "maxdiv": "divide by the maximum",
    "meandiv": "divide by the mean",
    "p90div": "divide by the 90th percentile",
    "p95div": "divide by the 95th percentile",
    "p99div": "divide by the 99th percentile",
    "none": "leave unchanged",
}

_PERCENTILES = {"p90div": 90.0, "p95div": 95.0, "p99div": 99.0}


def _both_bands(name, scheme):
    return {name: scheme, f"{name}_z": scheme}


#: The assignment of schemes to the 29 published features (a reconstruction,
#: see :class:`FeatureRescaler` for the reasons of each choice).
PUBLISHED_SCHEMES = {
    **_both_bands("area", "p95div"),
    **_both_bands("eccentricity", "none"),
    **_both_bands("orientation", "maxdiv"),
    **_both_bands("semimajor_sigma", "maxdiv"),
    **_both_bands("semiminor_sigma", "maxdiv"),
    **_both_bands("min_value", "p95div"),
    **_both_bands("max_value", "p99div"),
    **_both_bands("segment_flux", "p99div"),
    **{f: "norm" for f in ("m3_g", "m3_z", "m4_g", "m4_z", "m5_g", "m5_z")},
    **{f: "norm" for f in ("CI_g", "CI_z", "CI4_g", "CI4_z", "CI5_g", "CI5_z")},
    "colour": "norm",
}
# Keep the published feature order, so that the dict reads like the table.
PUBLISHED_SCHEMES = {f: PUBLISHED_SCHEMES[f] for f in FEATURES}


class FeatureRescaler(TransformerMixin, BaseEstimator):
    """Rescale each feature with its own scheme, fitted on training data only.

    Statistics (mean, standard deviation, maximum, percentiles) are learned
    by :meth:`fit` on the training data and reused unchanged by
    :meth:`transform`, so validation and test data are scaled with the
    training statistics. NaN values are ignored when fitting and stay NaN
    when transforming (impute them first, see :func:`make_preprocessor`).

    Parameters
    ----------
    schemes : dict of str to str, optional
        Scheme of each feature, one of :data:`SCHEMES`: ``"norm"``
        (standardise), ``"maxdiv"``, ``"meandiv"``, ``"p90div"``,
        ``"p95div"``, ``"p99div"`` (divide by that statistic) or ``"none"``.
        Defaults to :data:`PUBLISHED_SCHEMES`. Features of ``X`` that the
        dict does not name are an error; a dict given here may name
        features that ``X`` lacks (they are ignored).

    Attributes
    ----------
    feature_names_in_ : numpy.ndarray of str
        The columns seen in :meth:`fit`, in order.
    n_features_in_ : int
    schemes_ : dict of str to str
        The scheme used for each column.
    offset_ : numpy.ndarray
        Subtracted from each column (the mean for ``"norm"``, else 0).
    scale_ : numpy.ndarray
        The column is divided by this after subtracting the offset.

    Notes
    -----
    **The published assignment is a reconstruction.** The published code
    (``dodo47/GCDetection``) is not available here; :data:`PUBLISHED_SCHEMES`
    follows what the publication (Sect. 3) and its notebooks say about the
    groups of features, and fills in the rest by the same logic:

    - eccentricities: ``"none"`` — already dimensionless in [0, 1];
    - magnitudes (m3, m4, m5), concentration indices (CI, CI4, CI5) and the
      colour: ``"norm"`` — logarithmic, roughly Gaussian quantities with an
      arbitrary zero point, so standardising is the natural choice;
    - segment fluxes and maximum pixel values: ``"p99div"`` — positive and
      heavy-tailed over orders of magnitude (bright stars, galaxy nuclei);
      a high percentile is a scale that a handful of extreme sources cannot
      move, unlike the maximum, and it keeps the bulk of sources in [0, 1];
    - segment areas and minimum pixel values: ``"p95div"`` — positive and
      skewed but far less heavy-tailed than fluxes (the minimum pixel value
      of a segment sits near the detection threshold); the 95th percentile
      is the same idea at a less extreme quantile;
    - semi-major/minor axis sigmas: ``"maxdiv"`` — bounded by the
      segmentation (a few pixels), so the maximum is a stable scale;
    - orientations: ``"maxdiv"`` — angles in degrees in (-90, 90]; dividing
      by the maximum (about 90) maps them to about [-1, 1].

    ``"meandiv"`` and ``"p90div"`` are available for other assignments but
    the reconstruction does not use them.

    **Degenerate scales.** When a learned scale is zero or not finite (a
    constant column, a standard deviation from a single row, a column that
    is all NaN in the training data) it is replaced by 1, and a non-finite
    offset by 0, so that :meth:`transform` never produces inf or spurious
    NaN: such a column is only shifted (or left as it is). Negative scales
    (a maximum or mean below zero) are kept as they are.
    """

    def __init__(self, schemes=None):
        self.schemes = schemes

    def fit(self, X, y=None):
        """Learn the offset and scale of each column from training data.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Training features. An array must have the 29 published features
            in the published order (:data:`globsml.data.FEATURES`).
        y : ignored

        Returns
        -------
        self
        """
        frame = as_feature_frame(X, what="FeatureRescaler.fit")
        schemes = PUBLISHED_SCHEMES if self.schemes is None else dict(self.schemes)
        bad = {f: s for f, s in schemes.items() if s not in SCHEMES}
        if bad:
            feature, scheme = next(iter(bad.items()))
            raise GlobsmlError(
                f"rescaling scheme {scheme!r} of feature {feature!r} is unknown; "
                f"expected one of {', '.join(SCHEMES)}"
            )
        unknown = [c for c in frame.columns if c not in schemes]
        if unknown:
            raise GlobsmlError(
                f"no rescaling scheme for column(s) {', '.join(map(str, unknown))}; "
                "give one in `schemes` (e.g. 'none')"
            )
        values = frame.to_numpy(dtype=float)
        n = values.shape[1]
        offset = np.zeros(n)
        scale = np.ones(n)
        # All-NaN columns give NaN statistics; numpy warns about them, but the
        # guard below replaces them, so the warnings are noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for j, column in enumerate(frame.columns):
                scheme = schemes[column]
                col = values[:, j]
                if scheme == "norm":
                    offset[j] = np.nanmean(col)
                    scale[j] = np.nanstd(col, ddof=1) if np.isfinite(col).sum() > 1 else np.nan
                elif scheme == "maxdiv":
                    scale[j] = np.nanmax(col) if np.isfinite(col).any() else np.nan
                elif scheme == "meandiv":
                    scale[j] = np.nanmean(col)
                elif scheme in _PERCENTILES:
                    scale[j] = np.nanpercentile(col, _PERCENTILES[scheme])
        offset[~np.isfinite(offset)] = 0.0
        scale[~np.isfinite(scale) | (scale == 0)] = 1.0
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = n
        self.schemes_ = {c: schemes[c] for c in frame.columns}
        self.offset_ = offset
        self.scale_ = scale
        return self

    def transform(self, X):
        """Rescale ``X`` with the statistics learned in :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features)
            Float64 values, columns in the fitted order (a DataFrame with
            ``set_output(transform="pandas")``). ``X`` itself is not changed.
        """
        check_is_fitted(self, "scale_")
        frame = as_feature_frame(X, what="FeatureRescaler.transform",
                                 columns=list(self.feature_names_in_))
        return (frame.to_numpy(dtype=float) - self.offset_) / self.scale_

    def inverse_transform(self, X):
        """Undo :meth:`transform`."""
        check_is_fitted(self, "scale_")
        values = np.asarray(X, dtype=float)
        return values * self.scale_ + self.offset_

    def get_feature_names_out(self, input_features=None):
        """The output column names (the input names, unchanged)."""
        check_is_fitted(self, "feature_names_in_")
        return np.asarray(self.feature_names_in_, dtype=object)

