/* Element-wise gate math of the three cells, one row (one sequence, one
 * step) at a time, for float32 and float64; the per-step recurrent product;
 * Adam's element-wise step.
 *
 * Why C and not Cython: these loops are most of the non-GEMM time, and they
 * only vectorise when the compiler knows the row pointers do not alias
 * (`restrict`, which Cython cannot spell) and when the index arithmetic is
 * plain pointer offsets (CPython builds extensions with -fwrapv, under which
 * gcc gives up on `a[2 * H + j]`). With both, gcc -O3 turns each loop into
 * SIMD code, including the branch-free float32 exp below (the clamps become
 * min/max instructions once -fno-trapping-math is set, see setup.py).
 *
 * Conventions: `a` holds pre-activations in the forward pass and is
 * overwritten with activated gates; the backward pass overwrites the gates
 * with dL/d(pre-activation). Gate orders are PyTorch's: LSTM (i, f, g, o),
 * GRU (r, z, n). Only valid (non-padded) steps come here; padding is handled
 * by the Cython callers. Neither float32 nor float64 calls libm: both use
 * branch-free exp/expm1 approximations below, which vectorise.
 */
#ifndef SKLEARN_RNN_GATE_MATH_H
#define SKLEARN_RNN_GATE_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define SKRNN_RESTRICT __restrict
#else
#define SKRNN_RESTRICT __restrict__
#endif

/* On x86-64 Linux with gcc, the row functions and the step products are compiled twice, for the
 * baseline (SSE2) and for x86-64-v3 (AVX2 + FMA: twice the vector width),
 * and the loader picks the version the CPU supports (ifunc). Results are
 * deterministic on a given machine; across machines float32 results may
 * differ in the last bits (FMA). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 \
    && defined(__x86_64__) && defined(__linux__)
#define SKRNN_SIMD_FN __attribute__((target_clones("arch=x86-64-v3", "default"))) static
#else
#define SKRNN_SIMD_FN static inline
#endif

#define SKRNN_TANH 0
#define SKRNN_RELU 1

/* exp(x) in float32, branch-free: x = n ln2 + r with |r| <= ln2/2, exp(r) by
 * its degree-6 Taylor polynomial (relative error < 2e-7, about 2 ulp), 2^n
 * from the exponent bits. x is clamped to [-87, 88], where float32 exp is
 * finite and normal. */
static inline float skrnn_exp_f32(float x)
{
    float n, r, p, scale;
    int32_t bits;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* round x / ln2 to the nearest integer with the 1.5 * 2^23 trick */
    n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    r = x - n * 0.693359375f + n * 2.12194440e-4f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666666666666667f
        + r * (0.0416666666666666667f + r * (0.00833333333333333333f
        + r * 0.00138888888888888889f)))));
    bits = ((int32_t)n + 127) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh = 1 - 2 / (exp(2a) + 1): absolute error about 1e-7; |a| <= 9 keeps
 * exp finite (tanh(9) rounds to 1 in float32). */
static inline float skrnn_tanh_f32(float a)
{
    a = a < -9.0f ? -9.0f : a;
    a = a > 9.0f ? 9.0f : a;
    return 1.0f - 2.0f / (skrnn_exp_f32(2.0f * a) + 1.0f);
}

static inline float skrnn_sigmoid_f32(float a)
{
    return 1.0f / (1.0f + skrnn_exp_f32(-a));
}

/* float64: the same scheme, branch-free so that loops vectorise. x is
 * reduced by n ln2 with ln2 split in two (fdlibm's constants: n ln2_hi is
 * exact), and exp(r) - 1, |r| <= ln2/2, by its Taylor polynomial of degree
 * 13 (truncation error < 5e-18, below half an ulp). Worst error about 2 ulp
 * against libm; the kernels' gradient checks and PyTorch parity use it. */
static inline double skrnn_expm1_reduced_f64(double x, double *scale)
{
    double n, r;
    int64_t bits;
    n = (x * 1.44269504088896338700e+00 + 6755399441055744.0) - 6755399441055744.0;
    r = x - n * 6.93147180369123816490e-01 - n * 1.90821492927058770002e-10;
    bits = ((int64_t)n + 1023) << 52;
    memcpy(scale, &bits, sizeof *scale);
    return r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24
        + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040
        + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800
        + r * (1.0 / 39916800 + r * (1.0 / 479001600
        + r * (1.0 / 6227020800.0)))))))))))));
}

