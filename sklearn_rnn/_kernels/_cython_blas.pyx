"""Fused BLAS wrappers used by the kernels.

Design: the kernels only ever call ``_gemm``/``_dot`` defined here, never
SciPy's ``sgemm``/``dgemm`` directly, so the float32/float64 dispatch and the
row-major convention live in one place. ``_gemm_memview`` exposes ``_gemm``
to the tests.
"""

from cython cimport floating
from scipy.linalg.cython_blas cimport sdot, ddot, sgemm, dgemm


cdef void _gemm(BLAS_Order order, BLAS_Trans ta, BLAS_Trans tb, int m, int n,
                int k, floating alpha, const floating *A, int lda,
                const floating *B, int ldb, floating beta, floating *C,
                int ldc) noexcept nogil:
    """C = alpha * op(A) @ op(B) + beta * C, op(A) is (m, k), op(B) is (k, n).

    lda/ldb/ldc are the leading dimensions in the given order (row stride for
    RowMajor).
    """
    cdef char ta_ = ta
    cdef char tb_ = tb
    if m == 0 or n == 0:
        return
    if order == RowMajor:
        # Row-major C (m, n) is column-major C^T (n, m) = op(B)^T op(A)^T.
        if floating is float:
            sgemm(&tb_, &ta_, &n, &m, &k, &alpha, <float*> B, &ldb,
                  <float*> A, &lda, &beta, C, &ldc)
        else:
            dgemm(&tb_, &ta_, &n, &m, &k, &alpha, <double*> B, &ldb,
                  <double*> A, &lda, &beta, C, &ldc)
    else:
        if floating is float:
            sgemm(&ta_, &tb_, &m, &n, &k, &alpha, <float*> A, &lda,
                  <float*> B, &ldb, &beta, C, &ldc)
        else:
            dgemm(&ta_, &tb_, &m, &n, &k, &alpha, <double*> A, &lda,
                  <double*> B, &ldb, &beta, C, &ldc)


cdef floating _dot(int n, const floating *x, int incx,
                   const floating *y, int incy) noexcept nogil:
    """Dot product of two strided vectors."""
    if floating is float:
        return sdot(&n, <float*> x, &incx, <float*> y, &incy)
    else:
        return ddot(&n, <double*> x, &incx, <double*> y, &incy)


def _gemm_memview(BLAS_Trans ta, BLAS_Trans tb, double alpha,
                  const floating[:, ::1] A, const floating[:, ::1] B,
                  double beta, floating[:, ::1] C):
    """Row-major ``C = alpha op(A) op(B) + beta C`` on C-contiguous arrays (tests)."""
    cdef int m = A.shape[1] if ta == Trans else A.shape[0]
    cdef int k = A.shape[0] if ta == Trans else A.shape[1]
    cdef int n = B.shape[0] if tb == Trans else B.shape[1]
    with nogil:
        _gemm(RowMajor, ta, tb, m, n, k, <floating> alpha, &A[0, 0], A.shape[1],
              &B[0, 0], B.shape[1], <floating> beta, &C[0, 0], C.shape[1])
