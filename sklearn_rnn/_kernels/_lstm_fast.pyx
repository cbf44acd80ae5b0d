"""Forward pass and backpropagation through time of the LSTM cell.

PyTorch's formulation and gate order (i, f, g, o), stacked in one (4H, .)
weight so that one GEMM computes all gates of a step::

    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Design: as in ``_rnn_fast`` (time-major buffers, one GEMM for the input
projection of all steps, one GEMM per step, element-wise gate math fused with
the bias add in one pass, chunks of sequences swept by OpenMP threads,
weight gradients by GEMMs after the reverse sweep, right padding by carrying (h, c) through padded steps,
truncated BPTT by ``bptt_steps``). The forward pass stores the activated
gates in ``gates`` (T, B, 4H) and the cell states in ``cells`` (T, B, H); the
backward pass overwrites ``gates`` with dL/da.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free
from libc.string cimport memcpy, memset

from ._gate_math cimport _lstm_forward_gates, _lstm_backward_gates
from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans
from ._recurrent_common cimport (
    _chunk_rows, _n_chunks, _threads_for, _gemm_split, _step,
    _step_gemm, _packed_weight, _prev_state, _window_start, _weight_gradients,
)


cdef inline void _forward_row(
    floating *a,                # IN/OUT (4H,): pre-activations in, gates out
    floating *h,                # OUT (H,)
    floating *c,                # OUT (H,)
    const floating *h_prev,     # IN (H,)
    const floating *c_prev,     # IN (H,)
    const floating *b_ih,       # IN (4H,)
    const floating *b_hh,       # IN (4H,)
    bint valid, int H,
) noexcept nogil:
    if not valid:
        memcpy(h, h_prev, H * sizeof(floating))
        memcpy(c, c_prev, H * sizeof(floating))
        return
    _lstm_forward_gates(a, h, c, c_prev, b_ih, b_hh, H)


cdef inline void _backward_row(
    floating *a,                # IN (4H,) gates; OUT dL/da
    const floating *delta,      # IN (H,) dL/dh_t from above
    floating *carry_h,          # IN/OUT (H,)
    floating *carry_c,          # IN/OUT (H,)
    const floating *c,          # IN (H,) c_t
    const floating *c_prev,     # IN (H,) c_{t-1}
    bint valid, int H,
) noexcept nogil:
    cdef int j
    if not valid:
        # (h_t, c_t) = (h_{t-1}, c_{t-1}): gradients pass through.
        for j in range(H):
            carry_h[j] += delta[j]
        memset(a, 0, 4 * H * sizeof(floating))
        return
    _lstm_backward_gates(a, delta, carry_h, carry_c, c, c_prev, H)


cdef void _forward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh_t,
    const floating *b_ih, const floating *b_hh,
    const floating *h0, const floating *c0, floating *states, floating *gates,
    floating *cells, const int *lengths, bint reverse,
) noexcept nogil:
    """The whole sweep for sequences b0:b1: one GEMM and one row pass a step."""
    cdef int s, t, b, ld_prev, ld_cprev
    cdef const floating *h_prev
    cdef const floating *c_prev
    for s in range(T):
        t = _step(s, T, reverse)
        h_prev = _prev_state(s, t, B, reverse, h0, H, states, W, &ld_prev)
        c_prev = _prev_state(s, t, B, reverse, c0, H, cells, H, &ld_cprev)
        _step_gemm(b1 - b0, 4 * H, H,
              h_prev + <Py_ssize_t> b0 * ld_prev, ld_prev, weight_hh_t,
              <floating> 1, gates + (<Py_ssize_t> t * B + b0) * 4 * H, 4 * H, s)
        for b in range(b0, b1):
            _forward_row(gates + (<Py_ssize_t> t * B + b) * 4 * H,
                         states + (<Py_ssize_t> t * B + b) * W,
                         cells + (<Py_ssize_t> t * B + b) * H,
                         h_prev + <Py_ssize_t> b * ld_prev, c_prev + b * H,
                         b_ih, b_hh, t < lengths[b], H)


cdef void _backward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh,
    const floating *c0, const floating *cells, const floating *dl,
    floating *gates, floating *carry_h, floating *carry_c, const int *lengths,
    bint reverse, int bptt_steps,
) noexcept nogil:
    """The reverse sweep for sequences b0:b1."""
    cdef int s, t, b, ld_cprev
    cdef const floating *c_prev
    for s in range(T - 1, -1, -1):
        t = _step(s, T, reverse)
        c_prev = _prev_state(s, t, B, reverse, c0, H, cells, H, &ld_cprev)
        for b in range(b0, b1):
            _backward_row(gates + (<Py_ssize_t> t * B + b) * 4 * H,
                          dl + (<Py_ssize_t> t * B + b) * W, carry_h + b * H,
                          carry_c + b * H, cells + (<Py_ssize_t> t * B + b) * H,
                          c_prev + b * H, t < lengths[b], H)
        _step_gemm(b1 - b0, H, 4 * H,
              gates + (<Py_ssize_t> t * B + b0) * 4 * H, 4 * H, weight_hh,
              <floating> 1, carry_h + b0 * H, H, s)
        if bptt_steps > 0:
            for b in range(b0, b1):
                if _window_start(t, lengths[b], bptt_steps, reverse):
                    memset(carry_h + b * H, 0, H * sizeof(floating))
                    memset(carry_c + b * H, 0, H * sizeof(floating))


def lstm_forward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (4H, F)
    const floating[:, ::1] weight_hh,      # IN  (4H, H)
    const floating[::1] bias_ih,           # IN  (4H,)
    const floating[::1] bias_hh,           # IN  (4H,)
    const floating[:, ::1] h0,             # IN  (B, H)
    const floating[:, ::1] c0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    floating[:, :, ::1] out,               # OUT (T, B, W) h_t in columns col:col+H
    int col,
    floating[:, :, ::1] gates,             # OUT (T, B, 4H) activated gates
    floating[:, :, ::1] cells,             # OUT (T, B, H) c_t
    bint reverse,
    int n_threads,
):
    """Run one direction of one LSTM layer over a batch of sequences.

    Parameters
    ----------
    X, weight_ih, weight_hh, bias_ih, bias_hh, h0, lengths, out, col, reverse,
    n_threads
        As in :func:`sklearn_rnn._kernels._rnn_fast.rnn_forward`, with
        ``G*H = 4H`` rows in the weights.
    c0 : ndarray of shape (B, H)
        Initial cell state.
    gates : ndarray of shape (T, B, 4H)
        Out: the activated gates (i, f, g, o) of every step, for BPTT.
    cells : ndarray of shape (T, B, H)
        Out: the cell state after every step.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[1], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * 4 * H * (H + 8), n_chunks, n_threads)
    cdef floating *states
    cdef floating *w_t = NULL
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    w_t = _packed_weight(&weight_hh[0, 0], weight_hh.shape[0], H, True)
    with nogil:
        _gemm_split(NoTrans, Trans, T * B, 4 * H, F, <floating> 1, &X[0, 0, 0], F,
                    &weight_ih[0, 0], F, <floating> 0, &gates[0, 0, 0], 4 * H,
                    n_threads)
        for c in prange(n_chunks, num_threads=nt, schedule="static"):
            _forward_chunk(c * rows, min(B, (c + 1) * rows), T, B, H, W,
                           w_t, &bias_ih[0], &bias_hh[0], &h0[0, 0],
                           &c0[0, 0], states, &gates[0, 0, 0], &cells[0, 0, 0],
                           &lengths[0], reverse)
        free(w_t)


