"""Sphinx configuration of the sklearn-rnn documentation.

Build with ``make -C docs html`` or ``sphinx-build -W -b html docs docs/_build/html``
(warnings are errors). The documented package is the installed one, so install
it first (``pip install -e .``).

Intersphinx links to Python, NumPy, SciPy and scikit-learn need their
inventories from the network. Sphinx cannot be told to ignore a failed
inventory download (the warning has no type for ``suppress_warnings``), and
``-W`` would turn it into an error. So the mapping is used only where the
network is expected: on Read the Docs (``READTHEDOCS=True``) or when
``SKLEARN_RNN_DOCS_INTERSPHINX=1``. ``SKLEARN_RNN_DOCS_INTERSPHINX=0`` turns it
off anywhere. Without the mapping, cross-references to those projects appear as
plain code text and raise no warning.

The API pages also document the methods inherited from scikit-learn
(``score``, ``get_params``, ``set_output``, the metadata-routing methods).
Their docstrings use scikit-learn's own labels and glossary terms
(``:ref:`metadata_routing```, ``:term:`meta-estimator```), which exist only in
scikit-learn's documentation.
``_sklearn_internal_ref_as_text`` renders those references as plain text, and
only in docstrings defined in scikit-learn. A broken reference in our own text
still fails the build.
"""

import os

import sklearn_rnn

# -- Project -----------------------------------------------------------------
project = "sklearn-rnn"
author = "The sklearn-rnn developers"
copyright = "The sklearn-rnn developers"
version = sklearn_rnn.__version__
release = sklearn_rnn.__version__

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# `single backticks` render as code, as in scikit-learn's docstrings, e.g.
# "ndarray of shape (`n_features_in_`,)".
default_role = "literal"

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
# The class template (_templates/class.rst, used by api.rst) documents the
# members; numpydoc must not add its own member tables on top.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Fail the build when a docstring's parameters do not match the signature
# (PR01: undocumented, PR02: unknown). This catches a section header that is
# read as a parameter.
numpydoc_validation_checks = {"PR01", "PR02"}

# -- intersphinx ---------------------------------------------------------------
_INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}


def _intersphinx_enabled():
    flag = os.environ.get("SKLEARN_RNN_DOCS_INTERSPHINX")
    if flag is not None:
        return flag.strip().lower() not in ("", "0", "false", "no")
    return os.environ.get("READTHEDOCS", "").lower() == "true"


intersphinx_mapping = _INTERSPHINX if _intersphinx_enabled() else {}
intersphinx_timeout = 10

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-rnn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}


# -- Hooks ---------------------------------------------------------------------
def _sklearn_internal_ref_as_text(app, env, node, contnode):
    """Render an unresolved label or term of a scikit-learn docstring as text.

    Returns the reference's own text node for a ``:ref:`` or ``:term:`` whose
    source is a docstring defined in scikit-learn. It returns None for every
    other reference, which Sphinx then reports as usual.
    """
    if node.get("refdomain") != "std" or node.get("reftype") not in ("ref", "term"):
        return None
    source = ""
    while node is not None and not source:  # the first ancestor with a source
        source = node.source or ""
        node = node.parent
    if "docstring of sklearn." in source:
        return contnode
    return None


def setup(app):
    # After intersphinx (priority 500), which resolves these links when its
    # mapping is enabled.
    app.connect("missing-reference", _sklearn_internal_ref_as_text, priority=900)
