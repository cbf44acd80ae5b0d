"""Forward pass and backpropagation through time of the GRU cell.

PyTorch's formulation and gate order (r, z, n), stacked in one (3H, .)
weight; the candidate's recurrent term is gated *after* its bias (ONNX's
``linear_before_reset=1``)::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}

Design: as in ``_rnn_fast``. Because of the ``r *`` inside ``n``, the
recurrent GEMM of a step goes to a scratch ``hh`` (B, 3H) instead of being
added to the input projection; the forward pass stores the activated gates
(r, z, n) in ``gates`` and ``W_hn h + b_hn`` in ``hn``. The backward pass
overwrites ``gates`` with dL/d(input pre-activations) and fills ``dA_h``
with dL/d(recurrent pre-activations), which differ in the n block by r.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

from ._activations cimport _sigmoid, _tanh
from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans
from ._recurrent_common cimport (
    _n_threads_for, _step, _prev_state, _window_start, _weight_gradients,
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
    cdef int j
    cdef floating r, z, n, hn_j
    if not valid:
        memcpy(h, h_prev, H * sizeof(floating))
        memset(hn, 0, H * sizeof(floating))
        return
    for j in range(H):
        r = _sigmoid(a[j] + b_ih[j] + hh[j] + b_hh[j])
        z = _sigmoid(a[H + j] + b_ih[H + j] + hh[H + j] + b_hh[H + j])
        hn_j = hh[2 * H + j] + b_hh[2 * H + j]
        n = _tanh(a[2 * H + j] + b_ih[2 * H + j] + r * hn_j)
        a[j] = r
        a[H + j] = z
        a[2 * H + j] = n
        hn[j] = hn_j
        h[j] = (1 - z) * n + z * h_prev[j]


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
    cdef floating r, z, n, dh, dan
    if not valid:
        for j in range(H):
            carry[j] += delta[j]
        memset(a, 0, 3 * H * sizeof(floating))
        memset(ah, 0, 3 * H * sizeof(floating))
        return
    for j in range(H):
        r = a[j]
        z = a[H + j]
        n = a[2 * H + j]
        dh = delta[j] + carry[j]
        dan = dh * (1 - z) * (1 - n * n)
        a[j] = dan * hn[j] * r * (1 - r)
        a[H + j] = dh * (h_prev[j] - n) * z * (1 - z)
        a[2 * H + j] = dan
        ah[j] = a[j]
        ah[H + j] = a[H + j]
        ah[2 * H + j] = dan * r
        carry[j] = dh * z


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
    cdef int s, t, b, ld_prev
    cdef int nt = _n_threads_for(B, 3 * H, n_threads)
    cdef floating *states
    cdef const floating *h_prev
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    with nogil:
        _gemm(RowMajor, NoTrans, Trans, T * B, 3 * H, F, <floating> 1,
              &X[0, 0, 0], F, &weight_ih[0, 0], F, <floating> 0,
              &gates[0, 0, 0], 3 * H)
        for s in range(T):
            t = _step(s, T, reverse)
            h_prev = _prev_state(s, t, B, reverse, &h0[0, 0], H, states, W,
                                 &ld_prev)
            _gemm(RowMajor, NoTrans, Trans, B, 3 * H, H, <floating> 1, h_prev,
                  ld_prev, &weight_hh[0, 0], H, <floating> 0, &hh[0, 0], 3 * H)
            for b in prange(B, num_threads=nt, schedule="static"):
                _forward_row(&gates[t, b, 0], &hh[b, 0], &hn[t, b, 0],
                             states + (<Py_ssize_t> t * B + b) * W,
                             h_prev + <Py_ssize_t> b * ld_prev, &bias_ih[0],
                             &bias_hh[0], t < lengths[b], H)


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
    cdef int s, t, b, ld_prev
    cdef int nt = _n_threads_for(B, 3 * H, n_threads)
    cdef floating *carry = &grad_h0[0, 0]
    cdef const floating *states
    cdef const floating *dl
    cdef const floating *h_prev
    cdef floating *gx = NULL
    if T == 0 or B == 0:
        return
    states = &out[0, 0, col]
    dl = &delta[0, 0, col]
    if grad_X.shape[0] > 0:
        gx = &grad_X[0, 0, 0]
    with nogil:
        memset(carry, 0, B * H * sizeof(floating))
        for s in range(T - 1, -1, -1):
            t = _step(s, T, reverse)
            h_prev = _prev_state(s, t, B, reverse, &h0[0, 0], H, states, W,
                                 &ld_prev)
            for b in prange(B, num_threads=nt, schedule="static"):
                _backward_row(&gates[t, b, 0], &dA_h[t, b, 0], &hn[t, b, 0],
                              dl + (<Py_ssize_t> t * B + b) * W, carry + b * H,
                              h_prev + <Py_ssize_t> b * ld_prev, t < lengths[b], H)
            _gemm(RowMajor, NoTrans, NoTrans, B, H, 3 * H, <floating> 1,
                  &dA_h[t, 0, 0], 3 * H, &weight_hh[0, 0], H, <floating> 1,
                  carry, H)
            if bptt_steps > 0:
                for b in range(B):
                    if _window_start(t, lengths[b], bptt_steps, reverse):
                        memset(carry + b * H, 0, H * sizeof(floating))
        _weight_gradients(T, B, F, H, 3 * H, &X[0, 0, 0], &gates[0, 0, 0], 3 * H,
                          &dA_h[0, 0, 0], 3 * H, states, W, &h0[0, 0],
                          &weight_ih[0, 0], &grad_weight_ih[0, 0],
                          &grad_weight_hh[0, 0], &grad_bias_ih[0],
                          &grad_bias_hh[0], gx, accumulate_X, reverse)