/* exp(x), x clamped to [-708, 709] (finite and normal). */
static inline double skrnn_exp_f64(double x)
{
    double scale, q;
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    q = skrnn_expm1_reduced_f64(x, &scale);
    return scale * q + scale;
}

/* tanh(a) = -expm1(-2|a|) / (2 + expm1(-2|a|)), with the sign of a; expm1
 * keeps full relative accuracy near 0, where 1 - 2 / (exp(2a) + 1) would
 * lose it. */
static inline double skrnn_tanh_f64(double a)
{
    double t = a < 0 ? -a : a, scale, q, em, y;
    t = t > 354.0 ? 354.0 : t;
    q = skrnn_expm1_reduced_f64(-2.0 * t, &scale);
    em = scale * q + (scale - 1.0);
    y = -em / (2.0 + em);
    return a < 0 ? -y : y;
}

static inline double skrnn_sigmoid_f64(double a)
{
    return 1.0 / (1.0 + skrnn_exp_f64(-a));
}

/* The row functions, written once for both types. */
#define SKRNN_DEFINE_ROWS(T, S, ROW)                                              \
                                                                               \
/* h = act(h + b_ih + b_hh), h holding h_prev W_hh^T + x W_ih^T on entry. */    \
ROW void skrnn_rnn_forward_row_##S(                                  \
    T *SKRNN_RESTRICT h, const T *SKRNN_RESTRICT b_ih,                         \
    const T *SKRNN_RESTRICT b_hh, int H, int act)                              \
{                                                                              \
    int j;                                                                     \
    if (act == SKRNN_RELU) {                                                   \
        for (j = 0; j < H; j++) {                                              \
            T v = h[j] + b_ih[j] + b_hh[j];                                    \
            h[j] = v > 0 ? v : 0;                                              \
        }                                                                      \
    } else {                                                                   \
        for (j = 0; j < H; j++)                                                \
            h[j] = skrnn_tanh_##S(h[j] + b_ih[j] + b_hh[j]);                   \
    }                                                                          \
}                                                                              \
                                                                               \
/* dA = (delta + carry) * act'(h); carry = 0. */                               \
ROW void skrnn_rnn_backward_row_##S(                                 \
    const T *SKRNN_RESTRICT delta, T *SKRNN_RESTRICT carry,                    \
    const T *SKRNN_RESTRICT h, T *SKRNN_RESTRICT dA, int H, int act)           \
{                                                                              \
    int j;                                                                     \
    if (act == SKRNN_RELU) {                                                   \
        for (j = 0; j < H; j++) {                                              \
            T g = delta[j] + carry[j];                                         \
            dA[j] = h[j] > 0 ? g : 0;                                          \
            carry[j] = 0;                                                      \
        }                                                                      \
    } else {                                                                   \
        for (j = 0; j < H; j++) {                                              \
            T g = delta[j] + carry[j];                                         \
            dA[j] = g * (1 - h[j] * h[j]);                                     \
            carry[j] = 0;                                                      \
        }                                                                      \
    }                                                                          \
}                                                                              \
                                                                               \
/* LSTM step: a (4H) pre-activations -> gates; c_t, h_t. */                    \
ROW void skrnn_lstm_forward_row_##S(                                 \
    T *SKRNN_RESTRICT a, T *SKRNN_RESTRICT h, T *SKRNN_RESTRICT c,             \
    const T *SKRNN_RESTRICT c_prev, const T *SKRNN_RESTRICT b_ih,              \
    const T *SKRNN_RESTRICT b_hh, int H)                                       \
{                                                                              \
    T *SKRNN_RESTRICT ai = a;                                                  \
    T *SKRNN_RESTRICT af = a + H;                                              \
    T *SKRNN_RESTRICT ag = a + 2 * (size_t)H;                                  \
    T *SKRNN_RESTRICT ao = a + 3 * (size_t)H;                                  \
    const T *bi_i = b_ih, *bi_f = b_ih + H;                                    \
    const T *bi_g = b_ih + 2 * (size_t)H, *bi_o = b_ih + 3 * (size_t)H;        \
    const T *bh_i = b_hh, *bh_f = b_hh + H;                                    \
    const T *bh_g = b_hh + 2 * (size_t)H, *bh_o = b_hh + 3 * (size_t)H;        \
    int j;                                                                     \
    for (j = 0; j < H; j++) {                                                  \
        T i = skrnn_sigmoid_##S(ai[j] + bi_i[j] + bh_i[j]);                    \
        T f = skrnn_sigmoid_##S(af[j] + bi_f[j] + bh_f[j]);                    \
        T g = skrnn_tanh_##S(ag[j] + bi_g[j] + bh_g[j]);                       \
        T o = skrnn_sigmoid_##S(ao[j] + bi_o[j] + bh_o[j]);                    \
        T cj = f * c_prev[j] + i * g;                                          \
        ai[j] = i;                                                             \
        af[j] = f;                                                             \
        ag[j] = g;                                                             \
        ao[j] = o;                                                             \
        c[j] = cj;                                                             \
        h[j] = o * skrnn_tanh_##S(cj);                                         \
    }                                                                          \
}                                                                              \
                                                                               \
