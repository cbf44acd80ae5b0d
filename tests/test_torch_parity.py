"""Forward and gradient parity with ``torch.nn.RNN/LSTM/GRU`` on the same weights.

Skipped when PyTorch is absent; ``.ci/run`` installs the CPU build. PyTorch is
never a dependency of the package.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer

torch = pytest.importorskip("torch")

TOL = 1e-6
TORCH_CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
CASES = [
    (cell, activation, bidirectional, n_layers)
    for cell, activation in [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"),
                             ("gru", "tanh")]  # fmt: skip
    for bidirectional in (False, True)
    for n_layers in (1, 2)
]


def torch_module_from(est):
    """A float64 torch.nn.RNN/LSTM/GRU holding the estimator's weights."""
    layers = est.recurrent_params_
    kwargs = {"nonlinearity": est.activation} if est.cell == "rnn" else {}
    module = getattr(torch.nn, TORCH_CLASSES[est.cell])(
        input_size=layers[0]["weight_ih"].shape[1],
        hidden_size=layers[0]["weight_hh"].shape[1],
        num_layers=len(layers),
        bidirectional=est.bidirectional,
        batch_first=True,
        dtype=torch.float64,
        **kwargs,
    )
    with torch.no_grad():
        for i, params in enumerate(layers):
            for name, value in params.items():
                torch_name = _torch_name(name, i)
                getattr(module, torch_name).copy_(torch.from_numpy(value))
    return module


def _torch_name(name, layer):
    if name.endswith("_reverse"):
        return f"{name[: -len('_reverse')]}_l{layer}_reverse"
    return f"{name}_l{layer}"


def _torch_last(out, h_n, bidirectional):
    """The estimator's 'last' pooling from torch's outputs."""
    if not bidirectional:
        return out[:, -1, :]
    H = out.shape[2] // 2
    return torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)


@pytest.mark.parametrize("cell, activation, bidirectional, n_layers", CASES)
def test_forward_parity(cell, activation, bidirectional, n_layers):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 7, 3))
    y = rng.randint(0, 3, size=40)
    clf = RNNClassifier(
        hidden_layer_sizes=(6,) * n_layers, cell=cell, activation=activation,
        bidirectional=bidirectional, max_iter=5, random_state=0,
    ).fit(X, y)  # fmt: skip
    module = torch_module_from(clf)
    with torch.no_grad():
        out, h_n = module(torch.from_numpy(X))
    if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
        h_n = h_n[0]
    last = _torch_last(out, h_n, bidirectional).numpy()
    # torch's final states (h_n) are the same thing, per direction.
    D = 2 if bidirectional else 1
    assert_allclose(h_n[-D:].permute(1, 0, 2).reshape(40, -1).numpy(), last)
    logits = last @ clf.coef_ + clf.intercept_
    assert_allclose(clf.decision_function(X), logits, rtol=TOL, atol=TOL)
    expected = torch.softmax(torch.from_numpy(logits), 1).numpy()
    assert_allclose(clf.predict_proba(X), expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "sequence"])
def test_transform_parity(cell, pooling):
    X = np.random.RandomState(2).normal(size=(30, 9, 2))
    # Bidirectional: trained with y (the next-step objective is refused).
    y = X[:, :, 0].cumsum(axis=1) if pooling == "sequence" else X[:, :, 0].sum(axis=1)
    trans = RNNTransformer(
        hidden_layer_sizes=(5, 5), cell=cell, bidirectional=True, pooling=pooling,
        max_iter=3, random_state=0,
    ).fit(X, y)  # fmt: skip
    with torch.no_grad():
        out, h_n = torch_module_from(trans)(torch.from_numpy(X))
    expected = {
        "last": lambda: _torch_last(out, h_n, True),
        "mean": lambda: out.mean(dim=1),
        "max": lambda: out.max(dim=1).values,
        "sequence": lambda: out,
    }[pooling]().numpy()
    assert_allclose(trans.transform(X), expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("cell, activation, bidirectional, n_layers", CASES)
def test_gradient_parity(cell, activation, bidirectional, n_layers):
    """Gradients of the squared-error loss of a regressor, against autograd."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(12, 6, 4))
    y = rng.normal(size=(12, 2))
    reg = RNNRegressor(
        hidden_layer_sizes=(5,) * n_layers, cell=cell, activation=activation,
        bidirectional=bidirectional, alpha=0.0, max_iter=3, clip_norm=None,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    lengths = np.full(12, 6, dtype=np.int32)
    grad = np.empty_like(reg._theta)
    loss = reg._loss_grad(reg._theta, grad, X_tm, lengths, y, None)
    _, gcoef, gintercept = reg._net.unpack(grad)

    module = torch_module_from(reg)
    coef = torch.tensor(reg.coef_, requires_grad=True)
    intercept = torch.tensor(reg.intercept_, requires_grad=True)
    out, h_n = module(torch.from_numpy(X))
    pred = _torch_last(out, h_n, bidirectional) @ coef + intercept
    torch_loss = 0.5 * ((pred - torch.from_numpy(y)) ** 2).mean()
    torch_loss.backward()

    assert abs(loss - torch_loss.item()) < TOL
    assert_allclose(gcoef, coef.grad.numpy(), rtol=TOL, atol=1e-10)
    assert_allclose(gintercept, intercept.grad.numpy(), rtol=TOL, atol=1e-10)
    for i, g in enumerate(reg._net.torch_layout(grad)):
        for name, value in g.items():
            expected = getattr(module, _torch_name(name, i)).grad.numpy()
            assert_allclose(value, expected, rtol=TOL, atol=1e-10, err_msg=name)
