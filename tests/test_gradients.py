"""Finite-difference checks of backpropagation through time, in float64.

Two levels:

* one layer and direction of each cell: ``L = sum(R * h)`` for a random
  ``R``, checked for every kernel input (weights, biases, X, h0 and c0),
  both directions, ragged lengths, T = 1 included;
* the network: every cell x direction x layers x pooling on a ragged batch;
* the compiled output layer with each loss (``dense_loss_grad``), with
  respect to its input features, weights and bias;
* the estimators' own loss: output layer and each loss (softmax and logistic
  log-loss, squared error, next-step prediction) with the L2 penalty and
  sample weights, for every cell.

The error reported per parameter tensor is the normwise relative error
``|g_fd - g| / max(|g_fd|, |g|)``; the brief's bound is 1e-6.
"""

import numpy as np
import pytest

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._kernels._output_fast import LOSSES, dense_loss_grad
from sklearn_rnn._kernels._rnn_fast import ACTIVATIONS
from sklearn_rnn._network import CELLS, RecurrentNetwork

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


def _layer_problem(cell, T, B, F, H, seed):
    rng = np.random.RandomState(seed)
    G = CELLS[cell].gates
    p = {
        "weight_ih": rng.normal(scale=0.6, size=(G * H, F)),
        "weight_hh": rng.normal(scale=0.6, size=(G * H, H)),
        "bias_ih": rng.normal(scale=0.3, size=G * H),
        "bias_hh": rng.normal(scale=0.3, size=G * H),
    }
    X = rng.normal(size=(T, B, F))
    states0 = tuple(
        rng.normal(scale=0.5, size=(B, H)) for _ in range(CELLS[cell].n_states)
    )
    lengths = rng.randint(1, T + 1, size=B).astype(np.int32)
    lengths[0] = T  # at least one full-length sequence
    return p, X, states0, lengths, rng


@pytest.mark.parametrize("cell, activation", [("rnn", "tanh"), ("rnn", "relu"),
                                              ("lstm", "tanh"), ("gru", "tanh")])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("T, B", [(1, 1), (1, 3), (4, 2), (7, 5)])
