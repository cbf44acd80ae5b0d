"""The dense output layer with its loss, the softmax of ``predict_proba``,
and the finiteness check of results (and of ``predict``'s input), compiled.

Design:

* One training mini-batch runs the output layer, the loss and the output
  layer's gradient in one call (``dense_loss_grad``): two small GEMMs
  forward and back plus a pass over the (rows, outputs) logits. In NumPy
  these were 8 calls (matmul, bias, row weights, loss, three matmuls or
  reductions, the copy of dL/dfeatures into the top layer's gradient), each
  10-90 us right after a kernel has evicted the caches (380 us of an rnn
  medium mini-batch under line_profiler; ``profile_fit.py`` measured 720-790
  us a mini-batch outside the kernels with this call against 830-1,110
  without).
* ``predict`` runs the same forward part (``dense_forward``), and
  ``RecurrentNetwork.backward`` the same backward part
  (``dense_backward``): one implementation of the layer.
* The losses (``loss_grad``, codes in ``LOSSES``) run row by row over the
  logits. A row of weight 0 is skipped (no loss, zero gradient): padded
  steps, whose targets may be NaN, and zero-weight samples. Sums run in
  double in a fixed order, so results do not depend on the batch or the
  thread count. ``_base.LOSS_FUNCTIONS`` are the NumPy references they are
  tested against.
* The softmax of one sequence's logits takes 1.6 us here against 6.5 for
  ``_base.softmax_rows``, of an ~80 us ``predict_proba``.
"""

from cython cimport floating
from libc.math cimport exp, fabs, log, log1p
from libc.stdlib cimport malloc, free

from ._cython_blas cimport _gemm, RowMajor, NoTrans, Trans
from ._gate_math cimport skrnn_all_finite_f32, skrnn_all_finite_f64

cdef enum:
    SQUARED_ERROR = 0
    LOG_LOSS = 1
    BINARY_LOG_LOSS = 2

#: Codes of ``loss_grad`` and ``dense_loss_grad``, by ``_base`` loss name.
LOSSES = {"squared_error": SQUARED_ERROR, "log_loss": LOG_LOSS,
          "binary_log_loss": BINARY_LOG_LOSS}


cdef double *_scratch(Py_ssize_t k) except NULL:
    """k + 1 doubles of scratch for one row (free it)."""
    cdef double *e = <double *> malloc((k + 1) * sizeof(double))
    if e == NULL:
        raise MemoryError()
    return e


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
    e = _scratch(k)
    with nogil:
        for i in range(n):
            _exp_shifted(&Z[i, 0], k, e)
            for j in range(k):
                Z[i, j] = <floating> (e[j] * e[k])
        free(e)


cdef double _loss_rows(int loss, floating[:, ::1] Z, const floating[:, ::1] Y,
                       const floating[::1] w, bint weighted,
                       double *e) noexcept nogil:
    """Loss of the rows of logits ``Z`` (n, k) against ``Y``; overwrites
    ``Z`` with dL/dZ. ``w``: row weights when ``weighted``, else 1/n each.
    ``e``: k + 1 doubles of scratch."""
    cdef Py_ssize_t n = Z.shape[0], k = Z.shape[1], i, j
    cdef double total = 0, row, wi, lse, z, y, d, p
    cdef floating *zi
    if k == 0:
        return 0
    for i in range(n):
        wi = w[i] if weighted else 1.0 / n
        zi = &Z[i, 0]
        if wi == 0:
            for j in range(k):
                zi[j] = 0
            continue
        row = 0
        if loss == LOG_LOSS:
            # -sum_j y_j log softmax(z)_j; gradient softmax(z) - y
            lse = _exp_shifted(zi, k, e)
            for j in range(k):
                y = Y[i, j]
                row -= y * (zi[j] - lse)
                zi[j] = <floating> ((e[j] * e[k] - y) * wi)
        elif loss == BINARY_LOG_LOSS:
            # sum_j log(1 + exp(z_j)) - y_j z_j; gradient sigmoid(z) - y
            for j in range(k):
                z, y = zi[j], Y[i, j]
                d = exp(-fabs(z))
                row += (z if z > 0 else 0) + log1p(d) - y * z
                p = 1 / (1 + d) if z >= 0 else d / (1 + d)
                zi[j] = <floating> ((p - y) * wi)
        else:
            # half the mean over outputs of (z - y)^2
            for j in range(k):
                d = zi[j] - Y[i, j]
                row += d * d
                zi[j] = <floating> (d * wi / k)
            row *= 0.5 / k
        total += wi * row
    return total