def lstm_backward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (4H, F)
    const floating[:, ::1] weight_hh,      # IN  (4H, H)
    const floating[:, ::1] h0,             # IN  (B, H)
    const floating[:, ::1] c0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    const floating[:, :, ::1] out,         # IN  (T, B, W)
    int col,
    floating[:, :, ::1] gates,             # IN gates / OUT dL/da (T, B, 4H)
    const floating[:, :, ::1] cells,       # IN  (T, B, H)
    const floating[:, :, ::1] delta,       # IN  (T, B, W) dL/dh_t in columns col:col+H
    floating[:, ::1] grad_h0,              # OUT (B, H)
    floating[:, ::1] grad_c0,              # OUT (B, H)
    floating[:, :, ::1] grad_X,            # OUT (T, B, F), or shape (0, 0, 0)
    bint accumulate_X,
    floating[:, ::1] grad_weight_ih,       # OUT (4H, F)
    floating[:, ::1] grad_weight_hh,       # OUT (4H, H)
    floating[::1] grad_bias_ih,            # OUT (4H,)
    floating[::1] grad_bias_hh,            # OUT (4H,)
    bint reverse,
    int bptt_steps,
    int n_threads,
):
    """Backpropagation through time for one direction of one LSTM layer.

    Parameters
    ----------
    As :func:`sklearn_rnn._kernels._rnn_fast.rnn_backward`, plus ``c0``,
    ``cells`` and ``gates`` as filled by :func:`lstm_forward` (``gates`` is
    overwritten with dL/da) and ``grad_c0``, the gradient of the initial
    cell state.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[1], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * 4 * H * (H + 8), n_chunks, n_threads)
    cdef floating *carry_h = &grad_h0[0, 0]
    cdef floating *carry_c = &grad_c0[0, 0]
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
        memset(carry_h, 0, B * H * sizeof(floating))
        memset(carry_c, 0, B * H * sizeof(floating))
        for c in prange(n_chunks, num_threads=nt, schedule="static"):
            _backward_chunk(c * rows, min(B, (c + 1) * rows), T, B, H, W,
                            w_p, &c0[0, 0], &cells[0, 0, 0], dl,
                            &gates[0, 0, 0], carry_h, carry_c, &lengths[0],
                            reverse, bptt_steps)
        free(w_p)
        _weight_gradients(T, B, F, H, 4 * H, &X[0, 0, 0], &gates[0, 0, 0], 4 * H,
                          &gates[0, 0, 0], 4 * H, states, W, &h0[0, 0],
                          &weight_ih[0, 0], &grad_weight_ih[0, 0],
                          &grad_weight_hh[0, 0], &grad_bias_ih[0],
                          &grad_bias_hh[0], gx, accumulate_X, reverse, n_threads)
