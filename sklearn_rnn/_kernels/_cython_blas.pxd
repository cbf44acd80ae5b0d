# Fused float/double BLAS wrappers over scipy.linalg.cython_blas, callable
# without the GIL. Row-major calls are done by swapping operands (C^T = B^T A^T).
from cython cimport floating


cpdef enum BLAS_Order:
    RowMajor
    ColMajor


cpdef enum BLAS_Trans:
    NoTrans = 110  # ord('n')
    Trans = 116    # ord('t')


cdef void _gemm(BLAS_Order order, BLAS_Trans ta, BLAS_Trans tb, int m, int n,
                int k, floating alpha, const floating *A, int lda,
                const floating *B, int ldb, floating beta, floating *C,
                int ldc) noexcept nogil

cdef floating _dot(int n, const floating *x, int incx,
                   const floating *y, int incy) noexcept nogil
