"""sklearn-rnn: recurrent neural networks as scikit-learn estimators.

The estimators take sequences as a 3-D array ``(n_samples, n_timesteps,
n_features)``, a 2-D array ``(n_samples, n_timesteps)`` of univariate
sequences, or a list of 2-D arrays ``(n_timesteps_i, n_features)`` of
different lengths. The forward pass and backpropagation through time run in
compiled Cython/OpenMP kernels.
"""

from . import __check_build  # noqa: F401  (readable error if not compiled)
from ._onnx import register_skl2onnx, to_onnx
from ._preprocessing import SequenceScaler
from ._recurrent import RNNClassifier, RNNRegressor, RNNTransformer
from ._show_versions import show_versions
from ._version import __version__

__all__ = [
    "RNNClassifier",
    "RNNRegressor",
    "RNNTransformer",
    "SequenceScaler",
    "__version__",
    "register_skl2onnx",
    "show_versions",
    "to_onnx",
]
