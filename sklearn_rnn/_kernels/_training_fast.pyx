"""The per-mini-batch work around the cell kernels: batch assembly and the
parameter update.

Design:

* ``gather_time_major`` builds a time-major mini-batch straight from the
  batch-first training array (one ``memcpy`` of a step's features per
  sequence and step), so ``fit`` needs no transposed copy of the whole
  training set and NumPy's strided transpose (~2 GB/s here) is avoided.
* ``penalize`` and ``adam_step`` replace ~12 NumPy passes (each with its
  temporaries) over the flat parameter vector by two passes: the L2 penalty
  and the squared norms in one, Adam's moments and step in the other. On
  an LSTM with 1.3 M parameters that is ~1 ms instead of ~8 ms a batch.
* Reductions are deterministic: partial sums over fixed blocks of
  ``BLOCK`` elements (in double), added in block order, so the result does
  not depend on the number of threads.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from ._gate_math cimport (
    skrnn_adam_f32, skrnn_adam_f64, skrnn_penalize_f32, skrnn_penalize_f64,
    skrnn_sum_sq_f32, skrnn_sum_sq_f64,
)
from ._recurrent_common cimport _threads_for


cdef enum:
    BLOCK = 16384
    # A mini-batch of fewer bytes is gathered on one thread.
    GATHER_PARALLEL_MIN = 262144


def gather_time_major(
    const floating[:, :, ::1] X,           # IN  (N, T, F) batch-first
    const Py_ssize_t[::1] index,           # IN  (B,) rows of X, each in [0, N)
    floating[:, :, ::1] out,               # OUT (T_out, B, F), T_out <= T
    int n_threads=1,
):
    """``out[t, b] = X[index[b], t]`` for the first ``out.shape[0]`` steps.

    Parameters
    ----------
    X : ndarray of shape (N, T, F)
        The training sequences, batch-first and C-contiguous.
    index : ndarray of shape (B,), dtype intp
        The sequences of the mini-batch.
    out : ndarray of shape (T_out, B, F)
        Out: the mini-batch, time-major.
    n_threads : int
        Threads for copies of at least ``GATHER_PARALLEL_MIN`` bytes, each
        thread copying a contiguous range of sequences.
    """
    cdef Py_ssize_t N = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t T_out = out.shape[0], B = out.shape[1]
    cdef Py_ssize_t t, b, row
    cdef int nt = n_threads if n_threads > 1 and B > 1 else 1
    if index.shape[0] != B or out.shape[2] != F or T_out > T:
        raise ValueError("gather_time_major: inconsistent shapes")
    for b in range(B):
        if index[b] < 0 or index[b] >= N:
            raise IndexError(f"gather_time_major: index {index[b]} out of range")
    if T_out == 0 or B == 0 or F == 0:
        return
    if <size_t> T_out * B * F * sizeof(floating) < GATHER_PARALLEL_MIN:
        nt = 1
    with nogil:
        for b in prange(B, num_threads=nt, schedule="static"):
            row = index[b]
            for t in range(T_out):
                memcpy(&out[t, b, 0], &X[row, t, 0], F * sizeof(floating))


cdef inline Py_ssize_t _n_blocks(Py_ssize_t n) noexcept nogil:
    return (n + BLOCK - 1) // BLOCK


cdef inline double _sum_sq(const floating *a, Py_ssize_t n) noexcept nogil:
    """sum(a ** 2) in double, in a fixed order (``_gate_math.h``)."""
    if floating is float:
        return skrnn_sum_sq_f32(n, a)
    else:
        return skrnn_sum_sq_f64(n, a)


cdef inline double _penalize(const floating *w, floating *g, floating s,
                             Py_ssize_t n) noexcept nogil:
    """g += s * w; returns sum(w ** 2) in double (``_gate_math.h``)."""
    if floating is float:
        return skrnn_penalize_f32(n, w, g, s)
    else:
        return skrnn_penalize_f64(n, w, g, s)


def penalize(
    const floating[::1] theta,             # IN  (P,)
    floating[::1] grad,                    # IN/OUT (P,)
    const Py_ssize_t[:, ::1] ranges,       # IN  (R, 2) [start, stop) of the weights
    double scale,
    int n_threads,
):
    """Add the L2 penalty ``scale * w`` to the gradient of the weights.

    Parameters
    ----------
    theta, grad : ndarray of shape (P,)
        The parameters and their gradient (updated in place).
    ranges : ndarray of shape (R, 2), dtype intp
        The penalized slices of ``theta`` (the weights, not the biases).
    scale : float
        Penalty factor; 0 adds nothing.
    n_threads : int

    Returns
    -------
    weight_sq : float
        ``sum(w ** 2)`` over the penalized slices.
    grad_sq : float
        ``sum(grad ** 2)`` over the whole gradient, after the penalty.
    """
    cdef Py_ssize_t P = theta.shape[0], R = ranges.shape[0]
    cdef Py_ssize_t nb = _n_blocks(P), i, r, lo, hi, start, stop
    cdef double weight_sq = 0, grad_sq = 0, ws
    cdef floating s = <floating> scale
    cdef double *partial
    cdef int nt = _threads_for(<double> P * 4, <int> nb, n_threads)
    if grad.shape[0] != P:
        raise ValueError("penalize: theta and grad differ in size")
    for r in range(R):
        if not 0 <= ranges[r, 0] <= ranges[r, 1] <= P:
            raise ValueError("penalize: range out of bounds")
    if P == 0:
        return 0.0, 0.0
    partial = <double *> malloc(2 * nb * sizeof(double))
    if partial == NULL:
        raise MemoryError()
    with nogil:
        for i in prange(nb, num_threads=nt, schedule="static"):
            lo = i * BLOCK
            hi = min(P, lo + BLOCK)
            ws = 0
            for r in range(R):
                start = max(lo, ranges[r, 0])
                stop = min(hi, ranges[r, 1])
                if start < stop:
                    ws = ws + _penalize(&theta[start], &grad[start], s, stop - start)
            partial[2 * i] = ws
            partial[2 * i + 1] = _sum_sq(&grad[lo], hi - lo)
        for i in range(nb):
            weight_sq += partial[2 * i]
            grad_sq += partial[2 * i + 1]
        free(partial)
    return weight_sq, grad_sq


def adam_step(
    floating[::1] theta,                   # IN/OUT (P,)
    const floating[::1] grad,              # IN  (P,)
    floating[::1] ms,                      # IN/OUT (P,) first moment
    floating[::1] vs,                      # IN/OUT (P,) second moment
    double learning_rate, double beta_1, double beta_2, double epsilon,
    int n_threads,
):
    """One Adam step (scikit-learn's formulation) in one pass::

        ms = beta_1 ms + (1 - beta_1) grad
        vs = beta_2 vs + (1 - beta_2) grad ** 2
        theta -= learning_rate * ms / (sqrt(vs) + epsilon)

    ``learning_rate`` already carries the bias corrections. The loop is C
    (``skrnn_adam`` in ``_gate_math.h``), over blocks of ``BLOCK`` elements
    on the OpenMP threads.
    """
    cdef Py_ssize_t P = theta.shape[0], nb = _n_blocks(P), i, lo
    cdef int nt = _threads_for(<double> P * 8, <int> nb, n_threads)
    if grad.shape[0] != P or ms.shape[0] != P or vs.shape[0] != P:
        raise ValueError("adam_step: arrays differ in size")
    if P == 0:
        return
    with nogil:
        for i in prange(nb, num_threads=nt, schedule="static"):
            lo = i * BLOCK
            if floating is float:
                skrnn_adam_f32(min(<Py_ssize_t> BLOCK, P - lo), &theta[lo], &grad[lo],
                               &ms[lo], &vs[lo], <float> learning_rate,
                               <float> beta_1, <float> beta_2,
                               <float> (1 - beta_1), <float> (1 - beta_2),
                               <float> epsilon)
            else:
                skrnn_adam_f64(min(<Py_ssize_t> BLOCK, P - lo), &theta[lo], &grad[lo],
                               &ms[lo], &vs[lo], learning_rate, beta_1, beta_2,
                               1 - beta_1, 1 - beta_2, epsilon)
