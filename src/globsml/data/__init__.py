"""The published data format: tables, cut-outs, validation and download.

A data directory holds ``ACS_sources_original.csv`` (one row per source)
and ``ImageData/<galaxy>_images.fits`` (an (n, 2, 20, 20) array of g and z
cut-outs per galaxy, frame ``i`` = source ``ID == i``).

The schema's details that only validation needs (column classes, the
index column) and the checksums of fetching stay in the private modules
(``globsml.data._schema``, ``._cutouts``, ``._fetch``).
"""

from ._clusters import CLUSTERS, cluster_of
from ._counts import read_galaxy_counts
from ._cutouts import read_cutouts, cutout_count, write_cutouts, image_files
from ._dataset import GCDataset, load_dataset, read_table, locate
from ._fetch import (
    PUBLISHED_REPOSITORY, PUBLISHED_COMMIT, DEFAULT_BASE_URL, ManifestEntry, FetchResult, FetchError,
    published_manifest, fetch,
)
from ._registry import published_galaxies, published_results, PUBLISHED_TOTALS, PUBLICATION
from ._schema import (
    TABLE_FILENAME, IMAGE_DIRNAME, IMAGE_SUFFIX, CUTOUT_SHAPE, BANDS, SEGMENTATION_COLUMNS,
    FEATURE_TABLE_COLUMNS, LABEL_COLUMNS, PUBLISHED_COLUMNS, FEATURES, PHOTOMETRIC_FEATURES, GC_THRESHOLD,
    ZERO_POINTS, EXTINCTION_COEFFICIENTS, PIXEL_SCALE_ARCSEC,
)
from ._validate import ValidationReport, validate

__all__ = [
    "CLUSTERS",
    "cluster_of",
    "read_cutouts",
    "cutout_count",
    "write_cutouts",
    "image_files",
    "GCDataset",
    "load_dataset",
    "read_table",
    "locate",
    "published_galaxies",
    "read_galaxy_counts",
    "published_results",
    "PUBLICATION",
    "PUBLISHED_TOTALS",
    "TABLE_FILENAME",
    "IMAGE_DIRNAME",
    "IMAGE_SUFFIX",
    "CUTOUT_SHAPE",
    "BANDS",
    "SEGMENTATION_COLUMNS",
    "FEATURE_TABLE_COLUMNS",
    "LABEL_COLUMNS",
    "PUBLISHED_COLUMNS",
    "FEATURES",
    "PHOTOMETRIC_FEATURES",
    "GC_THRESHOLD",
    "ZERO_POINTS",
    "EXTINCTION_COEFFICIENTS",
    "PIXEL_SCALE_ARCSEC",
    "ValidationReport",
    "validate",
    "PUBLISHED_REPOSITORY",
    "PUBLISHED_COMMIT",
    "DEFAULT_BASE_URL",
    "ManifestEntry",
    "FetchResult",
    "FetchError",
    "published_manifest",
    "fetch",
]