cdef void _dense_forward(const floating[:, ::1] F, const floating[:, ::1] coef,
                         const floating[::1] b, floating[:, ::1] Z) noexcept nogil:
    """Z (n, k) = F (n, K) @ coef (K, k) + b."""
    cdef Py_ssize_t n = Z.shape[0], K = F.shape[1], k = Z.shape[1], i, j
    for i in range(n):
        for j in range(k):
            Z[i, j] = b[j]
    if n > 0 and K > 0 and k > 0:
        _gemm(RowMajor, NoTrans, NoTrans, <int> n, <int> k, <int> K, 1, &F[0, 0],
              <int> K, &coef[0, 0], <int> k, 1, &Z[0, 0], <int> k)


cdef void _dense_backward(const floating[:, ::1] F, const floating[:, ::1] coef,
                          const floating[:, ::1] dZ, floating[:, ::1] gcoef,
                          floating[::1] gb, floating[:, ::1] dF,
                          double *acc) noexcept nogil:
    """From dL/dZ (n, k): gcoef = F^T dZ, gb = column sums of dZ (in the
    k doubles of ``acc``), dF (n, K) = dZ coef^T."""
    cdef Py_ssize_t n = dZ.shape[0], K = F.shape[1], k = dZ.shape[1], i, j
    for j in range(k):
        acc[j] = 0
    for i in range(n):
        for j in range(k):
            acc[j] += dZ[i, j]
    for j in range(k):
        gb[j] = <floating> acc[j]
    if K == 0 or k == 0:
        return
    if n == 0:
        gcoef[...] = 0
        return
    _gemm(RowMajor, Trans, NoTrans, <int> K, <int> k, <int> n, 1, &F[0, 0], <int> K,
          &dZ[0, 0], <int> k, 0, &gcoef[0, 0], <int> k)
    _gemm(RowMajor, NoTrans, Trans, <int> n, <int> K, <int> k, 1, &dZ[0, 0], <int> k,
          &coef[0, 0], <int> k, 0, &dF[0, 0], <int> K)


cdef _check_layer(features, coef, intercept, Z):
    if (coef.shape[0] != features.shape[1] or intercept.shape[0] != coef.shape[1]
            or Z.shape[0] != features.shape[0] or Z.shape[1] != coef.shape[1]):
        raise ValueError(
            "output layer: inconsistent shapes: features %s, coef %s, "
            "intercept %s, outputs %s" % (tuple(features.shape[:2]),
            tuple(coef.shape[:2]), intercept.shape[0], tuple(Z.shape[:2])))


cdef _check_grads(features, coef, gcoef, dfeatures):
    if (gcoef.shape[0] != coef.shape[0] or gcoef.shape[1] != coef.shape[1]
            or dfeatures.shape[0] != features.shape[0]
            or dfeatures.shape[1] != features.shape[1]):
        raise ValueError("output layer: inconsistent gradient shapes")


cdef _check_targets(name, Z, Y, w, int loss):
    if (Y.shape[0] != Z.shape[0] or Y.shape[1] != Z.shape[1]
            or (w is not None and w.shape[0] != Z.shape[0])):
        raise ValueError("%s: inconsistent shapes of targets or weights" % name)
    if loss not in (SQUARED_ERROR, LOG_LOSS, BINARY_LOG_LOSS):
        raise ValueError("%s: unknown loss code %d" % (name, loss))


