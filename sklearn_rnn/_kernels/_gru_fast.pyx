"""Forward pass and backpropagation through time of the GRU cell.

PyTorch's formulation and gate order (r, z, n), stacked in one (3H, .)
weight; the candidate's recurrent term is gated *after* its bias (ONNX's
``linear_before_reset=1``)::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}

Design: as in ``_rnn_fast`` (chunks of sequences swept by OpenMP threads). Because of the ``r *`` inside ``n``, the
recurrent GEMM of a step goes to a scratch ``hh`` (B, 3H) instead of being
added to the input projection; the forward pass stores the activated gates
(r, z, n) in ``gates`` and ``W_hn h + b_hn`` in ``hn``. The backward pass
overwrites ``gates`` with dL/d(input pre-activations) and fills ``dA_h``
with dL/d(recurrent pre-activations), which differ in the n block by r.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free
from libc.string cimport memcpy, memset

from ._gate_math cimport _gru_forward_gates, _gru_backward_gates
from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans
from ._recurrent_common cimport (
    _chunk_rows, _n_chunks, _threads_for, _gemm_split, _step,
    _step_gemm, _packed_weight, _prev_state, _window_start, _weight_gradients,
)


cdef inline void _forward_row(
    floating *a,                # IN/OUT (3H,): input projections in, gates out
    const floating *hh,         # IN (3H,): h_prev W_hh^T
    floating *hn,               # OUT (H,): W_hn h_prev + b_hn
    floating *h,                # OUT (H,)
    const floating *h_prev,     # IN (H,)
    const floating *b_ih,       # IN (3H,)
    const floating *b_hh,       # IN (3H,)
    bint valid, int H,
) noexcept nogil:
    if not valid:
        memcpy(h, h_prev, H * sizeof(floating))
        memset(hn, 0, H * sizeof(floating))
        return
    _gru_forward_gates(a, hh, hn, h, h_prev, b_ih, b_hh, H)


cdef inline void _backward_row(
    floating *a,                # IN (3H,) gates; OUT dL/d(input pre-activations)
    floating *ah,               # OUT (3H,) dL/d(recurrent pre-activations)
    const floating *hn,         # IN (H,)
    const floating *delta,      # IN (H,) dL/dh_t from above
    floating *carry,            # IN/OUT (H,)
    const floating *h_prev,     # IN (H,)
    bint valid, int H,
) noexcept nogil:
    cdef int j
    if not valid:
        for j in range(H):
            carry[j] += delta[j]
        memset(a, 0, 3 * H * sizeof(floating))
        memset(ah, 0, 3 * H * sizeof(floating))
        return
    _gru_backward_gates(a, ah, hn, delta, carry, h_prev, H)


cdef void _forward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh_t,
    const floating *b_ih, const floating *b_hh,
    const floating *h0, floating *states, floating *gates, floating *hn,
    floating *hh, const int *lengths, bint reverse,
) noexcept nogil:
    """The whole sweep for sequences b0:b1: one GEMM and one row pass a step."""
    cdef int s, t, b, ld_prev
    cdef const floating *h_prev
    for s in range(T):
        t = _step(s, T, reverse)
        h_prev = _prev_state(s, t, B, reverse, h0, H, states, W, &ld_prev)
        _step_gemm(b1 - b0, 3 * H, H,
              h_prev + <Py_ssize_t> b0 * ld_prev, ld_prev, weight_hh_t,
              <floating> 0, hh + <Py_ssize_t> b0 * 3 * H, 3 * H, s)
        for b in range(b0, b1):
            _forward_row(gates + (<Py_ssize_t> t * B + b) * 3 * H,
                         hh + <Py_ssize_t> b * 3 * H,
                         hn + (<Py_ssize_t> t * B + b) * H,
                         states + (<Py_ssize_t> t * B + b) * W,
                         h_prev + <Py_ssize_t> b * ld_prev, b_ih, b_hh,
                         t < lengths[b], H)


cdef void _backward_chunk(
    int b0, int b1, int T, int B, int H, int W, const floating *weight_hh,
    const floating *h0, const floating *states, const floating *hn,
    const floating *dl, floating *gates, floating *dA_h, floating *carry,
    const int *lengths, bint reverse, int bptt_steps,
) noexcept nogil:
    """The reverse sweep for sequences b0:b1."""
    cdef int s, t, b, ld_prev
    cdef const floating *h_prev
    for s in range(T - 1, -1, -1):
        t = _step(s, T, reverse)
        h_prev = _prev_state(s, t, B, reverse, h0, H, states, W, &ld_prev)
        for b in range(b0, b1):
            _backward_row(gates + (<Py_ssize_t> t * B + b) * 3 * H,
                          dA_h + (<Py_ssize_t> t * B + b) * 3 * H,
                          hn + (<Py_ssize_t> t * B + b) * H,
                          dl + (<Py_ssize_t> t * B + b) * W, carry + b * H,
                          h_prev + <Py_ssize_t> b * ld_prev, t < lengths[b], H)
        _step_gemm(b1 - b0, H, 3 * H,
              dA_h + (<Py_ssize_t> t * B + b0) * 3 * H, 3 * H, weight_hh,
              <floating> 1, carry + b0 * H, H, s)
        if bptt_steps > 0:
            for b in range(b0, b1):
                if _window_start(t, lengths[b], bptt_steps, reverse):
                    memset(carry + b * H, 0, H * sizeof(floating))


def gru_forward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (3H, F)
    const floating[:, ::1] weight_hh,      # IN  (3H, H)
    const floating[::1] bias_ih,           # IN  (3H,)
    const floating[::1] bias_hh,           # IN  (3H,)
    const floating[:, ::1] h0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    floating[:, :, ::1] out,               # OUT (T, B, W) h_t in columns col:col+H
    int col,
    floating[:, :, ::1] gates,             # OUT (T, B, 3H) activated gates r, z, n
    floating[:, :, ::1] hn,                # OUT (T, B, H) W_hn h_prev + b_hn
    floating[:, ::1] hh,                   # scratch (B, 3H)
    bint reverse,
    int n_threads,
):
    """Run one direction of one GRU layer over a batch of sequences.

    Parameters
    ----------
    X, weight_ih, weight_hh, bias_ih, bias_hh, h0, lengths, out, col, reverse,
    n_threads
        As in :func:`sklearn_rnn._kernels._rnn_fast.rnn_forward`, with
        ``G*H = 3H`` rows in the weights.
    gates : ndarray of shape (T, B, 3H)
        Out: the activated gates (r, z, n) of every step, for BPTT.
    hn : ndarray of shape (T, B, H)
        Out: ``W_hn h_{t-1} + b_hn`` of every step, for BPTT.
    hh : ndarray of shape (B, 3H)
        Scratch for the recurrent GEMM of one step.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[1], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * 3 * H * (H + 8), n_chunks, n_threads)
    cdef floating *states
    cdef floating *w_t = NULL
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    w_t = _packed_weight(&weight_hh[0, 0], weight_hh.shape[0], H, True)
    with nogil:
        _gemm_split(NoTrans, Trans, T * B, 3 * H, F, <floating> 1, &X[0, 0, 0], F,
                    &weight_ih[0, 0], F, <floating> 0, &gates[0, 0, 0], 3 * H,
                    n_threads)
        for c in prange(n_chunks, num_threads=nt, schedule="static"):
            _forward_chunk(c * rows, min(B, (c + 1) * rows), T, B, H, W,
                           w_t, &bias_ih[0], &bias_hh[0], &h0[0, 0],
                           states, &gates[0, 0, 0], &hn[0, 0, 0], &hh[0, 0],
                           &lengths[0], reverse)
        free(w_t)