/* LSTM reverse step: gates -> dL/da; carries of dL/dh and dL/dc. */           \
ROW void skrnn_lstm_backward_row_##S(                                \
    T *SKRNN_RESTRICT a, const T *SKRNN_RESTRICT delta,                        \
    T *SKRNN_RESTRICT carry_h, T *SKRNN_RESTRICT carry_c,                      \
    const T *SKRNN_RESTRICT c, const T *SKRNN_RESTRICT c_prev, int H)          \
{                                                                              \
    T *SKRNN_RESTRICT ai = a;                                                  \
    T *SKRNN_RESTRICT af = a + H;                                              \
    T *SKRNN_RESTRICT ag = a + 2 * (size_t)H;                                  \
    T *SKRNN_RESTRICT ao = a + 3 * (size_t)H;                                  \
    int j;                                                                     \
    for (j = 0; j < H; j++) {                                                  \
        T i = ai[j], f = af[j], g = ag[j], o = ao[j];                          \
        T tc = skrnn_tanh_##S(c[j]);                                           \
        T dh = delta[j] + carry_h[j];                                          \
        T dc = carry_c[j] + dh * o * (1 - tc * tc);                            \
        ai[j] = dc * g * i * (1 - i);                                          \
        af[j] = dc * c_prev[j] * f * (1 - f);                                  \
        ag[j] = dc * i * (1 - g * g);                                          \
        ao[j] = dh * tc * o * (1 - o);                                         \
        carry_c[j] = dc * f;                                                   \
        carry_h[j] = 0;                                                        \
    }                                                                          \
}                                                                              \
                                                                               \
/* GRU step: a (3H) input projections -> gates (r, z, n); hh (3H) is          \
 * h_prev W_hh^T; hn = W_hn h_prev + b_hn is kept for BPTT. */                 \
ROW void skrnn_gru_forward_row_##S(                                  \
    T *SKRNN_RESTRICT a, const T *SKRNN_RESTRICT hh, T *SKRNN_RESTRICT hn,     \
    T *SKRNN_RESTRICT h, const T *SKRNN_RESTRICT h_prev,                       \
    const T *SKRNN_RESTRICT b_ih, const T *SKRNN_RESTRICT b_hh, int H)         \
{                                                                              \
    T *SKRNN_RESTRICT ar = a;                                                  \
    T *SKRNN_RESTRICT az = a + H;                                              \
    T *SKRNN_RESTRICT an = a + 2 * (size_t)H;                                  \
    const T *hh_r = hh, *hh_z = hh + H, *hh_n = hh + 2 * (size_t)H;            \
    const T *bi_r = b_ih, *bi_z = b_ih + H, *bi_n = b_ih + 2 * (size_t)H;      \
    const T *bh_r = b_hh, *bh_z = b_hh + H, *bh_n = b_hh + 2 * (size_t)H;      \
    int j;                                                                     \
    for (j = 0; j < H; j++) {                                                  \
        T r = skrnn_sigmoid_##S(ar[j] + bi_r[j] + hh_r[j] + bh_r[j]);          \
        T z = skrnn_sigmoid_##S(az[j] + bi_z[j] + hh_z[j] + bh_z[j]);          \
        T hn_j = hh_n[j] + bh_n[j];                                            \
        T n = skrnn_tanh_##S(an[j] + bi_n[j] + r * hn_j);                      \
        ar[j] = r;                                                             \
        az[j] = z;                                                             \
        an[j] = n;                                                             \
        hn[j] = hn_j;                                                          \
        h[j] = (1 - z) * n + z * h_prev[j];                                    \
    }                                                                          \
}                                                                              \
                                                                               \
