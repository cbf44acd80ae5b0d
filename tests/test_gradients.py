"""Finite-difference checks of backpropagation through time, in float64.

Two levels:

* the kernel alone: ``L = sum(R * hidden)`` for a random ``R``, checked for
  every input of ``rnn_backward`` (weights, biases, X, h0), both directions,
  ragged lengths, T = 1 included;
* the whole network: stacked layers, output layer and each loss (softmax and
  logistic log-loss, squared error, next-step prediction), with the L2
  penalty, through the estimator's own ``_loss_grad``.

The error reported per parameter tensor is the normwise relative error
``|g_fd - g| / max(|g_fd|, |g|)``; the brief's bound is 1e-6.
"""

import numpy as np
import pytest

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._kernels import _rnn_fast

EPS = 1e-5
TOL = 1e-6


def relative_error(numeric, analytic):
    scale = max(np.linalg.norm(numeric), np.linalg.norm(analytic), 1e-12)
    return np.linalg.norm(numeric - analytic) / scale


def numeric_gradient(f, x):
    """Central differences of scalar f() with respect to array x (in place)."""
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + EPS
        up = f()
        flat[i] = old - EPS
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * EPS)
    return g


def _kernel_problem(T, B, F, H, seed):
    rng = np.random.RandomState(seed)
    p = {
        "X": rng.normal(size=(T, B, F)),
        "weight_ih": rng.normal(scale=0.6, size=(H, F)),
        "weight_hh": rng.normal(scale=0.6, size=(H, H)),
        "bias_ih": rng.normal(scale=0.3, size=H),
        "bias_hh": rng.normal(scale=0.3, size=H),
        "h0": rng.normal(scale=0.5, size=(B, H)),
    }
    R = rng.normal(size=(T, B, H))
    lengths = rng.randint(1, T + 1, size=B).astype(np.int32)
    lengths[0] = T  # at least one full-length sequence
    return p, R, lengths


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("T, B", [(1, 1), (1, 3), (4, 2), (7, 5)])
def test_kernel_gradients(activation, reverse, T, B):
    F, H = 3, 4
    p, R, lengths = _kernel_problem(T, B, F, H, seed=T * 10 + B)
    act = _rnn_fast.ACTIVATIONS[activation]

    def forward():
        hidden = np.empty((T, B, H))
        _rnn_fast.rnn_forward(
            p["X"], p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
            p["h0"], lengths, hidden, reverse, act, 1,
        )  # fmt: skip
        return hidden

    def loss():
        return float((forward() * R).sum())

    hidden = forward()
    delta = R.copy()
    grads = {
        "X": np.empty((T, B, F)),
        "h0": np.empty((B, H)),
        "weight_ih": np.empty((H, F)),
        "weight_hh": np.empty((H, H)),
        "bias_ih": np.empty(H),
        "bias_hh": np.empty(H),
    }
    _rnn_fast.rnn_backward(
        p["X"], p["weight_ih"], p["weight_hh"], p["h0"], lengths, hidden, delta,
        grads["h0"], grads["X"], grads["weight_ih"], grads["weight_hh"],
        grads["bias_ih"], grads["bias_hh"], reverse, act, 1,
    )  # fmt: skip
    for name, analytic in grads.items():
        numeric = numeric_gradient(loss, p[name])
        err = relative_error(numeric, analytic)
        assert err < TOL, (name, err)
    # Padded steps get no gradient at their pre-activation.
    for b, n_valid in enumerate(lengths):
        assert np.all(delta[n_valid:, b] == 0)


def _estimator_problem(kind, T, n_samples, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, T, 3))
    if kind == "multiclass":
        return RNNClassifier, X, np.arange(n_samples) % 3
    if kind == "binary":
        return RNNClassifier, X, np.arange(n_samples) % 2
    if kind == "multilabel":
        return RNNClassifier, X, rng.randint(0, 2, size=(n_samples, 3))
    if kind == "regression":
        return RNNRegressor, X, rng.normal(size=(n_samples, 2))
    return RNNTransformer, X, None  # next-step prediction


NETWORK_CASES = [
    (kind, T, n_samples, hidden)
    for kind in ["multiclass", "binary", "multilabel", "regression", "next_step"]
    for T, n_samples, hidden in [(1, 3, (4,)), (2, 3, (3,)), (5, 4, (3, 4))]
    if not (kind == "next_step" and T == 1)  # next-step needs two steps
]


@pytest.mark.parametrize("kind, T, n_samples, hidden", NETWORK_CASES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_network_gradients(kind, activation, T, n_samples, hidden):
    Est, X, y = _estimator_problem(kind, T, n_samples, seed=T + len(hidden))
    est = Est(
        hidden_layer_sizes=hidden, activation=activation, alpha=0.3, max_iter=1,
        clip_norm=None, random_state=0, shuffle=False,
    )  # fmt: skip
    est.fit(X, y)
    theta = est._theta
    rng = np.random.RandomState(1)
    theta[...] = rng.normal(scale=0.5, size=theta.shape)
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    lengths = np.full(n_samples, T, dtype=np.int32)
    Y = None if y is None else est._encode_targets(X, lengths, y, False)[0]
    sw = rng.uniform(0.5, 2.0, size=n_samples)
    grad = np.empty_like(theta)

    def loss():
        return est._loss_grad(theta, np.empty_like(theta), X_tm, lengths, Y, sw)

    est._loss_grad(theta, grad, X_tm, lengths, Y, sw)
    numeric = numeric_gradient(loss, theta)
    errors = {}
    layers, coef, intercept = est._net.unpack(numeric)
    glayers, gcoef, gintercept = est._net.unpack(grad)
    for i, (layer, glayer) in enumerate(zip(layers, glayers)):
        for name in layer:
            errors[f"{i}.{name}"] = relative_error(layer[name], glayer[name])
    errors["coef"] = relative_error(coef, gcoef)
    errors["intercept"] = relative_error(intercept, gintercept)
    assert max(errors.values()) < TOL, errors
