# Pieces shared by the three cell kernels (_rnn_fast, _lstm_fast, _gru_fast):
# the sweep order, the previous state of a step, truncated-BPTT window starts
# and the weight-gradient GEMMs after the reverse sweep. Everything is
# inline, nogil, and works on raw pointers plus row strides ("ld").
from cython cimport floating

from cython.parallel cimport prange
from libc.stdlib cimport malloc
from libc.string cimport memcpy

from ._cython_blas cimport _gemm, BLAS_Trans, RowMajor, NoTrans, Trans
from ._gate_math cimport (
    skrnn_pack_f32, skrnn_pack_f64, skrnn_step_gemm_f32, skrnn_step_gemm_f64,
)


cdef enum:
    # The recurrence runs in chunks of sequences: each OpenMP thread sweeps
    # its chunks through all time steps with its own (single-threaded) GEMM
    # per step, so threads never wait for each other inside the time loop.
    # The chunking depends on the batch size only, never on the thread
    # count, so results are identical for any number of threads.
    MIN_CHUNK_ROWS = 8
    MAX_CHUNKS = 16
    # The large GEMMs (input projection, weight gradients, dX) are split into
    # min(GEMM_BLOCKS, max(m // GEMM_BLOCK_ROWS, min(2, m // GEMM_MIN_ROWS)))
    # fixed blocks (at least 1, rounded up to an even count) of their m
    # output rows (a function of the shape only), one single-threaded GEMM
    # each: blocks of 256 rows or more, but 2 smaller ones when that is all
    # the rows allow, so that two threads share the work (an odd count, 3
    # blocks for T*B = 800, left one thread idle a third of the time). Each
    # block repacks the whole right-hand operand, so blocks stay large: for
    # the weight gradients (rows = 4H, inner dimension T*B) 8 blocks of 32
    # rows made the backward pass ~1.5x slower than 2 blocks, and 256 rows
    # rather than 64 took ~10% off an LSTM backward pass with H = 128 or 512
    # (OpenBLAS's packing copies were more time than its multiply kernel).
    GEMM_BLOCKS = 8
    GEMM_BLOCK_ROWS = 256
    GEMM_MIN_ROWS = 32
    # Below this many multiply-adds a call runs on one thread: starting
    # OpenMP threads costs more than it saves.
    PARALLEL_MIN_WORK = 262144


