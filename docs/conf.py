"""Sphinx configuration of the hwsnn documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (the test
``tests/docs/test_docs_build.py`` runs the same build with warnings as errors).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwsnn import __version__  # noqa: E402

project = "hwsnn"
author = "hwsnn contributors"
copyright = "hwsnn contributors"  # noqa: A001
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
smartquotes = False  # keep "--flag" and quotes in option descriptions literal
exclude_patterns = ["_build", "**/_build"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# numpy-style docstrings
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}

# Napoleon turns the port types of the Amaranth components ("In(X_BITS)") into cross-references;
# a parameter name shared by two units (X_BITS) is then ambiguous.  Ambiguity is the only warning
# of this subtype; unresolved references are not reported at all (nitpicky is off).
suppress_warnings = ["ref.python"]

html_theme = "alabaster"
html_title = f"hwsnn {release}"
html_static_path: list[str] = []
