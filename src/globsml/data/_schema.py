"""The published table schema (Dold & Fahrion 2022, ``ACS_sources_original.csv``).

Column names are the published ones (photutils 1.x names such as
``xcentroid``), whatever photutils version computes them.
"""

__all__ = [
    "TABLE_FILENAME",
    "IMAGE_DIRNAME",
    "IMAGE_SUFFIX",
    "CUTOUT_SHAPE",
    "BANDS",
    "INDEX_COLUMN",
    "SEGMENTATION_COLUMNS",
    "FEATURE_TABLE_COLUMNS",
    "LABEL_COLUMNS",
    "PUBLISHED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "FEATURES",
    "PHOTOMETRIC_FEATURES",
    "INTEGER_COLUMNS",
    "STRING_COLUMNS",
    "NON_NULL_COLUMNS",
    "GC_THRESHOLD",
    "ZERO_POINTS",
    "EXTINCTION_COEFFICIENTS",
    "PIXEL_SCALE_ARCSEC",
]

TABLE_FILENAME = "ACS_sources_original.csv"
IMAGE_DIRNAME = "ImageData"
IMAGE_SUFFIX = "_images.fits"
#: (bands, y, x) of one source's cut-out; band 0 is F475W (g), band 1 F850LP (z).
CUTOUT_SHAPE = (2, 20, 20)
BANDS = ("g", "z")
PIXEL_SCALE_ARCSEC = 0.05

#: pandas writes the index without a name; read back it is called this.
INDEX_COLUMN = "Unnamed: 0"

#: photutils SourceCatalog columns of one band, published (photutils 1.x) names.
SEGMENTATION_COLUMNS = (
    "label",
    "xcentroid",
    "ycentroid",
    "area",
    "semimajor_sigma",
    "semiminor_sigma",
    "orientation",
    "eccentricity",
    "min_value",
    "max_value",
    "segment_flux",
    "kron_flux",
)

#: Every column of a feature table, in the published order (the schema of
#: ``NGC1427a/NGC1427a_sources.csv``, i.e. the published table less its labels).
FEATURE_TABLE_COLUMNS = (
    "ID",
    "galaxy",
    "label",
    "xcentroid",
    "ycentroid",
    "sky_centroid.ra",
    "sky_centroid.dec",
    *SEGMENTATION_COLUMNS[3:],
    *(f"{c}_z" for c in SEGMENTATION_COLUMNS),
    "CI5_g",
    "CI5_z",
    "m5_g",
    "m5_z",
    "CI4_g",
    "CI4_z",
    "m4_g",
    "m4_z",
    "CI_g",
    "CI_z",
    "m3_g",
    "m3_z",
    "fwhm",
    "e_fwhm",
    "colour",
)

#: Columns that come from the GC catalogue cross-match (labelled tables only).
LABEL_COLUMNS = ("HST_ID", "pGC", "matched", "cluster")

#: The labelled published table, in order (after the unnamed index column).
PUBLISHED_COLUMNS = (
    *FEATURE_TABLE_COLUMNS[: FEATURE_TABLE_COLUMNS.index("CI5_g")],
    "HST_ID",
    "pGC",
    "matched",
    *FEATURE_TABLE_COLUMNS[FEATURE_TABLE_COLUMNS.index("CI5_g") :],
    "cluster",
)

#: Columns the published documentation lists that not every file carries.
OPTIONAL_COLUMNS = (INDEX_COLUMN, "sky_centroid.ra_z", "sky_centroid.dec_z")

#: The 29 features the published models use, in the published order.
FEATURES = (
    "area",
    "area_z",
    "eccentricity",
    "eccentricity_z",
    "orientation",
    "orientation_z",
    "semimajor_sigma",
    "semimajor_sigma_z",
    "semiminor_sigma",
    "semiminor_sigma_z",
    "min_value",
    "min_value_z",
    "max_value",
    "max_value_z",
    "segment_flux",
    "segment_flux_z",
    "m3_g",
    "m3_z",
    "m4_g",
    "m4_z",
    "m5_g",
    "m5_z",
    "CI_g",
    "CI_z",
    "CI4_g",
    "CI4_z",
    "CI5_g",
    "CI5_z",
    "colour",
)

#: Features whose NaN rows the published preprocessing drops from training
#: (logarithms of non-positive aperture fluxes).
PHOTOMETRIC_FEATURES = (
    "CI_g", "CI_z", "CI4_g", "CI4_z", "CI5_g", "CI5_z",
    "m3_g", "m3_z", "m4_g", "m4_z", "m5_g", "m5_z", "colour",
)

INTEGER_COLUMNS = ("ID", "label", "label_z")
STRING_COLUMNS = ("galaxy", "cluster")

#: Columns that must never be NaN; every other numeric column may be NaN
#: (magnitudes of non-positive fluxes, unmatched catalogue IDs) but never inf.
NON_NULL_COLUMNS = (
    "ID", "galaxy", "label", "xcentroid", "ycentroid", "area",
    "label_z", "xcentroid_z", "ycentroid_z", "area_z", "pGC", "matched", "cluster",
)

#: A source is a GC when the catalogue probability pGC is at least this.
GC_THRESHOLD = 0.5

#: AB zero points of ACS/WFC F475W (g) and F850LP (z) as published.
ZERO_POINTS = {"g": 26.068, "z": 24.871}
#: Galactic extinction A_band = coefficient * E(B-V).
EXTINCTION_COEFFICIENTS = {"g": 3.634, "z": 1.485}