/* GRU reverse step: gates -> dL/d(input pre-activations) in a and            \
 * dL/d(recurrent pre-activations) in ah (they differ in the n block by r). */ \
ROW void skrnn_gru_backward_row_##S(                                 \
    T *SKRNN_RESTRICT a, T *SKRNN_RESTRICT ah, const T *SKRNN_RESTRICT hn,     \
    const T *SKRNN_RESTRICT delta, T *SKRNN_RESTRICT carry,                    \
    const T *SKRNN_RESTRICT h_prev, int H)                                     \
{                                                                              \
    T *SKRNN_RESTRICT ar = a;                                                  \
    T *SKRNN_RESTRICT az = a + H;                                              \
    T *SKRNN_RESTRICT an = a + 2 * (size_t)H;                                  \
    T *SKRNN_RESTRICT ahr = ah;                                                \
    T *SKRNN_RESTRICT ahz = ah + H;                                            \
    T *SKRNN_RESTRICT ahn = ah + 2 * (size_t)H;                                \
    int j;                                                                     \
    for (j = 0; j < H; j++) {                                                  \
        T r = ar[j], z = az[j], n = an[j];                                     \
        T dh = delta[j] + carry[j];                                            \
        T dan = dh * (1 - z) * (1 - n * n);                                    \
        T dar = dan * hn[j] * r * (1 - r);                                     \
        T daz = dh * (h_prev[j] - n) * z * (1 - z);                            \
        ar[j] = dar;                                                           \
        az[j] = daz;                                                           \
        an[j] = dan;                                                           \
        ahr[j] = dar;                                                          \
        ahz[j] = daz;                                                          \
        ahn[j] = dan * r;                                                      \
        carry[j] = dh * z;                                                     \
    }                                                                          \
}

/* The per-step recurrent product C = beta C + A B (row-major; A (m, k) with
 * row stride lda, B (k, n) contiguous, C (m, n) with row stride ldc, beta 0
 * or 1), for the few rows of one chunk of sequences.
 *
 * Why not BLAS: OpenBLAS packs the whole B (the recurrent weights) at every
 * call, which for a chunk of 8-32 rows costs about as much as the multiply
 * (callgrind: sgemm_itcopy/incopy ~40% of the GEMM instructions), and its
 * result for a row depends on how many rows are in the call. Here every
 * C[i, j] is the sum over p in increasing order of A[i, p] B[p, j] added to
 * its start value, whatever m, n or the blocking: results do not depend on
 * how the batch is cut into chunks (nor, so, on the thread count). */
#if defined(__GNUC__)
/* 32-byte vectors (one AVX register, two SSE registers in the baseline
 * clone); the aligned(sizeof(T)) twins load and store unaligned data. */
typedef float skrnn_vf32 __attribute__((vector_size(32)));
typedef double skrnn_vf64 __attribute__((vector_size(32)));
typedef float skrnn_vf32_u __attribute__((vector_size(32), aligned(4)));
typedef double skrnn_vf64_u __attribute__((vector_size(32), aligned(8)));
#define SKRNN_HAVE_VECTORS 1
#endif

/* The reference loop: C[i, j] = start + sum_p A[i, p] B[p, j], p in order.
 * Used for the edges of the blocked kernel (and everywhere without GCC
 * vector extensions); the blocked kernel computes the very same sums. */
#define SKRNN_DEFINE_GEMM_EDGE(T, S, ROW)                                      \
ROW void skrnn_step_gemm_edge_##S(                                             \
    int m, int n0, int n1, int k, const T *SKRNN_RESTRICT A, int lda,          \
    const T *SKRNN_RESTRICT B, int n, T beta, T *SKRNN_RESTRICT C, int ldc)    \
{                                                                              \
    int i, j, p;                                                               \
    for (i = 0; i < m; i++) {                                                  \
        const T *a = A + (size_t)i * lda;                                      \
        T *SKRNN_RESTRICT c = C + (size_t)i * ldc;                             \
        if (beta == 0)                                                         \
            for (j = n0; j < n1; j++)                                          \
                c[j] = 0;                                                      \
        for (p = 0; p < k; p++) {                                              \
            const T *SKRNN_RESTRICT b = B + (size_t)p * n;                     \
            T x = a[p];                                                        \
            for (j = n0; j < n1; j++)                                          \
                c[j] += x * b[j];                                              \
        }                                                                      \
    }                                                                          \
}

