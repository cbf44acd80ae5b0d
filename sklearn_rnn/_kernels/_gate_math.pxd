# The element-wise gate math of the three cells, one row (one sequence, one
# step) at a time. The loops are C (``_gate_math.h``: restrict pointers, so
# that gcc vectorises them, which Cython cannot express); this file declares
# them (and the per-step product, dispatched in ``_recurrent_common.pxd``)
# and gives each gate function a fused-type wrapper for the kernels.
from cython cimport floating


cdef extern from "_gate_math.h" nogil:
    cdef enum:
        SKRNN_TANH
        SKRNN_RELU
    void skrnn_adam_f32(Py_ssize_t n, float *theta, const float *grad, float *ms,
                        float *vs, float lr, float b1, float b2, float a1,
                        float a2, float eps)
    void skrnn_adam_f64(Py_ssize_t n, double *theta, const double *grad,
                        double *ms, double *vs, double lr, double b1, double b2,
                        double a1, double a2, double eps)
    void skrnn_rnn_forward_row_f32(float *h, const float *b_ih, const float *b_hh,
                                   int H, int act)
    void skrnn_rnn_forward_row_f64(double *h, const double *b_ih,
                                   const double *b_hh, int H, int act)
    void skrnn_rnn_backward_row_f32(const float *delta, float *carry,
                                    const float *h, float *dA, int H, int act)
    void skrnn_rnn_backward_row_f64(const double *delta, double *carry,
                                    const double *h, double *dA, int H, int act)
    void skrnn_lstm_forward_row_f32(float *a, float *h, float *c,
                                    const float *c_prev, const float *b_ih,
                                    const float *b_hh, int H)
    void skrnn_lstm_forward_row_f64(double *a, double *h, double *c,
                                    const double *c_prev, const double *b_ih,
                                    const double *b_hh, int H)
    void skrnn_lstm_backward_row_f32(float *a, const float *delta, float *carry_h,
                                     float *carry_c, const float *c,
                                     const float *c_prev, int H)
    void skrnn_lstm_backward_row_f64(double *a, const double *delta,
                                     double *carry_h, double *carry_c,
                                     const double *c, const double *c_prev, int H)
    void skrnn_gru_forward_row_f32(float *a, const float *hh, float *hn, float *h,
                                   const float *h_prev, const float *b_ih,
                                   const float *b_hh, int H)
    void skrnn_gru_forward_row_f64(double *a, const double *hh, double *hn,
                                   double *h, const double *h_prev,
                                   const double *b_ih, const double *b_hh, int H)
    void skrnn_gru_backward_row_f32(float *a, float *ah, const float *hn,
                                    const float *delta, float *carry,
                                    const float *h_prev, int H)
    void skrnn_gru_backward_row_f64(double *a, double *ah, const double *hn,
                                    const double *delta, double *carry,
                                    const double *h_prev, int H)
    double skrnn_penalize_f32(Py_ssize_t n, const float *w, float *g, float s)
    double skrnn_penalize_f64(Py_ssize_t n, const double *w, double *g, double s)
    double skrnn_sum_sq_f32(Py_ssize_t n, const float *a)
    double skrnn_sum_sq_f64(Py_ssize_t n, const double *a)
    int skrnn_all_finite_f32(Py_ssize_t n, const float *a)
    int skrnn_all_finite_f64(Py_ssize_t n, const double *a)
    void skrnn_pack_f32(int k, int n, const float *W, Py_ssize_t sp,
                        Py_ssize_t sj, float *P)
    void skrnn_pack_f64(int k, int n, const double *W, Py_ssize_t sp,
                        Py_ssize_t sj, double *P)
    void skrnn_step_gemm_f32(int m, int n, int k, const float *A, int lda,
                             const float *P, float beta, float *C, int ldc,
                             int backwards)
    void skrnn_step_gemm_f64(int m, int n, int k, const double *A, int lda,
                             const double *P, double beta, double *C, int ldc,
                             int backwards)


cdef enum Activation:
    TANH = SKRNN_TANH
    RELU = SKRNN_RELU


cdef inline void _rnn_forward_gates(
    floating *h, const floating *b_ih, const floating *b_hh, int H, int act,
) noexcept nogil:
    """h = act(h + b_ih + b_hh)."""
    if floating is float:
        skrnn_rnn_forward_row_f32(h, b_ih, b_hh, H, act)
    else:
        skrnn_rnn_forward_row_f64(h, b_ih, b_hh, H, act)


cdef inline void _rnn_backward_gates(
    const floating *delta, floating *carry, const floating *h, floating *dA,
    int H, int act,
) noexcept nogil:
    """dA = (delta + carry) * act'(h); carry = 0."""
    if floating is float:
        skrnn_rnn_backward_row_f32(delta, carry, h, dA, H, act)
    else:
        skrnn_rnn_backward_row_f64(delta, carry, h, dA, H, act)


cdef inline void _lstm_forward_gates(
    floating *a, floating *h, floating *c, const floating *c_prev,
    const floating *b_ih, const floating *b_hh, int H,
) noexcept nogil:
    """Pre-activations a (4H) -> gates (i, f, g, o); c_t and h_t."""
    if floating is float:
        skrnn_lstm_forward_row_f32(a, h, c, c_prev, b_ih, b_hh, H)
    else:
        skrnn_lstm_forward_row_f64(a, h, c, c_prev, b_ih, b_hh, H)


cdef inline void _lstm_backward_gates(
    floating *a, const floating *delta, floating *carry_h, floating *carry_c,
    const floating *c, const floating *c_prev, int H,
) noexcept nogil:
    """Gates a (4H) -> dL/da; updates the carries of dL/dh and dL/dc."""
    if floating is float:
        skrnn_lstm_backward_row_f32(a, delta, carry_h, carry_c, c, c_prev, H)
    else:
        skrnn_lstm_backward_row_f64(a, delta, carry_h, carry_c, c, c_prev, H)


cdef inline void _gru_forward_gates(
    floating *a, const floating *hh, floating *hn, floating *h,
    const floating *h_prev, const floating *b_ih, const floating *b_hh, int H,
) noexcept nogil:
    """Input projections a (3H) and h_prev W_hh^T (hh) -> gates (r, z, n)."""
    if floating is float:
        skrnn_gru_forward_row_f32(a, hh, hn, h, h_prev, b_ih, b_hh, H)
    else:
        skrnn_gru_forward_row_f64(a, hh, hn, h, h_prev, b_ih, b_hh, H)


cdef inline void _gru_backward_gates(
    floating *a, floating *ah, const floating *hn, const floating *delta,
    floating *carry, const floating *h_prev, int H,
) noexcept nogil:
    """Gates a (3H) -> dL/d(input pre-activations) in a, recurrent ones in ah."""
    if floating is float:
        skrnn_gru_backward_row_f32(a, ah, hn, delta, carry, h_prev, H)
    else:
        skrnn_gru_backward_row_f64(a, ah, hn, delta, carry, h_prev, H)
