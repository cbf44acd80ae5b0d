"""The compiled kernels against NumPy references, across dtypes and threads."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_limits

from sklearn_rnn._base import LOSS_FUNCTIONS, softmax_rows
from sklearn_rnn._kernels import _lstm_fast, _rnn_fast
from sklearn_rnn._kernels._cython_blas import BLAS_Trans, _gemm_memview
from sklearn_rnn._kernels._openmp_helpers import (
    _openmp_effective_n_threads,
    _openmp_parallelism_enabled,
)
from sklearn_rnn._kernels._output_fast import (
    LOSSES,
    all_finite,
    dense_backward,
    dense_forward,
    dense_loss_grad,
    loss_grad,
    softmax_rows_inplace,
)
from sklearn_rnn._kernels._training_fast import adam_step, gather_time_major, penalize
from sklearn_rnn._network import RecurrentNetwork

NoTrans, Trans = BLAS_Trans.NoTrans, BLAS_Trans.Trans
ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0)}


def reference_forward(X, W_ih, W_hh, b_ih, b_hh, h0, lengths, activation, reverse):
    """Plain NumPy loop over time: the definition the kernel must match."""
    T = X.shape[0]
    h = h0.copy()
    out = np.empty((T, X.shape[1], W_hh.shape[0]), dtype=X.dtype)
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        new = ACT[activation](X[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        valid = (t < lengths)[:, None]
        h = np.where(valid, new, h)
        out[t] = h
    return out


def make_problem(T, B, F, H, dtype, seed=0):
    rng = np.random.RandomState(seed)
    args = [
        rng.normal(size=(T, B, F)),
        rng.normal(scale=0.5, size=(H, F)),
        rng.normal(scale=0.5, size=(H, H)),
        rng.normal(scale=0.1, size=H),
        rng.normal(scale=0.1, size=H),
        rng.normal(scale=0.1, size=(B, H)),
    ]
    lengths = rng.randint(1, T + 1, size=B).astype(np.int32)
    return [a.astype(dtype) for a in args], lengths


def run_forward(args, lengths, activation, reverse, n_threads):
    X, _, W_hh = args[:3]
    hidden = np.empty((X.shape[0], X.shape[1], W_hh.shape[0]), dtype=X.dtype)
    _rnn_fast.rnn_forward(
        *args, lengths, hidden, 0, reverse, _rnn_fast.ACTIVATIONS[activation],
        n_threads,
    )  # fmt: skip
    return hidden


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_forward_matches_numpy_reference(activation, reverse, dtype, rtol):
    args, lengths = make_problem(T=6, B=5, F=3, H=7, dtype=dtype)
    hidden = run_forward(args, lengths, activation, reverse, n_threads=2)
    assert hidden.dtype == dtype
    expected = reference_forward(*args, lengths, activation, reverse)
    assert_allclose(hidden, expected, rtol=rtol, atol=rtol)


def reference_backward(W_hh, h0, hidden, delta, lengths):
    """NumPy BPTT of a forward tanh sweep: (dL/dh0, dL/dW_hh)."""
    carry = np.zeros_like(h0)
    grad_weight_hh = np.zeros_like(W_hh)
    for t in range(hidden.shape[0] - 1, -1, -1):
        valid = (t < lengths)[:, None]
        g = delta[t] + carry
        dA = np.where(valid, g * (1 - hidden[t] ** 2), 0)
        h_prev = hidden[t - 1] if t > 0 else h0
        grad_weight_hh += dA.T @ h_prev
        carry = np.where(valid, dA @ W_hh, g)
    return carry, grad_weight_hh


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_step_product_every_block_shape(dtype, rtol):
    # Hidden sizes and batch sizes that reach every branch of the packed
    # step product (_gate_math.h): whole panels of 3 vectors, 1 and 2
    # vector tails, scalar edge columns; 4-row blocks, leftover rows, the
    # 3-panel single-row block (H >= 72 floats, >= 36 doubles) and the
    # 2-panel one (H = 50 floats, H = 24 and 31 doubles). The forward sweep
    # packs W_hh^T in 8 x 8 (float32) or 4 x 4 (float64) transposed tiles
    # plus scalar edges: H = 1, 5, 13, 21, 77 leave edges in both directions.
    for H in [1, 5, 8, 13, 16, 21, 24, 31, 40, 50, 72, 77]:
        for B in [1, 3, 4, 7, 9, 13]:
            args, lengths = make_problem(T=4, B=B, F=3, H=H, dtype=dtype, seed=H * B)
            hidden = run_forward(args, lengths, "tanh", False, n_threads=2)
            expected = reference_forward(*args, lengths, "tanh", False)
            msg = f"{H=} {B=}"
            assert_allclose(hidden, expected, rtol=rtol, atol=rtol, err_msg=msg)

            X, W_ih, W_hh, _, _, h0 = args
            delta = np.random.RandomState(H + B).normal(size=hidden.shape).astype(dtype)
            grads = [np.empty_like(a) for a in (h0, W_ih, W_hh, args[3], args[4])]
            _rnn_fast.rnn_backward(
                X, W_ih, W_hh, h0, lengths, hidden, 0, delta, np.empty_like(hidden),
                grads[0], np.empty((0, 0, 0), dtype), False, *grads[1:], False,
                _rnn_fast.ACTIVATIONS["tanh"], 0, 2,
            )  # fmt: skip
            grad_h0, grad_weight_hh = reference_backward(
                W_hh, h0, hidden, delta, lengths
            )
            assert_allclose(grads[0], grad_h0, rtol=rtol, atol=rtol, err_msg=msg)
            assert_allclose(grads[2], grad_weight_hh, rtol=rtol, atol=10 * rtol)


@pytest.mark.parametrize(
    "dtype, sigmoid_floor", [(np.float64, -700.0), (np.float32, -87.0)]
)
def test_gate_activations_accurate_over_the_whole_range(dtype, sigmoid_floor):
    """The kernels' own sigmoid and tanh against NumPy's, over magnitudes from
    the smallest normal-range values (1e-300 in float64, 1e-30 in float32) to
    1e30.

    One LSTM step with zero weights and state stores sigmoid(b) in the i, f,
    o blocks of its gates and tanh(b) in the g block, 256 values of b per
    call (H = 256 keeps the zero weights small). Sigmoid stays within 2 eps
    of NumPy's, relative, down to `sigmoid_floor`, where the exp argument
    is clamped and only its absolute accuracy is kept (the value is below
    1e-30 there); tanh within 2 eps relative in float64 and 2 eps absolute
    in float32 (1 - 2 / (exp(2x) + 1) loses the relative accuracy near 0).
    """
    tiny = 1e-300 if dtype == np.float64 else 1e-30
    positive = np.concatenate(
        [[0.0, tiny, 1e-20, 1e-8], np.logspace(-6, np.log10(900), 2000), [1e4, 1e30]]
    )
    x = np.concatenate([positive, -positive]).astype(dtype)
    H = 256
    x = np.concatenate([x, np.zeros(-x.size % H, dtype)])
    state = np.zeros((1, H), dtype)
    gates = np.empty((1, 1, 4 * H), dtype)
    found = []
    for values in x.reshape(-1, H):
        _lstm_fast.lstm_forward(
            np.zeros((1, 1, 1), dtype), np.zeros((4 * H, 1), dtype),
            np.zeros((4 * H, H), dtype), np.tile(values, 4),
            np.zeros(4 * H, dtype), state, state, np.ones(1, np.int32),
            np.empty((1, 1, H), dtype), 0, gates, np.empty((1, 1, H), dtype),
            False, 1,
        )  # fmt: skip
        found.append(gates[0, 0].reshape(4, H).astype(float))
    sigmoid_i, sigmoid_f, tanh_g, sigmoid_o = np.concatenate(found, axis=1)
    x = x.astype(float)
    with np.errstate(over="ignore"):
        sigmoid = 1 / (1 + np.exp(-x))
    eps = np.finfo(dtype).eps
    assert_array_equal(sigmoid_f, sigmoid_i)
    assert_array_equal(sigmoid_o, sigmoid_i)
    assert_allclose(sigmoid_i, sigmoid, rtol=0, atol=eps)
    kept = x >= sigmoid_floor
    assert_allclose(sigmoid_i[kept], sigmoid[kept], rtol=2 * eps, atol=0)
    if dtype == np.float64:
        assert_allclose(tanh_g, np.tanh(x), rtol=2 * eps, atol=0)
    else:
        assert_allclose(tanh_g, np.tanh(x), rtol=0, atol=2 * eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lone_row_same_bits_as_block_rows(dtype):
    """A row of the step product alone (one sequence) is bit-identical to
    the same row inside a 4-row block, for every panel count and tail, and
    matches NumPy's product at every step: odd steps read the packed panels
    last to first, so T = 3 runs both orders on both paths.

    relu on non-negative weights and states passes every product through
    unchanged (tanh would flatten a last-bit difference above |a| ~ 1).
    """
    T, B, F = 3, 5, 2
    for H in range(1, 100):
        rng = np.random.default_rng(H)
        W_hh = rng.uniform(0, 2 / H, size=(H, H)).astype(dtype)
        h0 = np.tile(rng.uniform(0, 1, size=H).astype(dtype), (B, 1))
        zeros = np.zeros(H, dtype)
        out = np.empty((T, B, H), dtype)
        _rnn_fast.rnn_forward(
            np.zeros((T, B, F), dtype), np.zeros((H, F), dtype), W_hh, zeros,
            zeros, h0, np.full(B, T, np.int32), out, 0, False,
            _rnn_fast.ACTIVATIONS["relu"], 1,
        )  # fmt: skip
        assert (out > 0).all()
        for b in range(1, B):  # rows 0-3: one 4-row block; row 4: alone
            assert_array_equal(out[:, b], out[:, 0], err_msg=f"{H=} row {b}")
        h = h0[0].astype(np.float64)
        for t in range(T):
            h = np.maximum(h @ W_hh.T.astype(np.float64), 0)
            assert_allclose(out[t, 0], h, rtol=1e-5 if dtype == np.float32 else 1e-12,
                            err_msg=f"{H=} step {t}")  # fmt: skip


def test_float32_close_to_float64():
    args64, lengths = make_problem(T=20, B=8, F=4, H=16, dtype=np.float64)
    args32 = [a.astype(np.float32) for a in args64]
    h64 = run_forward(args64, lengths, "tanh", False, 1)
    h32 = run_forward(args32, lengths, "tanh", False, 1)
    assert_allclose(h32, h64, atol=1e-5)


def test_padding_never_changes_a_sequence():
    """A sequence padded with garbage gives the same states as alone."""
    args, _ = make_problem(T=9, B=1, F=3, H=5, dtype=np.float64)
    X, rest = args[0], args[1:]
    alone = run_forward([X[:4]] + rest, np.array([4], np.int32), "tanh", False, 1)
    X_padded = X.copy()
    X_padded[4:] = 1e3  # anything
    padded = run_forward([X_padded] + rest, np.array([4], np.int32), "tanh", False, 1)
    assert_array_equal(padded[:4], alone)
    assert_array_equal(padded[8], alone[3])  # the state is carried to the end
    # Reverse direction: the sweep starts at the last valid step.
    alone_r = run_forward([X[:4]] + rest, np.array([4], np.int32), "tanh", True, 1)
    padded_r = run_forward([X_padded] + rest, np.array([4], np.int32), "tanh", True, 1)
    assert_array_equal(padded_r[:4], alone_r)


@pytest.mark.skipif(not _openmp_parallelism_enabled(), reason="built without OpenMP")
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_results_identical_for_one_and_two_threads(cell, bidirectional):
    # Large enough that the element-wise loops really run on two threads.
    net = RecurrentNetwork(8, (96,), 3, cell=cell, activation="tanh",
                           bidirectional=bidirectional, pooling="mean")  # fmt: skip
    rng = np.random.RandomState(0)
    theta = net.init_params(rng, np.float64)
    X = rng.normal(size=(5, 256, 8))
    lengths = rng.randint(1, 6, size=256).astype(np.int32)
    results = []
    with threadpool_limits(1, user_api="blas"):
        for n_threads in (1, 2):
            Z, cache = net.forward(theta, X, lengths, n_threads)
            grad = np.empty_like(theta)
            net.backward(theta, cache, np.ones_like(Z), grad, n_threads)
            results.append((Z, grad))
    assert_array_equal(results[0][0], results[1][0])
    assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta", [NoTrans, Trans])
@pytest.mark.parametrize("tb", [NoTrans, Trans])
def test_gemm_wrapper(dtype, ta, tb):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(4, 3) if ta == NoTrans else (3, 4)).astype(dtype)
    B = rng.normal(size=(3, 5) if tb == NoTrans else (5, 3)).astype(dtype)
    C = rng.normal(size=(4, 5)).astype(dtype)
    opA = A if ta == NoTrans else A.T
    opB = B if tb == NoTrans else B.T
    expected = 2.0 * opA @ opB + 0.5 * C
    _gemm_memview(ta, tb, 2.0, A, B, 0.5, C)
    assert_allclose(C, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_openmp_effective_n_threads():
    assert _openmp_effective_n_threads() >= 1
    assert _openmp_effective_n_threads(1) == 1
    with pytest.raises(ValueError, match="n_threads = 0"):
        _openmp_effective_n_threads(0)


# ----------------------------------------------------------------------
# The per-mini-batch helpers (_training_fast)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_time_major(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 7, 3)).astype(dtype)
    rows = np.array([4, 0, 8, 4], dtype=np.intp)
    out = np.full((5, 4, 3), np.nan, dtype=dtype)
    gather_time_major(X, rows, out)
    assert_array_equal(out, X[rows, :5].transpose(1, 0, 2))
    # a batch large enough (256 KiB) to be split over the threads
    X_big = rng.normal(size=(300, 50, 70)).astype(dtype)
    rows_big = rng.permutation(300)[:97].astype(np.intp)
    for n_threads in (1, 2, 3):
        out = np.full((41, 97, 70), np.nan, dtype=dtype)
        gather_time_major(X_big, rows_big, out, n_threads)
        assert_array_equal(out, X_big[rows_big, :41].transpose(1, 0, 2))
    with pytest.raises(IndexError, match="out of range"):
        gather_time_major(X, np.array([9], dtype=np.intp), np.empty((5, 1, 3), dtype))
    with pytest.raises(ValueError, match="inconsistent shapes"):
        gather_time_major(X, rows, np.empty((8, 4, 3), dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [0, 5, 40_000])
def test_penalize_matches_numpy(dtype, size):
    rng = np.random.RandomState(0)
    theta = rng.normal(size=size).astype(dtype)
    grad = rng.normal(size=size).astype(dtype)
    cuts = sorted(rng.randint(0, size + 1, 4))
    ranges = np.array([cuts[:2], cuts[2:]], dtype=np.intp)
    # g + s * w in float64 (exact for float32 data), and the error bound of
    # computing it in the data's dtype: one rounding of the product (none
    # where the compiler fuses the multiply-add) and one of the sum.
    expected = grad.astype(np.float64)
    bound = np.abs(expected)
    mask = np.zeros(size, dtype=bool)
    for start, stop in ranges:
        term = np.float64(dtype(0.01)) * theta[start:stop]
        expected[start:stop] += term
        bound[start:stop] += np.abs(term)
        mask[start:stop] = True
    bound *= np.finfo(dtype).eps
    results = []
    for n_threads in (1, 2):
        g = grad.copy()
        weight_sq, grad_sq = penalize(theta, g, ranges, 0.01, n_threads)
        assert np.all(np.abs(g - expected) <= bound)
        assert_allclose(weight_sq, np.sum(theta[mask].astype(float) ** 2), rtol=1e-10)
        assert_allclose(grad_sq, np.sum(g.astype(float) ** 2), rtol=1e-10)
        results.append((g, weight_sq, grad_sq))
    # the block-wise sums do not depend on the thread count
    assert_array_equal(results[0][0], results[1][0])
    assert results[0][1:] == results[1][1:]
    with pytest.raises(ValueError, match="out of bounds"):
        penalize(theta, grad.copy(), np.array([[0, size + 1]], dtype=np.intp), 0.1, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_matches_numpy(dtype):
    rng = np.random.RandomState(0)
    theta, grad, ms = (rng.normal(size=70_000).astype(dtype) for _ in range(3))
    vs = rng.uniform(size=70_000).astype(dtype)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    ms_ref = b1 * ms + (1 - b1) * grad
    vs_ref = b2 * vs + (1 - b2) * grad * grad
    theta_ref = theta - lr * ms_ref / (np.sqrt(vs_ref) + eps)
    results = []
    for n_threads in (1, 2):
        t, m, v = theta.copy(), ms.copy(), vs.copy()
        adam_step(t, grad, m, v, lr, b1, b2, eps, n_threads)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert_allclose(m, ms_ref, rtol=rtol, atol=rtol)
        assert_allclose(v, vs_ref, rtol=rtol, atol=rtol)
        assert_allclose(t, theta_ref, rtol=rtol, atol=rtol)
        results.append(t)
    assert_array_equal(results[0], results[1])



# ----------------------------------------------------------------------
# The output layer's helpers (_output_fast)
# ----------------------------------------------------------------------
def _logits(dtype, n=37, k=7):
    """Logits from tiny to huge, ties included, and one single-class row set."""
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(n, k)) * np.logspace(-3, 3, n)[:, None]
    Z[0] = 0.0  # all tied
    Z[1] = [1e4, -1e4] + [0.0] * (k - 2)  # exp(-1e4) underflows
    return Z.astype(dtype)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
def test_softmax_rows_inplace_matches_numpy(dtype, rtol):
    Z = _logits(dtype)
    P = Z.copy()
    softmax_rows_inplace(P)
    assert P.dtype == dtype
    # (probabilities below the smallest normal number may flush to 0)
    tiny = np.finfo(dtype).tiny
    assert_allclose(P, softmax_rows(Z.astype(np.float64)), rtol=rtol, atol=tiny)
    assert_allclose(P.sum(axis=1), 1, rtol=4 * rtol)
    one = Z[5:6].copy()
    softmax_rows_inplace(one)  # a row's result does not depend on the others
    assert_array_equal(one, P[5:6])
    softmax_rows_inplace(np.empty((0, 3), dtype))
    softmax_rows_inplace(np.empty((3, 0), dtype))


def _targets(loss, n, k, rng, dtype):
    if loss == "log_loss":
        return np.eye(k, dtype=dtype)[rng.randint(0, k, n)]
    if loss == "binary_log_loss":
        return rng.randint(0, 2, (n, k)).astype(dtype)
    return rng.normal(size=(n, k)).astype(dtype)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-13)])
def test_loss_grad_matches_numpy(loss, dtype, rtol):
    """The compiled losses against ``_base.LOSS_FUNCTIONS``, weighted, and
    with rows of weight 0 whose targets are NaN (padded steps): skipped."""
    Z = _logits(dtype)
    n, k = Z.shape
    rng = np.random.RandomState(1)
    Y = _targets(loss, n, k, rng, dtype)
    w = rng.uniform(size=n).astype(dtype)
    w[[3, 20]] = 0
    w /= w.sum()
    Y[[3, 20]] = np.nan
    keep = w > 0
    Z64, Y64 = Z.astype(np.float64), Y.astype(np.float64)
    loss_ref, grad_ref = LOSS_FUNCTIONS[loss](Z64[keep], Y64[keep], w[keep])
    grad = Z.copy()
    value = loss_grad(grad, Y, w, LOSSES[loss])
    # (row 1's target may be the class of logit -1e4: a loss of ~2e4 / n)
    assert np.isfinite(value) and abs(value - loss_ref) <= rtol * abs(loss_ref)
    assert_array_equal(grad[~keep], 0)
    assert_allclose(grad[keep], grad_ref, rtol=rtol, atol=rtol * np.abs(w).max())
    # w=None is the mean
    grad_mean, grad_w = Z[keep].copy(), Z[keep].copy()
    m = int(keep.sum())
    value_mean = loss_grad(grad_mean, Y[keep], None, LOSSES[loss])
    value_w = loss_grad(grad_w, Y[keep], np.full(m, 1 / m, dtype), LOSSES[loss])
    assert value_mean == pytest.approx(value_w, rel=4 * rtol)
    assert_allclose(grad_mean, grad_w, rtol=4 * rtol, atol=rtol * 1e-3)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        loss_grad(Z.copy(), Y[1:], w, LOSSES[loss])
    with pytest.raises(ValueError, match="inconsistent shapes"):
        loss_grad(Z.copy(), Y, w[1:], LOSSES[loss])
    with pytest.raises(ValueError, match="unknown loss code"):
        loss_grad(Z.copy(), Y, w, 7)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_dense_layer_matches_numpy(loss, dtype, rtol):
    """``dense_forward`` and ``dense_backward`` against NumPy, and
    ``dense_loss_grad`` bit for bit equal to forward, loss, backward."""
    rng = np.random.RandomState(2)
    n, K, k = 29, 13, 5
    F = rng.normal(size=(n, K)).astype(dtype)
    coef = rng.normal(size=(K, k)).astype(dtype)
    b = rng.normal(size=k).astype(dtype)
    Y = _targets(loss, n, k, rng, dtype)
    w = rng.uniform(size=n).astype(dtype)
    w /= w.sum()

    Z = np.full((n, k), np.nan, dtype)
    dense_forward(F, coef, b, Z)
    F64, coef64 = F.astype(np.float64), coef.astype(np.float64)
    assert_allclose(Z, F64 @ coef64 + b, rtol=rtol, atol=rtol)

    dZ = Z.copy()
    value = loss_grad(dZ, Y, w, LOSSES[loss])
    gcoef = np.full((K, k), np.nan, dtype)
    gb = np.full(k, np.nan, dtype)
    dF = np.full((n, K), np.nan, dtype)
    dense_backward(F, coef, dZ, gcoef, gb, dF)
    dZ64 = dZ.astype(np.float64)
    assert_allclose(gcoef, F64.T @ dZ64, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(gb, dZ64.sum(axis=0), rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(dF, dZ64 @ coef64.T, rtol=rtol, atol=rtol * 1e-2)

    work = np.full((n, k), np.nan, dtype)
    fused = [np.full_like(a, np.nan) for a in (gcoef, gb, dF)]
    fused_value = dense_loss_grad(F, coef, b, Y, w, LOSSES[loss], work, *fused)
    assert fused_value == value
    for a, ref in zip(fused, (gcoef, gb, dF)):
        assert_array_equal(a, ref)
    assert_array_equal(work, dZ)

    # no rows: zero gradients, zero loss
    empty = [np.full_like(a, np.nan) for a in (gcoef, gb)]
    assert dense_loss_grad(F[:0], coef, b, Y[:0], w[:0], LOSSES[loss], work[:0],
                           *empty, dF[:0]) == 0.0  # fmt: skip
    assert_array_equal(empty[0], 0)
    assert_array_equal(empty[1], 0)

    with pytest.raises(ValueError, match="inconsistent shapes"):
        dense_forward(F, coef[1:], b, Z)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        dense_forward(F, coef, b[1:], Z)
    with pytest.raises(ValueError, match="inconsistent gradient shapes"):
        dense_backward(F, coef, dZ, gcoef[1:], gb, dF)
    with pytest.raises(ValueError, match="targets or weights"):
        dense_loss_grad(F, coef, b, Y[1:], w, LOSSES[loss], work, gcoef, gb, dF)
    with pytest.raises(ValueError, match="unknown loss code"):
        dense_loss_grad(F, coef, b, Y, w, -1, work, gcoef, gb, dF)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite(dtype):
    assert all_finite(np.empty(0, dtype))
    finfo = np.finfo(dtype)
    # 16 lanes, checked every 4096 values: sizes and positions around both
    for n in (1, 15, 16, 17, 4095, 4096, 4097, 10_000):
        a = np.linspace(-1, 1, n).astype(dtype)
        a[0] = finfo.max
        a[-1] = -finfo.max
        a[n // 2] = -0.0
        a[n // 3] = finfo.smallest_subnormal
        assert all_finite(a), n
        for bad in (np.nan, np.inf, -np.inf):
            for where in {0, 15, 16, n // 2, 4095, 4096, n - 1}:
                if where < n:
                    b = a.copy()
                    b[where] = bad
                    assert not all_finite(b), (n, bad, where)


def test_predict_asks_for_threads_only_when_a_kernel_could_use_them(monkeypatch):
    import sklearn_rnn._recurrent as recurrent_module
    from sklearn_rnn import RNNClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 50, 16)), rng.randint(0, 3, 40)
    clf = RNNClassifier(hidden_layer_sizes=(64,), cell="lstm", max_iter=1,
                        random_state=0).fit(X, y)  # fmt: skip
    calls = []
    real = recurrent_module._kernel_n_threads
    monkeypatch.setattr(recurrent_module, "_kernel_n_threads",
                        lambda: calls.append(1) or real())  # fmt: skip
    one = clf.predict_proba(X[:1])  # one chunk, input projection < 262144
    assert calls == []
    many = clf.predict_proba(X)
    assert calls == [1]
    # alone or in a batch: the same up to the BLAS calls' rounding
    np.testing.assert_allclose(one, many[:1], rtol=1e-12)