SKRNN_DEFINE_GEMM_EDGE(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM_EDGE(double, f64, SKRNN_SIMD_FN)

#ifdef SKRNN_HAVE_VECTORS
/* One row (the rows left over by the 4-row blocks; the whole product when
 * one sequence is predicted): panels of 8 vectors of columns with the
 * accumulators in registers, per p 8 loads of B, 1 broadcast of A and 8
 * multiply-adds. A row has no other parallelism (the sum over p is
 * sequential), so it takes 8 independent accumulators to hide the latency
 * of the multiply-adds; the edge loop instead loads and stores C at every
 * p, which made a single sequence's step product 2-3x slower. Leftover
 * columns go one vector at a time, then through the edge loop. */
#define SKRNN_ROW_PANEL(T, V, VU, NV)                                                   \
    for (; j0 + NV * L <= n; j0 += NV * L) {                                   \
        V acc[NV];                                                             \
        int v;                                                                 \
        for (v = 0; v < NV; v++)                                               \
            acc[v] = beta != 0 ? *(const VU *)(c + j0 + v * L) : z;            \
        for (p = 0; p < k; p++) {                                              \
            const T *b = B + (size_t)p * n + j0;                               \
            V x = z + a[p];                                                    \
            for (v = 0; v < NV; v++)                                           \
                acc[v] += x * *(const VU *)(b + v * L);                        \
        }                                                                      \
        for (v = 0; v < NV; v++)                                               \
            *(VU *)(c + j0 + v * L) = acc[v];                                  \
    }
#define SKRNN_DEFINE_GEMM_ROW(T, S, V, VU, ROW)                                \
ROW void skrnn_step_gemm_row_##S(                                              \
    int n, int k, const T *SKRNN_RESTRICT a, const T *SKRNN_RESTRICT B,        \
    T beta, T *SKRNN_RESTRICT c)                                               \
{                                                                              \
    enum { L = sizeof(V) / sizeof(T) };                                        \
    int j0 = 0, p;                                                             \
    V z = {0};                                                                 \
    SKRNN_ROW_PANEL(T, V, VU, 8)                                                       \
    SKRNN_ROW_PANEL(T, V, VU, 1)                                                       \
    if (j0 < n)                                                                \
        skrnn_step_gemm_edge_##S(1, j0, n, k, a, 0, B, n, beta, c, 0);         \
}