cdef inline int _chunk_rows(int B) noexcept nogil:
    """Sequences per chunk for a batch of B (a function of B alone)."""
    return max(<int> MIN_CHUNK_ROWS, (B + MAX_CHUNKS - 1) // MAX_CHUNKS)


cdef inline int _n_chunks(int B) noexcept nogil:
    cdef int rows = _chunk_rows(B)
    return (B + rows - 1) // rows


cdef inline int _threads_for(double work, int n_tasks, int n_threads) noexcept nogil:
    """Threads worth using for ``work`` multiply-adds in ``n_tasks`` pieces."""
    if work < PARALLEL_MIN_WORK or n_threads < 2:
        return 1
    return min(n_threads, n_tasks)


cdef inline void _gemm_split(
    BLAS_Trans ta, BLAS_Trans tb, int m, int n, int k, floating alpha,
    const floating *A, int lda, const floating *B, int ldb, floating beta,
    floating *C, int ldc, int n_threads,
) noexcept nogil:
    """Row-major C = alpha op(A) op(B) + beta C, rows of C in fixed blocks.

    Each block is one single-threaded GEMM; blocks run on OpenMP threads.
    """
    cdef int n_blocks = max(1, min(<int> GEMM_BLOCKS, max(m // GEMM_BLOCK_ROWS,
                                                         min(2, m // GEMM_MIN_ROWS))))
    if n_blocks > 1:
        n_blocks += n_blocks % 2  # an even count keeps two threads equally busy
    cdef int rows = (m + n_blocks - 1) // n_blocks
    cdef int nt = _threads_for(<double> m * n * k, n_blocks, n_threads)
    cdef int i
    for i in prange(n_blocks, num_threads=nt, schedule="static"):
        _gemm_block(ta, tb, i * rows, min(rows, m - i * rows), n, k, alpha, A,
                    lda, B, ldb, beta, C, ldc)


cdef inline void _gemm_block(
    BLAS_Trans ta, BLAS_Trans tb, int m0, int mm, int n, int k, floating alpha,
    const floating *A, int lda, const floating *B, int ldb, floating beta,
    floating *C, int ldc,
) noexcept nogil:
    """Rows m0:m0+mm of a row-major GEMM."""
    if mm <= 0:
        return
    if ta == NoTrans:
        A = A + <Py_ssize_t> m0 * lda
    else:
        A = A + m0  # rows of op(A) = A^T are columns of A
    _gemm(RowMajor, ta, tb, mm, n, k, alpha, A, lda, B, ldb, beta,
          C + <Py_ssize_t> m0 * ldc, ldc)


cdef inline void _step_gemm(
    int m, int n, int k, const floating *A, int lda, const floating *P,
    floating beta, floating *C, int ldc, int s,
) noexcept nogil:
    """Row-major C = A @ B + beta C for the s-th step of a sweep.

    ``P`` is the (k, n) matrix B packed by ``_packed_weight``: W_hh^T in the
    forward sweep, W_hh itself in the reverse sweep. Our own register-
    blocked loops (``_gate_math.h``), not BLAS: the weights are packed once
    per call rather than at every step, and a row's result does not depend
    on the chunking. Odd steps read the packed panels last to first, so a
    step starts on the panels that the one before read last, still in the
    cache (the same sums: only the order of the columns changes).
    """
    if floating is float:
        skrnn_step_gemm_f32(m, n, k, A, lda, P, beta, C, ldc, s & 1)
    else:
        skrnn_step_gemm_f64(m, n, k, A, lda, P, beta, C, ldc, s & 1)


cdef inline floating *_packed_weight(const floating *W, int rows, int cols,
                                     bint transpose) except NULL:
    """The (rows, cols) matrix W, or its transpose, packed for ``_step_gemm``.

    B = W^T (k = cols, n = rows) for the forward sweep when ``transpose``,
    else B = W (k = rows, n = cols) for the reverse sweep. The result is
    malloc'ed (the caller frees it); MemoryError when memory runs out.
    """
    cdef floating *P = <floating *> malloc(<size_t> rows * cols * sizeof(floating))
    cdef int k = cols if transpose else rows
    cdef int n = rows if transpose else cols
    cdef Py_ssize_t sp = 1 if transpose else cols
    cdef Py_ssize_t sj = cols if transpose else 1
    if P == NULL:
        raise MemoryError("cannot allocate the packed recurrent weights")
    if floating is float:
        skrnn_pack_f32(k, n, W, sp, sj, P)
    else:
        skrnn_pack_f64(k, n, W, sp, sj, P)
    return P


cdef inline int _step(int s, int T, bint reverse) noexcept nogil:
    """Time index of the s-th step of the forward sweep."""
    return T - 1 - s if reverse else s


cdef inline const floating *_prev_state(
    int s, int t, int B, bint reverse, const floating *state0, int ld0,
    const floating *states, int ld, int *ld_prev,
) noexcept nogil:
    """The state before step t (the s-th of the sweep): state0 or a stored one.

    ``states`` points at column 0 of this direction in a (T, B, ld) buffer.
    """
    if s == 0:
        ld_prev[0] = ld0
        return state0
    ld_prev[0] = ld
    if reverse:
        return states + <Py_ssize_t> (t + 1) * B * ld
    return states + <Py_ssize_t> (t - 1) * B * ld


cdef inline bint _window_start(int t, int length, int bptt_steps,
                               bint reverse) noexcept nogil:
    """True when truncated BPTT stops the gradient before step t.

    Windows of ``bptt_steps`` steps are counted in the sweep's own order from
    the sequence's first step (forward) or last valid step (reverse), so a
    sequence is truncated the same way alone or in a padded batch.
    """
    if bptt_steps <= 0:
        return False
    if t >= length:
        return False  # padded steps pass the gradient through unchanged
    if reverse:
        return (length - 1 - t) % bptt_steps == 0
    return t % bptt_steps == 0


cdef inline void _column_sums(const floating *A, Py_ssize_t rows, int cols,
                              int ld, floating *out) noexcept nogil:
    """out[j] = sum_r A[r, j], in a fixed order (deterministic)."""
    cdef Py_ssize_t r
    cdef int j
    for j in range(cols):
        out[j] = 0
    for r in range(rows):
        for j in range(cols):
            out[j] += A[r * ld + j]


cdef inline void _weight_gradients(
    int T, int B, int F, int H, int GH,
    const floating *X,                  # (T*B, F)
    const floating *dA_i, int ld_i,     # (T*B, GH): dL/d(input pre-activations)
    const floating *dA_h, int ld_h,     # (T*B, GH): dL/d(recurrent pre-activations)
    const floating *states, int ld,     # h_t of this direction, rows of stride ld
    const floating *h0,                 # (B, H)
    const floating *weight_ih,          # (GH, F)
    floating *grad_weight_ih, floating *grad_weight_hh,
    floating *grad_bias_ih, floating *grad_bias_hh,
    floating *grad_X, bint accumulate_X,  # (T*B, F) or NULL
    bint reverse, int n_threads,
) noexcept nogil:
    """All parameter gradients (and dX) from the pre-activation gradients.

    Each is one large GEMM over all steps, split by output rows over threads.
    """
    cdef Py_ssize_t TB = <Py_ssize_t> T * B
    cdef int first = T - 1 if reverse else 0
    # dW_ih = dA_i^T (GH, T*B) @ X (T*B, F)
    _gemm_split(Trans, NoTrans, GH, F, <int> TB, <floating> 1, dA_i, ld_i,
                X, F, <floating> 0, grad_weight_ih, F, n_threads)
    # dW_hh = sum_t dA_h[t]^T h_prev(t): the sweep's first step reads h0, the
    # others a stored state, which together form one (T-1)*B block.
    _gemm_split(Trans, NoTrans, GH, H, B, <floating> 1,
                dA_h + <Py_ssize_t> first * B * ld_h, ld_h, h0, H, <floating> 0,
                grad_weight_hh, H, n_threads)
    if T > 1:
        if reverse:
            _gemm_split(Trans, NoTrans, GH, H, (T - 1) * B, <floating> 1,
                        dA_h, ld_h, states + <Py_ssize_t> B * ld, ld,
                        <floating> 1, grad_weight_hh, H, n_threads)
        else:
            _gemm_split(Trans, NoTrans, GH, H, (T - 1) * B, <floating> 1,
                        dA_h + <Py_ssize_t> B * ld_h, ld_h, states, ld,
                        <floating> 1, grad_weight_hh, H, n_threads)
    # A pass over all of dA (13 MB for the LSTM medium config), bound by
    # memory bandwidth: rnn and LSTM share one dA, so their bias gradients
    # are equal and the second pass is a copy.
    _column_sums(dA_i, TB, GH, ld_i, grad_bias_ih)
    if dA_h == dA_i and ld_h == ld_i:
        memcpy(grad_bias_hh, grad_bias_ih, GH * sizeof(floating))
    else:
        _column_sums(dA_h, TB, GH, ld_h, grad_bias_hh)
    # dX (+)= dA_i (T*B, GH) @ W_ih (GH, F)
    if grad_X != NULL:
        _gemm_split(NoTrans, NoTrans, <int> TB, F, GH, <floating> 1, dA_i, ld_i,
                    weight_ih, F, <floating> (1 if accumulate_X else 0), grad_X,
                    F, n_threads)
