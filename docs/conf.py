"""Sphinx configuration: the kernel kit reference (issue 11).

Build (warnings are errors):  .venv/bin/sphinx-build -W -b html docs docs/_build/html
Needs the ``docs`` extra:     pip install -e ".[docs]"
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

project = "Symphony"
author = "Symphony developers"
copyright = "Symphony developers"
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# Only the pages of this reference; the other design notes in docs/ are read on GitHub.
include_patterns = [
    "index.rst",
    "kernels.rst",
    "kernels/*.rst",
    "embedding.rst",
    "testing.rst",
    "asv.md",
    "ring-format.md",
    "arena-format.md",
]
exclude_patterns = ["_build"]

myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# The specification twins import only the standard library and symphony itself.
nitpicky = False

html_theme = "furo"
html_title = "Symphony kernels"