SKRNN_DEFINE_GEMM_ROW(float, f32, skrnn_vf32, skrnn_vf32_u, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM_ROW(double, f64, skrnn_vf64, skrnn_vf64_u, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_GEMM_ROW
#undef SKRNN_ROW_PANEL

/* Blocks of 4 rows x 2 vectors of columns (8 accumulator registers) run p
 * over k with the accumulators in registers: per p, 2 loads of B, 4
 * broadcasts of A and 8 multiply-adds. */
#define SKRNN_DEFINE_GEMM(T, S, V, VU, ROW)                                    \
ROW void skrnn_step_gemm_##S(                                                  \
    int m, int n, int k, const T *SKRNN_RESTRICT A, int lda,                   \
    const T *SKRNN_RESTRICT B, T beta, T *SKRNN_RESTRICT C, int ldc)           \
{                                                                              \
    enum { L = sizeof(V) / sizeof(T), NR = 2 * sizeof(V) / sizeof(T) };        \
    int i, j0, p, m4 = m - m % 4, nb = n - n % NR;                             \
    /* column panels outside, row blocks inside: each k x NR panel of B is    \
     * read from memory once per call and then from cache (for H = 512 the   \
     * whole B is 4 MB, streamed once per row block otherwise) */             \
    for (j0 = 0; j0 < nb; j0 += NR) {                                          \
        for (i = 0; i < m4; i += 4) {                                          \
            const T *a0 = A + (size_t)i * lda, *a1 = a0 + lda;                 \
            const T *a2 = a1 + lda, *a3 = a2 + lda;                            \
            T *c0 = C + (size_t)i * ldc, *c1 = c0 + ldc;                       \
            T *c2 = c1 + ldc, *c3 = c2 + ldc;                                  \
            V z = {0};                                                         \
            V s00 = z, s01 = z, s10 = z, s11 = z;                              \
            V s20 = z, s21 = z, s30 = z, s31 = z;                              \
            if (beta != 0) {                                                   \
                s00 = *(const VU *)(c0 + j0); s01 = *(const VU *)(c0 + j0 + L); \
                s10 = *(const VU *)(c1 + j0); s11 = *(const VU *)(c1 + j0 + L); \
                s20 = *(const VU *)(c2 + j0); s21 = *(const VU *)(c2 + j0 + L); \
                s30 = *(const VU *)(c3 + j0); s31 = *(const VU *)(c3 + j0 + L); \
            }                                                                  \
            for (p = 0; p < k; p++) {                                          \
                const T *b = B + (size_t)p * n + j0;                           \
                V b0 = *(const VU *)b, b1 = *(const VU *)(b + L);              \
                V x0 = z + a0[p], x1 = z + a1[p];                              \
                V x2 = z + a2[p], x3 = z + a3[p];                              \
                s00 += x0 * b0; s01 += x0 * b1;                                \
                s10 += x1 * b0; s11 += x1 * b1;                                \
                s20 += x2 * b0; s21 += x2 * b1;                                \
                s30 += x3 * b0; s31 += x3 * b1;                                \
            }                                                                  \
            *(VU *)(c0 + j0) = s00; *(VU *)(c0 + j0 + L) = s01;                \
            *(VU *)(c1 + j0) = s10; *(VU *)(c1 + j0 + L) = s11;                \
            *(VU *)(c2 + j0) = s20; *(VU *)(c2 + j0 + L) = s21;                \
            *(VU *)(c3 + j0) = s30; *(VU *)(c3 + j0 + L) = s31;                \
        }                                                                      \
    }                                                                          \
    if (nb < n)                                                                \
        skrnn_step_gemm_edge_##S(m4, nb, n, k, A, lda, B, n, beta, C, ldc);    \
    for (i = m4; i < m; i++)                                                   \
        skrnn_step_gemm_row_##S(n, k, A + (size_t)i * lda, B, beta,            \
                                C + (size_t)i * ldc);                          \
}

SKRNN_DEFINE_GEMM(float, f32, skrnn_vf32, skrnn_vf32_u, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM(double, f64, skrnn_vf64, skrnn_vf64_u, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_GEMM
#else
#define skrnn_step_gemm_f32(m, n, k, A, lda, B, beta, C, ldc) \
    skrnn_step_gemm_edge_f32(m, 0, n, k, A, lda, B, n, beta, C, ldc)
#define skrnn_step_gemm_f64(m, n, k, A, lda, B, beta, C, ldc) \
    skrnn_step_gemm_edge_f64(m, 0, n, k, A, lda, B, n, beta, C, ldc)
#endif
#undef SKRNN_DEFINE_GEMM_EDGE

SKRNN_DEFINE_ROWS(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_ROWS(double, f64, SKRNN_SIMD_FN)

/* Adam's step on n parameters (scikit-learn's formulation; lr carries the
 * bias corrections; a1 = 1 - b1 and a2 = 1 - b2 are rounded from double,
 * as NumPy does, not computed in float32). Here rather than in Cython for the same reasons as the
 * gate rows: without restrict and plain pointers the loop stayed scalar, at
 * 4-11 ns an element. */
#define SKRNN_DEFINE_ADAM(T, S, SQRT, ROW)                                     \
ROW void skrnn_adam_##S(                                                       \
    ptrdiff_t n, T *SKRNN_RESTRICT theta, const T *SKRNN_RESTRICT grad,        \
    T *SKRNN_RESTRICT ms, T *SKRNN_RESTRICT vs, T lr, T b1, T b2, T a1, T a2,  \
    T eps)                                                                     \
{                                                                              \
    ptrdiff_t i;                                                               \
    for (i = 0; i < n; i++) {                                                  \
        T g = grad[i];                                                         \
        T m = b1 * ms[i] + a1 * g;                                             \
        T v = b2 * vs[i] + a2 * (g * g);                                       \
        ms[i] = m;                                                             \
        vs[i] = v;                                                             \
        theta[i] -= lr * (m / (SQRT(v) + eps));                                \
    }                                                                          \
}

SKRNN_DEFINE_ADAM(float, f32, sqrtf, SKRNN_SIMD_FN)
SKRNN_DEFINE_ADAM(double, f64, sqrt, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_ADAM

#undef SKRNN_DEFINE_ROWS

#endif /* SKLEARN_RNN_GATE_MATH_H */
