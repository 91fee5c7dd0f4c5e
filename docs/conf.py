"""Sphinx configuration of the globsml documentation (built with warnings as errors by the tests)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import globsml  # noqa: E402

project = "globsml"
author = "globsml developers"
copyright = "globsml developers, Apache-2.0"
release = globsml.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "notebooks",  # docs/_ext/notebooks.py: examples/*.ipynb rendered into docs/notebooks/
]
exclude_patterns = ["_build", "examples", "_ext"]
root_doc = "index"

# numpydoc: no autosummary tables of class members (the classes document them), no cross-linking of
# every type word in the parameter lists (they are prose: "array-like of float").
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
autodoc_default_options = {"members": True, "imported-members": True}
autodoc_member_order = "bysource"
autodoc_mock_imports = []
intersphinx_mapping = {}  # the docs build offline: no inventories are fetched

html_theme = "alabaster"
html_static_path = []
html_title = f"globsml {release}"


def _skip_sklearn_routing(app, what, name, obj, skip, options):
    # scikit-learn adds set_*_request methods (metadata routing) to every estimator class; they are
    # scikit-learn's, documented there, and their docstrings point into scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_routing)
