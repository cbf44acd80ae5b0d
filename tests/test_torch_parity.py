"""Forward and gradient parity with ``torch.nn.RNN`` on the same weights.

Skipped when PyTorch is absent; ``.ci/run`` installs the CPU build. PyTorch is
never a dependency of the package.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer

torch = pytest.importorskip("torch")

TOL = 1e-6


def torch_rnn_from(est):
    """A float64 torch.nn.RNN holding the estimator's recurrent weights."""
    layers = est.recurrent_params_
    sizes = {p["weight_hh"].shape[0] for p in layers}
    assert len(sizes) == 1, "torch.nn.RNN needs equal hidden sizes"
    rnn = torch.nn.RNN(
        input_size=layers[0]["weight_ih"].shape[1],
        hidden_size=sizes.pop(),
        num_layers=len(layers),
        nonlinearity=est.activation,
        batch_first=True,
        dtype=torch.float64,
    )
    with torch.no_grad():
        for i, p in enumerate(layers):
            for name, value in p.items():
                getattr(rnn, f"{name}_l{i}").copy_(torch.from_numpy(value))
    return rnn


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_forward_parity(activation, n_layers):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 7, 3))
    y = rng.randint(0, 3, size=40)
    clf = RNNClassifier(
        hidden_layer_sizes=(6,) * n_layers, activation=activation, max_iter=5,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    rnn = torch_rnn_from(clf)
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(X))
    last = out[:, -1, :].numpy()
    assert_allclose(h_n[-1].numpy(), last)
    logits = last @ clf.coef_ + clf.intercept_
    assert_allclose(clf.decision_function(X), logits, rtol=TOL, atol=TOL)
    assert_allclose(
        clf.predict_proba(X), torch.softmax(torch.from_numpy(logits), 1).numpy(),
        rtol=TOL, atol=TOL,
    )  # fmt: skip


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_transform_parity(activation):
    X = np.random.RandomState(2).normal(size=(30, 9, 2))
    trans = RNNTransformer(
        hidden_layer_sizes=(5, 5), activation=activation, max_iter=3, random_state=0
    ).fit(X)
    with torch.no_grad():
        _, h_n = torch_rnn_from(trans)(torch.from_numpy(X))
    assert_allclose(trans.transform(X), h_n[-1].numpy(), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_gradient_parity(activation, n_layers):
    """Gradients of the squared-error loss of a regressor, against autograd."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(12, 6, 4))
    y = rng.normal(size=(12, 2))
    reg = RNNRegressor(
        hidden_layer_sizes=(5,) * n_layers, activation=activation, alpha=0.0,
        max_iter=3, clip_norm=None, random_state=0,
    ).fit(X, y)  # fmt: skip
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    lengths = np.full(12, 6, dtype=np.int32)
    grad = np.empty_like(reg._theta)
    loss = reg._loss_grad(reg._theta, grad, X_tm, lengths, y, None)
    glayers, gcoef, gintercept = reg._net.unpack(grad)

    rnn = torch_rnn_from(reg)
    coef = torch.tensor(reg.coef_, requires_grad=True)
    intercept = torch.tensor(reg.intercept_, requires_grad=True)
    out, _ = rnn(torch.from_numpy(X))
    pred = out[:, -1, :] @ coef + intercept
    torch_loss = 0.5 * ((pred - torch.from_numpy(y)) ** 2).mean()
    torch_loss.backward()

    assert abs(loss - torch_loss.item()) < TOL
    assert_allclose(gcoef, coef.grad.numpy(), rtol=TOL, atol=1e-10)
    assert_allclose(gintercept, intercept.grad.numpy(), rtol=TOL, atol=1e-10)
    for i, g in enumerate(glayers):
        for name, value in g.items():
            expected = getattr(rnn, f"{name}_l{i}").grad.numpy()
            assert_allclose(value, expected, rtol=TOL, atol=1e-10, err_msg=name)
