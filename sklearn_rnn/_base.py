"""NumPy reference pieces of the network: output activations and losses.

The recurrent layers run in the compiled kernels. In training the dense
output layer, its loss and the loss's gradient run in one compiled call
(``_kernels._output_fast.dense_loss_grad``; ``RNNTransformer`` scores its
validation split with the same compiled loss); the losses here are the
NumPy references they are tested against. ``predict_proba``'s
softmax is compiled too (``softmax``); ``softmax_rows`` and
``log_softmax_rows`` stay the references. Losses are computed from the raw
outputs (logits), which is exact and stable where ``log(probability)``
would underflow. Registries use the same names as the estimators'
``out_activation_`` and loss attributes.
"""

import numpy as np
from scipy.special import expit

from ._kernels._output_fast import softmax_rows_inplace


def identity(Z):
    """Identity output activation."""
    return Z


def logistic(Z):
    """Logistic sigmoid, one independent probability per output."""
    return expit(Z)


def softmax_rows(Z):
    """Softmax over the last axis."""
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    E /= E.sum(axis=-1, keepdims=True)
    return E


def log_softmax_rows(Z):
    """Log-softmax over the last axis, without overflow or underflow.

    (SciPy's ``log_softmax`` costs ~100 us a call in array-API dispatch on
    the small (batch, n_classes) arrays here, 20x this.)
    """
    S = Z - Z.max(axis=-1, keepdims=True)
    S -= np.log(np.exp(S).sum(axis=-1, keepdims=True))
    return S


def softmax(Z):
    """Softmax output activation: the compiled pass over each row (1.6 us
    against ``softmax_rows``' 6.5 for one sequence's logits). Overwrites
    ``Z`` when it is C-contiguous: the logits are not used again."""
    P = np.ascontiguousarray(Z)
    softmax_rows_inplace(P)
    return P


OUT_ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "softmax": softmax,
}


def _row_weights(n_rows, sample_weight, dtype):
    """Per-row weights summing to one (plain mean when no weights)."""
    if sample_weight is None:
        return np.full(n_rows, 1.0 / n_rows, dtype=dtype)
    total = sample_weight.sum()
    if total <= 0:
        # A mini-batch of zero-weight samples contributes nothing.
        return np.zeros(n_rows, dtype=dtype)
    return (sample_weight / total).astype(dtype, copy=False)


def squared_error(Z, Y, sample_weight=None):
    """Half the mean squared error, averaged over outputs (as MLPRegressor).

    Returns the loss and its gradient with respect to ``Z``.
    """
    w = _row_weights(Z.shape[0], sample_weight, Z.dtype)
    diff = Z - Y
    loss = 0.5 * float(w @ (diff * diff).mean(axis=1))
    grad = diff * (w[:, None] / Z.shape[1])
    return loss, grad


def log_loss(Z, Y, sample_weight=None):
    """Softmax cross-entropy for one-hot ``Y``, from logits ``Z``.

    The loss is ``-sum_i w_i sum_j Y_ij log_softmax(Z_i)_j`` and the gradient
    ``(softmax(Z) - Y) * w[:, None]``.
    """
    w = _row_weights(Z.shape[0], sample_weight, Z.dtype)
    logp = log_softmax_rows(Z)
    loss = -float(w @ (Y * logp).sum(axis=1))
    grad = (np.exp(logp) - Y) * w[:, None]
    return loss, grad


def binary_log_loss(Z, Y, sample_weight=None):
    """Independent logistic losses summed over outputs, from logits ``Z``."""
    w = _row_weights(Z.shape[0], sample_weight, Z.dtype)
    # log(1 + exp(z)) - y z, computed without overflow.
    per_row = (np.logaddexp(0, Z) - Y * Z).sum(axis=1)
    loss = float(w @ per_row)
    grad = (expit(Z) - Y) * w[:, None]
    return loss, grad


LOSS_FUNCTIONS = {
    "squared_error": squared_error,
    "log_loss": log_loss,
    "binary_log_loss": binary_log_loss,
}

# Output activation that goes with each loss.
LOSS_ACTIVATION = {
    "squared_error": "identity",
    "log_loss": "softmax",
    "binary_log_loss": "logistic",
}


def log_probabilities(Z, out_activation):
    """Log of the output probabilities, from logits, without underflow."""
    if out_activation == "softmax":
        return log_softmax_rows(Z)
    return -np.logaddexp(0, -Z)