def test_layer_gradients(cell, activation, reverse, T, B):
    """One direction of one layer: every kernel input, incl. X and h0 (c0)."""
    F, H = 3, 4
    p, X, states0, lengths, rng = _layer_problem(cell, T, B, F, H, seed=T * 10 + B)
    adapter = CELLS[cell]
    act = ACTIVATIONS[activation]
    W = 2 * H  # write into the second half of a wider buffer, as bidirectional does
    R = rng.normal(size=(T, B, W))

    def forward():
        out = np.zeros((T, B, W))
        cache = adapter.forward(p, X, lengths, out, H, states0, reverse, act, 1)
        return out, cache

    def loss():
        return float((forward()[0][:, :, H:] * R[:, :, H:]).sum())

    out, cache = forward()
    g = {name: np.empty_like(value) for name, value in p.items()}
    grad_X = np.zeros_like(X)
    grad_states0 = tuple(np.empty_like(s) for s in states0)
    adapter.backward(p, g, X, lengths, out, H, cache, states0, R, grad_states0,
                     grad_X, False, reverse, act, 0, 1)  # fmt: skip
    checks = {name: (p[name], g[name]) for name in p}
    checks["X"] = (X, grad_X)
    for k, (s0, gs0) in enumerate(zip(states0, grad_states0)):
        checks[f"state0_{k}"] = (s0, gs0)
    for name, (value, analytic) in checks.items():
        numeric = numeric_gradient(loss, value)
        err = relative_error(numeric, analytic)
        assert err < TOL, (name, err)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_output_layer_loss_gradients(loss):
    """dense_loss_grad: dL/dfeatures, dL/dcoef, dL/dintercept, weighted
    rows, one of weight 0 (its gradient must be 0 too)."""
    rng = np.random.RandomState(0)
    n, K, k = 6, 4, 3
    F = rng.normal(size=(n, K))
    coef = rng.normal(size=(K, k))
    b = rng.normal(size=k)
    if loss == "log_loss":
        Y = np.eye(k)[rng.randint(0, k, n)]
    elif loss == "binary_log_loss":
        Y = rng.randint(0, 2, (n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    w = rng.uniform(size=n)
    w[2] = 0
    w /= w.sum()
    work = np.empty((n, k))

    def run():
        grads = (np.empty((K, k)), np.empty(k), np.empty((n, K)))
        return dense_loss_grad(F, coef, b, Y, w, LOSSES[loss], work, *grads), grads

    _, (gcoef, gb, dF) = run()
    assert np.all(dF[2] == 0)
    checks = [("features", F, dF), ("coef", coef, gcoef), ("intercept", b, gb)]
    for name, value, analytic in checks:
        err = relative_error(numeric_gradient(lambda: run()[0], value), analytic)
        assert err < TOL, (name, err)


NET_CASES = [
    (cell, bidirectional, pooling, hidden)
    for cell in ("rnn", "lstm", "gru")
    for bidirectional in (False, True)
    for pooling in ("last", "mean", "max", "sequence")
    for hidden in ((4,), (3, 4))
]


@pytest.mark.parametrize("cell, bidirectional, pooling, hidden", NET_CASES)
def test_network_gradients_ragged(cell, bidirectional, pooling, hidden):
    """Every cell x direction x layers x pooling, on a ragged batch."""
    rng = np.random.RandomState(0)
    net = RecurrentNetwork(3, hidden, 2, cell=cell, activation="tanh",
                           bidirectional=bidirectional, pooling=pooling)  # fmt: skip
    theta = rng.normal(scale=0.5, size=net.size)
    T = 5
    X = rng.normal(size=(T, 3, 3))
    lengths = np.array([5, 3, 1], dtype=np.int32)
    Z, _ = net.forward(theta, X, lengths, 1)
    R = rng.normal(size=Z.shape)
    if pooling == "sequence":
        R *= (np.arange(T)[:, None] < lengths[None, :])[:, :, None]

    def loss():
        return float((net.forward(theta, X, lengths, 1)[0] * R).sum())

    _, cache = net.forward(theta, X, lengths, 1)
    grad = np.empty_like(theta)
    net.backward(theta, cache, R, grad, 1)
    assert relative_error(numeric_gradient(loss, theta), grad) < TOL


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
    if kind == "step_classes":
        return RNNClassifier, X, np.arange(n_samples * T).reshape(n_samples, T) % 3
    if kind == "step_values":
        return RNNRegressor, X, rng.normal(size=(n_samples, T))
    return RNNTransformer, X, None  # next-step prediction


NETWORK_CASES = [
    (kind, T, n_samples, hidden)
    for kind in ["multiclass", "binary", "multilabel", "regression", "next_step",
                 "step_classes", "step_values"]  # fmt: skip
    for T, n_samples, hidden in [(1, 3, (4,)), (2, 3, (3,)), (5, 4, (3, 4))]
    if not (kind == "next_step" and T == 1)  # next-step needs two steps
]
CELL_ACTIVATIONS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


@pytest.mark.parametrize("kind, T, n_samples, hidden", NETWORK_CASES)
@pytest.mark.parametrize("cell, activation", CELL_ACTIVATIONS)
def test_estimator_loss_gradients(kind, cell, activation, T, n_samples, hidden):
    Est, X, y = _estimator_problem(kind, T, n_samples, seed=T + len(hidden))
    est = Est(
        hidden_layer_sizes=hidden, cell=cell, activation=activation, alpha=0.3,
        max_iter=1, clip_norm=None, random_state=0, shuffle=False,
        pooling="sequence" if kind.startswith("step") else "last",
    )  # fmt: skip
    est.fit(X, y)
    theta = est._theta
    rng = np.random.RandomState(1)
    theta[...] = rng.normal(scale=0.5, size=theta.shape)
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    lengths = np.full(n_samples, T, dtype=np.int32)
    Y = None if y is None else est._encode_targets(X, lengths, y, False)[0]
    if Y is not None and Y.ndim == 3:
        Y = np.ascontiguousarray(Y.transpose(1, 0, 2))
    sw = rng.uniform(0.5, 2.0, size=n_samples)
    grad = np.empty_like(theta)

    def loss():
        return est._loss_grad(theta, np.empty_like(theta), X_tm, lengths, Y, sw)

    est._loss_grad(theta, grad, X_tm, lengths, Y, sw)
    numeric = numeric_gradient(loss, theta)
    errors = {}
    _, coef, intercept = est._net.unpack(numeric)
    _, gcoef, gintercept = est._net.unpack(grad)
    layers, glayers = est._net.torch_layout(numeric), est._net.torch_layout(grad)
    for i, (layer, glayer) in enumerate(zip(layers, glayers)):
        for name in layer:
            errors[f"{i}.{name}"] = relative_error(layer[name], glayer[name])
    errors["coef"] = relative_error(coef, gcoef)
    errors["intercept"] = relative_error(intercept, gintercept)
    assert max(errors.values()) < TOL, errors
