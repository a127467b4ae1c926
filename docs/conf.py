"""Sphinx configuration of the miwae_impute documentation.

Built by ``make docs`` with warnings as errors. The build is offline: no
intersphinx inventories are fetched, so references to numpy, pandas,
scikit-learn, torch and Dask objects are written as plain text or ignored
below (``nitpick_ignore_regex``), and every reference into this package is
checked (``nitpicky``).
"""

import os
import sys
from pathlib import Path

import miwae_impute

ROOT = Path(__file__).resolve().parents[1]
# The gallery's examples import the benchmark helpers (benchmarks/ is not
# installed with the package); they also add ROOT themselves when run alone.
sys.path.insert(0, str(ROOT))

project = "miwae_impute"
author = "the miwae_impute developers"
copyright = "2026, the miwae_impute developers"  # noqa: A001
version = release = miwae_impute.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
default_role = "literal"
nitpicky = True
# Outside this package there is nothing to link to offline (no intersphinx).
nitpick_ignore_regex = [
    ("py:.*", r"(sklearn|numpy|np|pandas|pd|torch|dask|dask_ml|distributed)\..*"),
    # numpydoc links builtins and numpy's glossary (python:int, numpy:array_like)
    # through intersphinx, which an offline build does not have.
    ("py:.*", r"(python|numpy):.*"),
    ("ref", r"python:.*"),
    ("term", r"numpy:.*"),
    # Labels and terms of scikit-learn's own docs, in the docstrings of the
    # methods every imputer inherits from scikit-learn (get_params, set_output).
    ("ref", r"metadata_routing|df_output_transform|sphx_glr_auto_examples_.*"),
    ("term", r"meta-estimator"),
]

# -- autodoc / autosummary ---------------------------------------------------
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    # scikit-learn's metadata-routing methods: no use to an imputer's reader.
    "exclude-members": (
        "get_metadata_routing, set_fit_request, set_partial_fit_request, "
        "set_score_request, set_transform_request"
    ),
}
autodoc_typehints = "none"
# MathJax is loaded from a CDN when a page is read online; the equations are
# still readable as TeX source offline.

# -- numpydoc ----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Types stay plain text: linking them needs the intersphinx inventories of
# Python and numpy, which an offline build cannot fetch.
numpydoc_xref_param_type = False
# Every public docstring is validated; the build fails on a violation.
# Left out:
#   SA01 "See Also" missing: the imputers have one; functions need none.
#   EX01 "Examples" missing: the classes and functions have examples; methods
#        are shown in the gallery instead of a doctest each.
#   ES01 extended summary missing: short methods need none.
#   GL08 no docstring: attributes-as-properties and inherited dunder methods.
#   RT02 "the first line of Returns should contain only the type": the package
#        names its return values (``self : object``, ``X_imputed : ndarray``),
#        as scikit-learn does, which the numpydoc format allows.
numpydoc_validation_checks = {"all", "SA01", "EX01", "ES01", "GL08", "RT02"}
numpydoc_validation_exclude = {
    # scikit-learn's own methods, inherited by every imputer, with
    # scikit-learn's docstrings (checked by scikit-learn, not here).
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_output$",
    # Python's own methods of every exception (ModelFileError).
    r"\.add_note$",
    r"\.with_traceback$",
}


# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_example_data)\.py",
    # A failing example fails the build (sphinx-gallery's default, stated).
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    # Show DataFrames as tables, but not the repr of the last matplotlib call.
    "capture_repr": ("_repr_html_",),
    "show_memory": False,
    "min_reported_time": 0,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    # "Examples using ..." on each API page.
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("miwae_impute",),
    "inspect_global_variables": False,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"miwae_impute {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False

os.environ.setdefault("OMP_NUM_THREADS", "1")
