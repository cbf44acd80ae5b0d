"""Forward pass and backpropagation through time of the vanilla RNN cell.

    h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   f in {tanh, relu}

Design (shared by ``_lstm_fast`` and ``_gru_fast``):

* Layering: element-wise gate math per row (``_gate_math.pxd``, C loops
  that vectorise) -> per-row dispatch over
  raw pointers (``cdef ... noexcept nogil``) and the shared sweep/gradient
  helpers (``_recurrent_common.pxd``) -> the ``def`` entry points below,
  which take typed memoryviews, fill the arrays they are given and return
  nothing. Python owns allocation, validation and randomness.
* Layout: sequence buffers are time-major and C-contiguous, ``(T, B, .)``:
  one step is one ``(B, .)`` block and all steps one ``(T*B, .)`` matrix.
  A direction writes its states into columns ``[col, col + H)`` of ``out``
  ``(T, B, W)``, so both directions of a bidirectional layer fill one buffer
  that is the next layer's input without a copy. Weights use PyTorch's
  layout: ``weight_ih`` (H, F), ``weight_hh`` (H, H).
* GEMMs: the input projection of all steps is one GEMM before the sweep;
  the recurrence is one GEMM per step; the weight gradients are one GEMM
  each after the reverse sweep.
* Threads: the batch is cut into chunks of sequences (a function of the
  batch size only); an OpenMP ``prange`` over chunks runs each chunk's whole
  sweep (per step: its rows of the recurrent GEMM, then the element-wise
  work), so threads never synchronise inside the time loop. The large GEMMs
  are split into fixed blocks of output rows over the same threads. BLAS is
  single-threaded; results do not depend on the number of threads.
* Variable length: ``lengths[b]`` valid steps (right padding). A padded
  step copies the previous state (``h_t = h_{t-1}``): the forward
  direction's final state is the one at ``lengths[b] - 1`` and the reverse
  direction starts from ``h0`` at the last valid step, so padding never
  changes a result. Gradients pass through padded steps unchanged.
* Truncated BPTT: with ``bptt_steps = k > 0`` the gradient is stopped every
  k steps of the sweep (the forward values are exact).
* dtype: fused ``floating``; all arrays of one call have the same dtype.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free
from libc.string cimport memcpy, memset

from ._gate_math cimport TANH, RELU, _rnn_forward_gates, _rnn_backward_gates
from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans
from ._recurrent_common cimport (
    _chunk_rows, _n_chunks, _threads_for, _gemm_split, _step,
    _step_gemm, _packed_weight, _prev_state, _window_start, _weight_gradients,
    MIN_CHUNK_ROWS as _MIN_CHUNK_ROWS, PARALLEL_MIN_WORK as _PARALLEL_MIN_WORK,
)

ACTIVATIONS = {"tanh": TANH, "relu": RELU}
#: The kernels' rules for running on one thread (all three cells share
#: them), for callers that want to know ahead: a call of fewer than
#: PARALLEL_MIN_WORK multiply-adds, and a sweep of at most MIN_CHUNK_ROWS
#: sequences (one chunk).
PARALLEL_MIN_WORK = _PARALLEL_MIN_WORK
MIN_CHUNK_ROWS = _MIN_CHUNK_ROWS


cdef inline void _forward_row(
    floating *h,                # IN/OUT (H,): pre-activation in, state out
    const floating *h_prev,     # IN (H,)
    const floating *b_ih,       # IN (H,)
    const floating *b_hh,       # IN (H,)
    bint valid, int H, int act,
) noexcept nogil:
    if valid:
        _rnn_forward_gates(h, b_ih, b_hh, H, act)
    else:
        memcpy(h, h_prev, H * sizeof(floating))


cdef inline void _backward_row(
    const floating *delta,      # IN (H,): dL/dh_t from above
    floating *carry,            # IN/OUT (H,): dL/dh_t via step t+1 in, pass-through out
    const floating *h,          # IN (H,): h_t
    floating *dA,               # OUT (H,): dL/da_t
    bint valid, int H, int act,
) noexcept nogil:
    cdef int j
    if valid:
        _rnn_backward_gates(delta, carry, h, dA, H, act)
    else:
        # h_t = h_{t-1}: the whole gradient passes to the previous step.
        for j in range(H):
            carry[j] += delta[j]
            dA[j] = 0


cdef void _forward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh_t,
    const floating *b_ih, const floating *b_hh,
    const floating *h0, floating *states, const int *lengths, bint reverse,
    int act,
) noexcept nogil:
    """The whole sweep for sequences b0:b1: one GEMM and one row pass a step."""
    cdef int s, t, b, ld_prev
    cdef const floating *h_prev
    for s in range(T):
        t = _step(s, T, reverse)
        h_prev = _prev_state(s, t, B, reverse, h0, H, states, W, &ld_prev)
        # Recurrence: h[t, b0:b1] += h_prev[b0:b1] @ W_hh^T.
        _step_gemm(b1 - b0, H, H,
              h_prev + <Py_ssize_t> b0 * ld_prev, ld_prev, weight_hh_t,
              <floating> 1, states + (<Py_ssize_t> t * B + b0) * W, W, s)
        for b in range(b0, b1):
            _forward_row(states + (<Py_ssize_t> t * B + b) * W,
                         h_prev + <Py_ssize_t> b * ld_prev, b_ih, b_hh,
                         t < lengths[b], H, act)


cdef void _backward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh,
    const floating *states, const floating *dl, floating *dA, floating *carry,
    const int *lengths, bint reverse, int act, int bptt_steps,
) noexcept nogil:
    """The reverse sweep for sequences b0:b1."""
    cdef int s, t, b
    for s in range(T - 1, -1, -1):
        t = _step(s, T, reverse)
        for b in range(b0, b1):
            _backward_row(dl + (<Py_ssize_t> t * B + b) * W, carry + b * H,
                          states + (<Py_ssize_t> t * B + b) * W,
                          dA + (<Py_ssize_t> t * B + b) * H, t < lengths[b], H, act)
        # carry = dL/dh_prev += dA[t, b0:b1] @ W_hh
        _step_gemm(b1 - b0, H, H,
              dA + (<Py_ssize_t> t * B + b0) * H, H, weight_hh, <floating> 1,
              carry + b0 * H, H, s)
        if bptt_steps > 0:
            for b in range(b0, b1):
                if _window_start(t, lengths[b], bptt_steps, reverse):
                    memset(carry + b * H, 0, H * sizeof(floating))


def rnn_forward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (H, F)
    const floating[:, ::1] weight_hh,      # IN  (H, H)
    const floating[::1] bias_ih,           # IN  (H,)
    const floating[::1] bias_hh,           # IN  (H,)
    const floating[:, ::1] h0,             # IN  (B, H) initial state
    const int[::1] lengths,                # IN  (B,) valid steps, 1 <= l <= T
    floating[:, :, ::1] out,               # OUT (T, B, W) states in columns col:col+H
    int col,
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
        Parameters in PyTorch's layout and the dtype of ``X``.
    h0 : ndarray of shape (B, H)
        Initial state.
    lengths : ndarray of shape (B,), int32
        Valid (non-padded) steps of each sequence.
    out : ndarray of shape (T, B, W), W >= col + H
        Output: ``out[t, :, col:col+H]`` is the state after step ``t``. With
        ``reverse=True`` the sweep runs from the last step to the first and
        ``out[0]`` holds the final state.
    col : int
        First column of this direction in ``out``.
    reverse : bool
        Direction of the sweep.
    activation : int
        A value of ``ACTIVATIONS``.
    n_threads : int
        OpenMP threads for the element-wise work.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[0], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * H * (H + 4), n_chunks, n_threads)
    cdef floating *states
    cdef floating *w_t = NULL
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    w_t = _packed_weight(&weight_hh[0, 0], weight_hh.shape[0], H, True)
    with nogil:
        # Input projection of all steps: (T*B, F) @ (F, H) into the states.
        _gemm_split(NoTrans, Trans, T * B, H, F, <floating> 1, &X[0, 0, 0], F,
                    &weight_ih[0, 0], F, <floating> 0, states, W, n_threads)
        for c in prange(n_chunks, num_threads=nt, schedule="static"):
            _forward_chunk(c * rows, min(B, (c + 1) * rows), T, B, H, W,
                           w_t, &bias_ih[0], &bias_hh[0], &h0[0, 0],
                           states, &lengths[0], reverse, activation)
        free(w_t)


def rnn_backward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (H, F)
    const floating[:, ::1] weight_hh,      # IN  (H, H)
    const floating[:, ::1] h0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    const floating[:, :, ::1] out,         # IN  (T, B, W) from rnn_forward
    int col,
    const floating[:, :, ::1] delta,       # IN  (T, B, W) dL/dh_t in columns col:col+H
    floating[:, :, ::1] dA,                # OUT (T, B, H) dL/da_t (workspace)
    floating[:, ::1] grad_h0,              # OUT (B, H)
    floating[:, :, ::1] grad_X,            # OUT (T, B, F), or shape (0, 0, 0)
    bint accumulate_X,
    floating[:, ::1] grad_weight_ih,       # OUT (H, F)
    floating[:, ::1] grad_weight_hh,       # OUT (H, H)
    floating[::1] grad_bias_ih,            # OUT (H,)
    floating[::1] grad_bias_hh,            # OUT (H,)
    bint reverse,
    int activation,
    int bptt_steps,
    int n_threads,
):
    """Backpropagation through time for one direction of one RNN layer.

    Parameters
    ----------
    X, weight_ih, weight_hh, h0, lengths, out, col, reverse, activation
        As given to :func:`rnn_forward` (``out`` as it filled it).
    delta : ndarray of shape (T, B, W)
        dL/dh_t from everything above this layer (pooling, output layer or
        the next layer) in columns ``col:col+H``; zero where h_t is unused.
    dA : ndarray of shape (T, B, H)
        Out: dL/da_t, the gradient at the pre-activation (0 on padded steps).
    grad_h0 : ndarray of shape (B, H)
        Out: dL/dh0. Also the running carry of the reverse sweep.
    grad_X : ndarray of shape (T, B, F) or (0, 0, 0)
        Out: dL/dX, added to its content when ``accumulate_X`` (the second
        direction of a bidirectional layer); skipped when empty.
    grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh : ndarray
        Out: the parameter gradients (overwritten, not accumulated).
    bptt_steps : int
        Truncate backpropagation every ``bptt_steps`` steps; 0 for full BPTT.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[0], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * H * (H + 4), n_chunks, n_threads)
    cdef floating *carry = &grad_h0[0, 0]
    cdef const floating *states
    cdef const floating *dl
    cdef floating *gx = NULL
    cdef floating *w_p = NULL
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    dl = &delta[0, 0, col]
    if grad_X.shape[0] > 0:
        gx = &grad_X[0, 0, 0]
    w_p = _packed_weight(&weight_hh[0, 0], weight_hh.shape[0], H, False)
    with nogil:
        memset(carry, 0, B * H * sizeof(floating))
        for c in prange(n_chunks, num_threads=nt, schedule="static"):
            _backward_chunk(c * rows, min(B, (c + 1) * rows), T, B, H, W,
                            w_p, states, dl, &dA[0, 0, 0], carry,
                            &lengths[0], reverse, activation, bptt_steps)
        free(w_p)
        _weight_gradients(T, B, F, H, H, &X[0, 0, 0], &dA[0, 0, 0], H,
                          &dA[0, 0, 0], H, states, W, &h0[0, 0], &weight_ih[0, 0],
                          &grad_weight_ih[0, 0], &grad_weight_hh[0, 0],
                          &grad_bias_ih[0], &grad_bias_hh[0], gx, accumulate_X,
                          reverse, n_threads)
