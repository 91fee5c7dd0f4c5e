"""The published data format: tables, cut-outs, validation and download.

A data directory holds ``ACS_sources_original.csv`` (one row per source)
and ``ImageData/<galaxy>_images.fits`` (an (n, 2, 20, 20) array of g and z
cut-outs per galaxy, frame ``i`` = source ``ID == i``).
"""

from ._clusters import *  # noqa: F403
from ._cutouts import *  # noqa: F403
from ._dataset import *  # noqa: F403
from ._fetch import *  # noqa: F403
from ._registry import *  # noqa: F403
from ._schema import *  # noqa: F403
from ._validate import *  # noqa: F403
from . import _clusters, _cutouts, _dataset, _fetch, _registry, _schema, _validate

__all__ = [*_clusters.__all__, *_cutouts.__all__, *_dataset.__all__, *_registry.__all__, *_schema.__all__,
           *_validate.__all__, *_fetch.__all__]
