"""Feature extraction: the published photometric and morphological features.

Fast, vectorised versions of what the published pipeline did with
photutils: circular-aperture photometry of many sources at once,
magnitudes and concentration indices, the segmentation morphology of
the source at the centre of each cut-out (:func:`cutout_features`), and
the full-frame path from a pair of HST images to a table and cut-outs
(:func:`extract_sources`).
"""

from ._cutouts import *  # noqa: F403
from ._frames import *  # noqa: F403
from ._fwhm import *  # noqa: F403
from ._photometry import *  # noqa: F403
from ._segmentation import *  # noqa: F403
from . import _cutouts, _frames, _fwhm, _photometry, _segmentation

__all__ = [*_cutouts.__all__, *_frames.__all__, *_fwhm.__all__, *_photometry.__all__, *_segmentation.__all__]
