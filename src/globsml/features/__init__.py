"""Feature extraction: the published photometric and morphological features.

Fast, vectorised versions of what the published pipeline did with
photutils: circular-aperture photometry of many sources at once,
magnitudes and concentration indices, the segmentation morphology of
the source at the centre of each cut-out (:func:`cutout_features`), and
the full-frame path from a pair of HST images to a table and cut-outs
(:func:`extract_sources`).
"""

from ._cutouts import cutout_features, directory_features
from ._frames import extract_sources, make_cutouts, read_frame, FRAME_DEFAULTS
from ._fwhm import gaussian_fwhm
from ._photometry import (
    APERTURE_RADII, aperture_photometry, circular_overlap, correct_extinction, magnitudes,
    photometric_columns,
)
from ._segmentation import background_stats, segment_properties, moment_properties, DETECTION_DEFAULTS

__all__ = [
    "cutout_features",
    "directory_features",
    "extract_sources",
    "make_cutouts",
    "read_frame",
    "FRAME_DEFAULTS",
    "gaussian_fwhm",
    "APERTURE_RADII",
    "aperture_photometry",
    "circular_overlap",
    "correct_extinction",
    "magnitudes",
    "photometric_columns",
    "background_stats",
    "segment_properties",
    "moment_properties",
    "DETECTION_DEFAULTS",
]
