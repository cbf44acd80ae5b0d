"""Every import of scikit-learn's private API goes through this module.

scikit-learn does not promise these names across releases; keeping them in
one place makes a breaking release a one-file fix. The minimum supported
version (``pyproject.toml``) is the first one where all of them exist.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_sample_weight,
    _check_y,
    validate_data,
)

__all__ = [
    "Interval",
    "StrOptions",
    "_check_feature_names",
    "_check_sample_weight",
    "_check_y",
    "_fit_context",
    "_safe_indexing",
    "validate_data",
]
