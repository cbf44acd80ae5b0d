"""The output layer's softmax and loss, and the finiteness check of its
results (and of ``predict``'s input), compiled.

Design:

* These run once per mini-batch (the loss) or per ``predict`` call (the
  softmax and the check) on arrays of a few hundred values, where NumPy's
  cost is mostly its per-call overhead: the softmax cross-entropy took ~10
  NumPy calls, 27 us for a (64, 10) batch against 11 us here (most of it
  the 640 calls of ``exp``), and the softmax of one sequence's logits 6.5
  against 1.6 us, of an ~80 us ``predict_proba``.
* The sums run in double, row by row in a fixed order, so results do not
  depend on the batch or the thread count. ``_base.softmax_rows`` and
  ``_base.log_softmax_rows`` are the NumPy references they are tested
  against.
"""

from cython cimport floating
from libc.math cimport exp, log
from libc.stdlib cimport malloc, free

from ._gate_math cimport skrnn_all_finite_f32, skrnn_all_finite_f64


cdef inline double _exp_shifted(const floating *z, Py_ssize_t k,
                                double *e) noexcept nogil:
    """e = exp(z - max z) in double; returns max z + log(sum e), i.e.
    log(sum exp z), and leaves 1 / sum e in e[k]."""
    cdef Py_ssize_t j
    cdef double m = z[0], s = 0
    for j in range(1, k):
        if z[j] > m:
            m = z[j]
    for j in range(k):
        e[j] = exp(z[j] - m)
        s += e[j]
    e[k] = 1 / s
    return m + log(s)


def softmax_rows_inplace(floating[:, ::1] Z):
    """``Z[i] = exp(Z[i] - max Z[i]) / sum exp(Z[i] - max Z[i])``, in place.

    Parameters
    ----------
    Z : ndarray of shape (n, k), C-contiguous
        Logits in, probabilities out.
    """
    cdef Py_ssize_t n = Z.shape[0], k = Z.shape[1], i, j
    cdef double *e  # exp(Z[i] - max Z[i]) and 1 / their sum, one row
    if k == 0 or n == 0:
        return
    e = <double *> malloc((k + 1) * sizeof(double))
    if e == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            _exp_shifted(&Z[i, 0], k, e)
            for j in range(k):
                Z[i, j] = <floating> (e[j] * e[k])
        free(e)


def log_loss_grad(
    const floating[:, ::1] Z,              # IN  (n, k) logits
    const floating[:, ::1] Y,              # IN  (n, k) one-hot targets
    const floating[::1] w,                 # IN  (n,) row weights
    floating[:, ::1] grad,                 # OUT (n, k)
):
    """Softmax cross-entropy of one-hot ``Y`` from logits ``Z``.

    Parameters
    ----------
    Z, Y : ndarray of shape (n, k)
    w : ndarray of shape (n,)
        Weight of each row (``_base._row_weights``: they sum to one).
    grad : ndarray of shape (n, k)
        Out: dL/dZ = (softmax(Z) - Y) * w[:, None].

    Returns
    -------
    loss : float
        ``-sum_i w[i] sum_j Y[i, j] log softmax(Z[i])[j]``.
    """
    cdef Py_ssize_t n = Z.shape[0], k = Z.shape[1], i, j
    cdef double lse, row, loss = 0
    cdef double *e  # exp(Z[i] - max Z[i]) and 1 / their sum, one row
    if (Y.shape[0] != n or Y.shape[1] != k or w.shape[0] != n
            or grad.shape[0] != n or grad.shape[1] != k):
        raise ValueError("log_loss_grad: inconsistent shapes")
    if k == 0 or n == 0:
        return 0.0
    e = <double *> malloc((k + 1) * sizeof(double))
    if e == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            lse = _exp_shifted(&Z[i, 0], k, e)
            row = 0
            for j in range(k):
                row += Y[i, j] * (Z[i, j] - lse)
                grad[i, j] = <floating> ((e[j] * e[k] - Y[i, j]) * w[i])
            loss -= w[i] * row
        free(e)
    return loss


def all_finite(const floating[::1] a):
    """True when no value of ``a`` is NaN or infinite (``_gate_math.h``)."""
    cdef int ok
    if a.shape[0] == 0:
        return True
    with nogil:
        if floating is float:
            ok = skrnn_all_finite_f32(a.shape[0], &a[0])
        else:
            ok = skrnn_all_finite_f64(a.shape[0], &a[0])
    return ok != 0