def loss_grad(
    floating[:, ::1] Z,                    # IN/OUT (n, k) logits -> dL/dZ
    const floating[:, ::1] Y,              # IN  (n, k) targets
    const floating[::1] w,                 # IN  (n,) row weights, or None
    int loss,                              # a code of LOSSES
):
    """Loss of the logits ``Z`` against ``Y``; ``Z`` is overwritten with
    its gradient.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Logits in, dL/dZ out.
    Y : ndarray of shape (n, k)
        Targets: one-hot (``log_loss``), 0/1 (``binary_log_loss``) or values.
    w : ndarray of shape (n,) or None
        Row weights summing to one (``_base._row_weights``); None: 1/n each.
    loss : int
        ``LOSSES[name]``.

    Returns
    -------
    loss : float
        ``sum_i w[i] loss(Z[i], Y[i])``, each loss as in ``_base``.
    """
    _check_targets("loss_grad", Z, Y, w, loss)
    cdef double result
    cdef double *e = _scratch(Z.shape[1])
    with nogil:
        result = _loss_rows(loss, Z, Y, w, w is not None, e)
        free(e)
    return result


def dense_forward(
    const floating[:, ::1] features,       # IN  (n, K)
    const floating[:, ::1] coef,           # IN  (K, k)
    const floating[::1] intercept,         # IN  (k,)
    floating[:, ::1] Z,                    # OUT (n, k)
):
    """The output layer: ``Z = features @ coef + intercept``."""
    _check_layer(features, coef, intercept, Z)
    with nogil:
        _dense_forward(features, coef, intercept, Z)


def dense_backward(
    const floating[:, ::1] features,       # IN  (n, K)
    const floating[:, ::1] coef,           # IN  (K, k)
    const floating[:, ::1] dZ,             # IN  (n, k)
    floating[:, ::1] gcoef,                # OUT (K, k)
    floating[::1] gintercept,              # OUT (k,)
    floating[:, ::1] dfeatures,            # OUT (n, K)
):
    """Gradients of the output layer from dL/dZ: dL/dcoef, dL/dintercept
    and dL/dfeatures."""
    _check_layer(features, coef, gintercept, dZ)
    _check_grads(features, coef, gcoef, dfeatures)
    cdef double *acc = _scratch(dZ.shape[1])
    with nogil:
        _dense_backward(features, coef, dZ, gcoef, gintercept, dfeatures, acc)
        free(acc)


def dense_loss_grad(
    const floating[:, ::1] features,       # IN  (n, K) pooled top states
    const floating[:, ::1] coef,           # IN  (K, k)
    const floating[::1] intercept,         # IN  (k,)
    const floating[:, ::1] Y,              # IN  (n, k) targets
    const floating[::1] w,                 # IN  (n,) row weights, or None
    int loss,                              # a code of LOSSES
    floating[:, ::1] work,                 # SCRATCH (n, k)
    floating[:, ::1] gcoef,                # OUT (K, k)
    floating[::1] gintercept,              # OUT (k,)
    floating[:, ::1] dfeatures,            # OUT (n, K)
):
    """Output layer, loss and the layer's gradients of one mini-batch.

    ``dense_forward``, ``loss_grad`` and ``dense_backward`` in one call:
    ``work`` holds the logits, then dL/dZ.

    Returns
    -------
    loss : float
    """
    _check_layer(features, coef, intercept, work)
    _check_grads(features, coef, gcoef, dfeatures)
    _check_targets("dense_loss_grad", work, Y, w, loss)
    cdef double result
    cdef double *e = _scratch(work.shape[1])
    with nogil:
        _dense_forward(features, coef, intercept, work)
        result = _loss_rows(loss, work, Y, w, w is not None, e)
        _dense_backward(features, coef, work, gcoef, gintercept, dfeatures, e)
        free(e)
    return result


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
