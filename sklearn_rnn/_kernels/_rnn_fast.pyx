"""Forward pass and backpropagation through time of the vanilla RNN cell.

    h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   f in {tanh, relu}

Design:

* Layering: scalar activations (``_activations.pxd``) -> per-row loops over
  raw pointers (``cdef ... noexcept nogil``) -> the ``def`` entry points
  below, which take typed memoryviews, fill the arrays they are given and
  return nothing. Python owns allocation, validation and randomness.
* Layout: all sequence buffers are time-major and C-contiguous, ``(T, B, .)``,
  so that one time step is one contiguous ``(B, .)`` block and all steps
  together are one ``(T*B, .)`` matrix. Weights use PyTorch's layout:
  ``weight_ih`` (H, F), ``weight_hh`` (H, H).
* GEMMs: the input projection of every step is one GEMM before the sweep;
  the recurrence is one GEMM per step; the weight gradients are one GEMM
  each after the reverse sweep. GEMMs run on (possibly multi-threaded) BLAS;
  the element-wise work runs in an OpenMP ``prange`` over the batch.
* Variable length: ``lengths[b]`` is the number of valid steps of sample
  ``b`` (right padding). A padded step copies the previous state
  (``h_t = h_{t-1}``), so the forward direction's final state is the state at
  ``lengths[b] - 1``, and the reverse direction starts from ``h0`` at the last
  valid step. Gradients flow through padded steps unchanged, so padding never
  changes a result.
* dtype: fused ``floating``; every array of one call has the same dtype.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy

from ._activations cimport TANH, RELU, _activate, _activate_grad
from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans

ACTIVATIONS = {"tanh": TANH, "relu": RELU}

# Below this many elements per step, one thread does the element-wise work:
# waking OpenMP threads costs more than the arithmetic.
cdef int PARALLEL_MIN_ELEMENTS = 16384


cdef inline int _n_threads_for(int rows, int cols, int n_threads) noexcept nogil:
    if rows * cols < PARALLEL_MIN_ELEMENTS or n_threads < 1:
        return 1
    return min(n_threads, rows)


cdef inline void _forward_row(
    floating *h,                # IN/OUT (H,): pre-activation in, state out
    const floating *h_prev,     # IN (H,)
    const floating *b_ih,       # IN (H,)
    const floating *b_hh,       # IN (H,)
    bint valid, int H, int act,
) noexcept nogil:
    cdef int j
    if valid:
        for j in range(H):
            h[j] = _activate(h[j] + b_ih[j] + b_hh[j], act)
    else:
        memcpy(h, h_prev, H * sizeof(floating))


cdef inline void _backward_row(
    floating *delta,            # IN/OUT (H,): dL/dh_t (direct) in, dL/da_t out
    floating *carry,            # IN/OUT (H,): dL/dh_t via h_{t+1} in, padded pass-through out
    const floating *h,          # IN (H,): h_t
    bint valid, int H, int act,
) noexcept nogil:
    cdef int j
    cdef floating g
    if valid:
        for j in range(H):
            g = delta[j] + carry[j]
            delta[j] = g * _activate_grad(h[j], act)
            carry[j] = 0
    else:
        # h_t = h_{t-1}: the whole gradient passes to the previous step.
        for j in range(H):
            carry[j] += delta[j]
            delta[j] = 0


def rnn_forward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (H, F)
    const floating[:, ::1] weight_hh,      # IN  (H, H)
    const floating[::1] bias_ih,           # IN  (H,)
    const floating[::1] bias_hh,           # IN  (H,)
    const floating[:, ::1] h0,             # IN  (B, H) initial state
    const int[::1] lengths,                # IN  (B,) valid steps, 1 <= l <= T
    floating[:, :, ::1] hidden,            # OUT (T, B, H) states h_t
    bint reverse,
    int activation,
    int n_threads,
):
    """Run one direction of one RNN layer over a batch of sequences.

    Parameters
    ----------
    X : ndarray of shape (T, B, F), float32 or float64, C-contiguous
        Time-major input.
    weight_ih, weight_hh, bias_ih, bias_hh : ndarray
        Parameters in PyTorch's layout and dtype of ``X``.
    h0 : ndarray of shape (B, H)
        Initial state (zeros unless a state is carried between windows).
    lengths : ndarray of shape (B,), int32
        Number of valid (non-padded) steps of each sequence.
    hidden : ndarray of shape (T, B, H)
        Output: ``hidden[t]`` is the state after step ``t``. With
        ``reverse=True`` the sweep runs from the last step to the first and
        ``hidden[0]`` is the final state.
    reverse : bool
        Direction of the sweep.
    activation : int
        A value of ``ACTIVATIONS``.
    n_threads : int
        OpenMP threads for the element-wise work.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[0]
    cdef int s, t, b
    cdef int nt = _n_threads_for(B, H, n_threads)
    cdef const floating *h_prev
    if T == 0 or B == 0:
        return
    with nogil:
        # Input projection of all steps: (T*B, F) @ (F, H).
        _gemm(RowMajor, NoTrans, Trans, T * B, H, F, <floating> 1.0,
              &X[0, 0, 0], F, &weight_ih[0, 0], F, <floating> 0.0,
              &hidden[0, 0, 0], H)
        for s in range(T):
            t = T - 1 - s if reverse else s
            if s == 0:
                h_prev = &h0[0, 0]
            elif reverse:
                h_prev = &hidden[t + 1, 0, 0]
            else:
                h_prev = &hidden[t - 1, 0, 0]
            # Recurrence: hidden[t] += h_prev @ W_hh^T.
            _gemm(RowMajor, NoTrans, Trans, B, H, H, <floating> 1.0,
                  h_prev, H, &weight_hh[0, 0], H, <floating> 1.0,
                  &hidden[t, 0, 0], H)
            for b in prange(B, num_threads=nt, schedule="static"):
                _forward_row(&hidden[t, b, 0], h_prev + b * H,
                             &bias_ih[0], &bias_hh[0], t < lengths[b], H,
                             activation)