def gru_backward(
    const floating[:, :, ::1] X,           # IN  (T, B, F)
    const floating[:, ::1] weight_ih,      # IN  (3H, F)
    const floating[:, ::1] weight_hh,      # IN  (3H, H)
    const floating[:, ::1] h0,             # IN  (B, H)
    const int[::1] lengths,                # IN  (B,)
    const floating[:, :, ::1] out,         # IN  (T, B, W)
    int col,
    floating[:, :, ::1] gates,             # IN gates / OUT dL/da_input (T, B, 3H)
    const floating[:, :, ::1] hn,          # IN  (T, B, H)
    floating[:, :, ::1] dA_h,              # OUT (T, B, 3H) dL/da_recurrent
    const floating[:, :, ::1] delta,       # IN  (T, B, W) dL/dh_t in columns col:col+H
    floating[:, ::1] grad_h0,              # OUT (B, H)
    floating[:, :, ::1] grad_X,            # OUT (T, B, F), or shape (0, 0, 0)
    bint accumulate_X,
    floating[:, ::1] grad_weight_ih,       # OUT (3H, F)
    floating[:, ::1] grad_weight_hh,       # OUT (3H, H)
    floating[::1] grad_bias_ih,            # OUT (3H,)
    floating[::1] grad_bias_hh,            # OUT (3H,)
    bint reverse,
    int bptt_steps,
    int n_threads,
):
    """Backpropagation through time for one direction of one GRU layer.

    Parameters
    ----------
    As :func:`sklearn_rnn._kernels._rnn_fast.rnn_backward`, plus ``gates``
    and ``hn`` as filled by :func:`gru_forward` (``gates`` is overwritten
    with dL/d(input pre-activations)) and the workspace ``dA_h``.
    """
    cdef int T = X.shape[0], B = X.shape[1], F = X.shape[2]
    cdef int H = weight_hh.shape[1], W = out.shape[2]
    cdef int c, rows = _chunk_rows(B), n_chunks = _n_chunks(B)
    cdef int nt = _threads_for(<double> T * B * 3 * H * (H + 8), n_chunks, n_threads)
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
                            w_p, &h0[0, 0], states, &hn[0, 0, 0], dl,
                            &gates[0, 0, 0], &dA_h[0, 0, 0], carry, &lengths[0],
                            reverse, bptt_steps)
        free(w_p)
        _weight_gradients(T, B, F, H, 3 * H, &X[0, 0, 0], &gates[0, 0, 0], 3 * H,
                          &dA_h[0, 0, 0], 3 * H, states, W, &h0[0, 0],
                          &weight_ih[0, 0], &grad_weight_ih[0, 0],
                          &grad_weight_hh[0, 0], &grad_bias_ih[0],
                          &grad_bias_hh[0], gx, accumulate_X, reverse, n_threads)