def rnn_backward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (H, F)
    const floating[:, ::1] weight_hh,      # IN  (H, H)
    const floating[:, ::1] h0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    const floating[:, :, ::1] hidden,      # IN  (T, B, H) from rnn_forward
    floating[:, :, ::1] delta,             # IN/OUT (T, B, H)
    floating[:, ::1] grad_h0,              # OUT (B, H)
    floating[:, :, ::1] grad_X,            # OUT (T, B, F), or shape (0, 0, 0)
    floating[:, ::1] grad_weight_ih,       # OUT (H, F)
    floating[:, ::1] grad_weight_hh,       # OUT (H, H)
    floating[::1] grad_bias_ih,            # OUT (H,)
    floating[::1] grad_bias_hh,            # OUT (H,)
    bint reverse,
    int activation,
    int n_threads,
):
    """Backpropagation through time for one direction of one RNN layer.

    Parameters
    ----------
    X, weight_ih, weight_hh, h0, lengths, reverse, activation
        As given to :func:`rnn_forward`.
    hidden : ndarray of shape (T, B, H)
        The states computed by :func:`rnn_forward`.
    delta : ndarray of shape (T, B, H)
        In: dL/dh_t from everything above this layer (pooling, output layer
        or the next layer), zero where h_t is unused. Out: dL/da_t, the
        gradient with respect to the pre-activation (zero on padded steps).
    grad_h0 : ndarray of shape (B, H)
        Out: dL/dh0. Also the running carry of the reverse sweep.
    grad_X : ndarray of shape (T, B, F) or (0, 0, 0)
        Out: dL/dX; skipped when empty (first layer).
    grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh : ndarray
        Out: the parameter gradients (overwritten, not accumulated).
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[0]
    cdef int s, t, b, j, r
    cdef int nt = _n_threads_for(B, H, n_threads)
    cdef floating *carry = &grad_h0[0, 0]
    cdef int first
    cdef floating *d
    if T == 0 or B == 0:
        return
    with nogil:
        for r in range(B * H):
            carry[r] = 0
        for s in range(T):
            # Reverse order of the forward sweep.
            t = s if reverse else T - 1 - s
            for b in prange(B, num_threads=nt, schedule="static"):
                _backward_row(&delta[t, b, 0], carry + b * H, &hidden[t, b, 0],
                              t < lengths[b], H, activation)
            # carry = dL/dh_{t-1} += delta[t] @ W_hh.
            _gemm(RowMajor, NoTrans, NoTrans, B, H, H, <floating> 1.0,
                  &delta[t, 0, 0], H, &weight_hh[0, 0], H, <floating> 1.0,
                  carry, H)

        # Weight gradients, one GEMM each over all steps.
        # dW_ih = delta^T (H, T*B) @ X (T*B, F)
        _gemm(RowMajor, Trans, NoTrans, H, F, T * B, <floating> 1.0,
              &delta[0, 0, 0], H, &X[0, 0, 0], F, <floating> 0.0,
              &grad_weight_ih[0, 0], F)
        # dW_hh = sum_t delta[t]^T @ h_prev(t): the steps with a stored
        # predecessor form one block, the first step of the sweep uses h0.
        first = T - 1 if reverse else 0
        _gemm(RowMajor, Trans, NoTrans, H, H, B, <floating> 1.0,
              &delta[first, 0, 0], H, &h0[0, 0], H, <floating> 0.0,
              &grad_weight_hh[0, 0], H)
        if T > 1:
            if reverse:
                # h_prev(t) = hidden[t + 1] for t = 0 .. T-2
                _gemm(RowMajor, Trans, NoTrans, H, H, (T - 1) * B,
                      <floating> 1.0, &delta[0, 0, 0], H, &hidden[1, 0, 0], H,
                      <floating> 1.0, &grad_weight_hh[0, 0], H)
            else:
                # h_prev(t) = hidden[t - 1] for t = 1 .. T-1
                _gemm(RowMajor, Trans, NoTrans, H, H, (T - 1) * B,
                      <floating> 1.0, &delta[1, 0, 0], H, &hidden[0, 0, 0], H,
                      <floating> 1.0, &grad_weight_hh[0, 0], H)
        # Bias gradients: column sums of delta, in a fixed order.
        for j in range(H):
            grad_bias_ih[j] = 0
        d = &delta[0, 0, 0]
        for r in range(T * B):
            for j in range(H):
                grad_bias_ih[j] += d[r * H + j]
        for j in range(H):
            grad_bias_hh[j] = grad_bias_ih[j]
        # Input gradient: dX = delta (T*B, H) @ W_ih (H, F).
        if grad_X.shape[0] > 0:
            _gemm(RowMajor, NoTrans, NoTrans, T * B, F, H, <floating> 1.0,
                  &delta[0, 0, 0], H, &weight_ih[0, 0], F, <floating> 0.0,
                  &grad_X[0, 0, 0], F)
