/* Element-wise gate math of the three cells, one row (one sequence, one
 * step) at a time, for float32 and float64; the per-step recurrent product;
 * Adam's element-wise step.
 *
 * Why C and not Cython: these loops are most of the non-GEMM time, and they
 * only vectorise when the compiler knows the row pointers do not alias
 * (`restrict`, which Cython cannot spell) and when the index arithmetic is
 * plain pointer offsets (CPython builds extensions with -fwrapv, under which
 * gcc gives up on `a[2 * H + j]`). With both, gcc -O3 turns each loop into
 * SIMD code, including the branch-free float32 exp below (its clamps
 * become compare-and-blend once -fno-trapping-math is set, see setup.py;
 * min/max instructions would need -ffinite-math-only, under which a NaN
 * from an overflowing network could come out as a finite number).
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
#include <stddef.h>
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
 * against libm; the kernels' gradient checks and PyTorch parity use it.
 *
 * 2^n is built from the bits of s = x / ln2 + 1.5 * 2^52, whose low mantissa
 * bits hold n in two's complement, not from (int64_t)n: AVX2 has no vector
 * double-to-int64 conversion, and that one cast kept gcc from vectorising
 * every float64 row that calls exp (they ran scalar, 4x the work). */
static inline double skrnn_expm1_reduced_f64(double x, double *scale)
{
    double s, n, r;
    uint64_t bits;
    s = x * 1.44269504088896338700e+00 + 6755399441055744.0;
    n = s - 6755399441055744.0;
    r = x - n * 6.93147180369123816490e-01 - n * 1.90821492927058770002e-10;
    memcpy(&bits, &s, sizeof bits);
    bits = (bits + 1023) << 52; /* the low 12 bits of bits are n mod 2^12 */
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
/* LSTM step: a (4H) pre-activations -> gates; c_t, h_t.                     \
 * In passes: the activations of each gate block, then the cell. One loop    \
 * doing all of it ran 5 dependent exp/divide chains per iteration (~210     \
 * instructions for 8 units), more than the out-of-order window overlaps:   \
 * latency-bound at ~17 cycles a unit; short loops let iterations overlap    \
 * (same operations, same results). */                                      \
ROW void skrnn_lstm_forward_row_##S(                                 \
    T *SKRNN_RESTRICT a, T *SKRNN_RESTRICT h, T *SKRNN_RESTRICT c,             \
    const T *SKRNN_RESTRICT c_prev, const T *SKRNN_RESTRICT b_ih,              \
    const T *SKRNN_RESTRICT b_hh, int H)                                       \
{                                                                              \
    T *SKRNN_RESTRICT ai = a;                                                  \
    T *SKRNN_RESTRICT af = a + H;                                              \
    T *SKRNN_RESTRICT ag = a + 2 * (size_t)H;                                  \
    T *SKRNN_RESTRICT ao = a + 3 * (size_t)H;                                  \
    const T *bi_g = b_ih + 2 * (size_t)H, *bi_o = b_ih + 3 * (size_t)H;        \
    const T *bh_g = b_hh + 2 * (size_t)H, *bh_o = b_hh + 3 * (size_t)H;        \
    int j;                                                                     \
    for (j = 0; j < 2 * H; j++) /* i and f, adjacent: one loop */              \
        ai[j] = skrnn_sigmoid_##S(ai[j] + b_ih[j] + b_hh[j]);                  \
    for (j = 0; j < H; j++)                                                    \
        ag[j] = skrnn_tanh_##S(ag[j] + bi_g[j] + bh_g[j]);                     \
    for (j = 0; j < H; j++)                                                    \
        ao[j] = skrnn_sigmoid_##S(ao[j] + bi_o[j] + bh_o[j]);                  \
    for (j = 0; j < H; j++) {                                                  \
        T cj = af[j] * c_prev[j] + ai[j] * ag[j];                              \
        c[j] = cj;                                                             \
        h[j] = ao[j] * skrnn_tanh_##S(cj);                                     \
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
    /* two passes, as in the LSTM row: r and z, then n and h */               \
    for (j = 0; j < H; j++)                                                    \
        ar[j] = skrnn_sigmoid_##S(ar[j] + bi_r[j] + hh_r[j] + bh_r[j]);        \
    for (j = 0; j < H; j++)                                                    \
        az[j] = skrnn_sigmoid_##S(az[j] + bi_z[j] + hh_z[j] + bh_z[j]);        \
    for (j = 0; j < H; j++) {                                                  \
        T r = ar[j], z = az[j];                                                \
        T hn_j = hh_n[j] + bh_n[j];                                            \
        T n = skrnn_tanh_##S(an[j] + bi_n[j] + r * hn_j);                      \
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
 * row stride lda, C (m, n) with row stride ldc, beta 0 or 1), for the few
 * rows of one chunk of sequences. B is the recurrent weight (W_hh^T in the
 * forward sweep, W_hh in the reverse sweep), packed once per kernel call by
 * skrnn_pack into column panels (below) and then read at every step.
 *
 * Why not BLAS: OpenBLAS packs the whole B at every call, which for a chunk
 * of 8-32 rows costs about as much as the multiply (callgrind:
 * sgemm_itcopy/incopy ~40% of the GEMM instructions), and its result for a
 * row depends on how many rows are in the call. Here every C[i, j] is the
 * sum over p in increasing order of A[i, p] B[p, j] added to its start
 * value, whatever m, n or the blocking: results do not depend on how the
 * batch is cut into chunks (nor, so, on the thread count).
 *
 * `backwards` (odd steps of a sweep) runs through the panels last to first:
 * the next step then starts on what this one read last, still in L1 (or
 * L2). With one sequence (m = 1), whose step streams all of B for little
 * arithmetic, that took an LSTM's 50-step forward kernel with H = 64 (B is
 * 64 KB, twice L1) from 71.9-72.4 to 68.7-70.5 us (benchmarks/
 * latency_budget.py, three alternating runs); a GRU's (48 KB) did not
 * change, nor did chunks of 8 rows (their multiply, not the reads, bounds
 * them). The sums, and so the results, are the same either way.
 *
 * Packed layout: panels of SKRNN_NR columns (3 vectors: 24 floats, 12
 * doubles), each stored as k rows of SKRNN_NR contiguous values, then the
 * n % SKRNN_NR leftover columns as one k x r block; k * n values in all.
 * Reading B row by row instead (row-major, one row of 4H values a step of
 * p) touched a new page at every p for H = 512 and ran the multiply at
 * about 40% of the machine's GEMM peak; the panels stream contiguously. */
#define SKRNN_NR_f32 24
#define SKRNN_NR_f64 12

/* P = B in the packed layout, B[p, j] = W[p * sp + j * sj], for the two
 * layouts of _packed_weight: B = W (sj == 1) or B = W^T (sp == 1). */
#define SKRNN_DEFINE_PACK(T, S)                                                \
SKRNN_SIMD_FN void skrnn_pack_##S(int k, int n, const T *SKRNN_RESTRICT W,     \
                                  ptrdiff_t sp, ptrdiff_t sj,                  \
                                  T *SKRNN_RESTRICT P)                         \
{                                                                              \
    int j0, jj, p, p0, w, wv, kv = k - k % SKRNN_TILE_##S;                     \
    for (j0 = 0; j0 < n; j0 += SKRNN_NR_##S) {                                 \
        T *SKRNN_RESTRICT panel = P + (size_t)j0 * k;                          \
        w = n - j0 < SKRNN_NR_##S ? n - j0 : SKRNN_NR_##S;                     \
        if (sj == 1) { /* B's rows are W's rows: copy row pieces */            \
            for (p = 0; p < k; p++)                                            \
                memcpy(panel + (size_t)p * w, W + p * sp + j0,                 \
                       (size_t)w * sizeof(T));                                 \
            continue;                                                          \
        }                                                                      \
        /* B = W^T (sp == 1), W's rows contiguous: L x L tiles transposed in \
         * registers (skrnn_tile), the edges one value at a time */          \
        wv = w - w % SKRNN_TILE_##S;                                           \
        for (p0 = 0; p0 < kv; p0 += SKRNN_TILE_##S)                            \
            for (jj = 0; jj < wv; jj += SKRNN_TILE_##S)                        \
                skrnn_tile_##S(W + (j0 + jj) * sj + p0, sj,                    \
                               panel + (size_t)p0 * w + jj, w);                \
        for (jj = 0; jj < w; jj++)                                             \
            for (p = jj < wv ? kv : 0; p < k; p++)                             \
                panel[(size_t)p * w + jj] = W[(j0 + jj) * sj + p];             \
    }                                                                          \
}


/* The reference loop on one panel of width w: columns jv..w of the panel
 * for m rows, C[i, j] = start + sum_p A[i, p] B[p, j], p in order. Used for
 * the columns left over by the vector blocks (and for everything without
 * GCC vector extensions); the blocked kernels compute the very same sums. */
#define SKRNN_DEFINE_GEMM_EDGE(T, S, ROW)                                      \
ROW void skrnn_step_gemm_edge_##S(                                             \
    int m, int jv, int w, int k, const T *SKRNN_RESTRICT A, int lda,           \
    const T *SKRNN_RESTRICT panel, T beta, T *SKRNN_RESTRICT C, int ldc)       \
{                                                                              \
    int i, j, p;                                                               \
    for (i = 0; i < m; i++) {                                                  \
        const T *a = A + (size_t)i * lda;                                      \
        T *SKRNN_RESTRICT c = C + (size_t)i * ldc;                             \
        if (beta == 0)                                                         \
            for (j = jv; j < w; j++)                                           \
                c[j] = 0;                                                      \
        for (p = 0; p < k; p++) {                                              \
            const T *SKRNN_RESTRICT b = panel + (size_t)p * w;                 \
            T x = a[p];                                                        \
            for (j = jv; j < w; j++)                                           \
                c[j] += x * b[j];                                              \
        }                                                                      \
    }                                                                          \
}

SKRNN_DEFINE_GEMM_EDGE(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM_EDGE(double, f64, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_GEMM_EDGE

#if defined(__GNUC__)
/* 32-byte vectors (one AVX register, two SSE registers in the baseline
 * clone); the aligned(sizeof(T)) twins load and store unaligned data. */
typedef float skrnn_vf32 __attribute__((vector_size(32)));
typedef double skrnn_vf64 __attribute__((vector_size(32)));
typedef float skrnn_vf32_u __attribute__((vector_size(32), aligned(4)));
typedef double skrnn_vf64_u __attribute__((vector_size(32), aligned(8)));
#define SKRNN_INLINE static inline __attribute__((always_inline))

/* A vector of copies of a (a plain variable). A macro, not an inline
 * function: a helper returning a 32-byte vector is compiled for the
 * baseline target before it is inlined into the AVX2 clone, and became
 * 8 scalar inserts instead of one broadcast. `zero + a` is no better: it
 * adds 0.0f in scalar first (x + 0 is not x for x = -0). Either cost about
 * a third of the kernel's speed. */
#define SKRNN_SPLAT_f32(a) ((skrnn_vf32){(a), (a), (a), (a), (a), (a), (a), (a)})
#define SKRNN_SPLAT_f64(a) ((skrnn_vf64){(a), (a), (a), (a)})

/* dst[i * ldd + q] = src[q * lds + i] for an L x L tile (L = 8 floats or 4
 * doubles): L rows loaded as vectors and transposed in registers (the
 * unpack / shuffle / lane-swap sequence of an AVX transpose), L vector
 * stores. The scalar tiles it replaces (3 cycles a value) made packing
 * W_hh^T of an LSTM with H = 512 (4 MB) cost ~1 ms per kernel call. */
#define SKRNN_TILE_f32 8
#define SKRNN_TILE_f64 4
/* Two-vector shuffles with constant indices: __builtin_shufflevector in
 * clang and gcc >= 12, __builtin_shuffle with a mask vector in older gcc. */
#if defined(__clang__) || __GNUC__ >= 12
#define SKRNN_SHUFFLE_f32(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#define SKRNN_SHUFFLE_f64(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
typedef int skrnn_vi32 __attribute__((vector_size(32)));
typedef long long skrnn_vi64 __attribute__((vector_size(32)));
#define SKRNN_SHUFFLE_f32(a, b, ...) __builtin_shuffle(a, b, (skrnn_vi32){__VA_ARGS__})
#define SKRNN_SHUFFLE_f64(a, b, ...) __builtin_shuffle(a, b, (skrnn_vi64){__VA_ARGS__})
#endif
SKRNN_INLINE void skrnn_tile_f32(const float *SKRNN_RESTRICT src, ptrdiff_t lds,
                                 float *SKRNN_RESTRICT dst, int ldd)
{
    skrnn_vf32 r[8], t[8], u[8];
    int q;
    for (q = 0; q < 8; q++)
        r[q] = *(const skrnn_vf32_u *)(src + q * lds);
    for (q = 0; q < 8; q += 2) { /* interleave rows q and q + 1 */
        t[q] = SKRNN_SHUFFLE_f32(r[q], r[q + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[q + 1] = SKRNN_SHUFFLE_f32(r[q], r[q + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (q = 0; q < 8; q += 4) { /* u[q + i]: columns i and i + 4 of rows q..q+3 */
        u[q] = SKRNN_SHUFFLE_f32(t[q], t[q + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[q + 1] = SKRNN_SHUFFLE_f32(t[q], t[q + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[q + 2] = SKRNN_SHUFFLE_f32(t[q + 1], t[q + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[q + 3] = SKRNN_SHUFFLE_f32(t[q + 1], t[q + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (q = 0; q < 4; q++) { /* columns q and q + 4 of all 8 rows */
        *(skrnn_vf32_u *)(dst + (size_t)q * ldd)
            = SKRNN_SHUFFLE_f32(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(skrnn_vf32_u *)(dst + (size_t)(q + 4) * ldd)
            = SKRNN_SHUFFLE_f32(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

SKRNN_INLINE void skrnn_tile_f64(const double *SKRNN_RESTRICT src, ptrdiff_t lds,
                                 double *SKRNN_RESTRICT dst, int ldd)
{
    skrnn_vf64 r[4], t[4];
    int q;
    for (q = 0; q < 4; q++)
        r[q] = *(const skrnn_vf64_u *)(src + q * lds);
    t[0] = SKRNN_SHUFFLE_f64(r[0], r[1], 0, 4, 2, 6); /* columns 0, 2 of rows 0-1 */
    t[1] = SKRNN_SHUFFLE_f64(r[0], r[1], 1, 5, 3, 7); /* columns 1, 3 */
    t[2] = SKRNN_SHUFFLE_f64(r[2], r[3], 0, 4, 2, 6);
    t[3] = SKRNN_SHUFFLE_f64(r[2], r[3], 1, 5, 3, 7);
    *(skrnn_vf64_u *)dst = SKRNN_SHUFFLE_f64(t[0], t[2], 0, 1, 4, 5);
    *(skrnn_vf64_u *)(dst + ldd) = SKRNN_SHUFFLE_f64(t[1], t[3], 0, 1, 4, 5);
    *(skrnn_vf64_u *)(dst + 2 * (size_t)ldd) = SKRNN_SHUFFLE_f64(t[0], t[2], 2, 3, 6, 7);
    *(skrnn_vf64_u *)(dst + 3 * (size_t)ldd) = SKRNN_SHUFFLE_f64(t[1], t[3], 2, 3, 6, 7);
}

/* MR rows x NP panels x NV vectors of columns, the accumulators in
 * registers while p runs over k: per p, NP * NV loads of B, MR broadcasts
 * of A and MR * NP * NV multiply-adds. `panel` is the first of NP panels of
 * width w (consecutive panels are w * k apart); C points at the block's
 * first column. Three shapes are used: 4 rows x 1 panel x 3 vectors (12
 * accumulators, the main kernel), 1 row x 3 panels x 3 vectors (9
 * independent accumulators: one row has no other parallelism to hide the
 * latency of the multiply-adds), and 1 x 2 x 3 for two panels left over
 * (float32, H = 64 in an rnn: 2 panels and a tail, which 1 x 1 x 3 blocks
 * ran as latency-bound chains of 3 accumulators each). */
#define SKRNN_DEFINE_BLOCK(T, S, V, VU, MR, NP, NV)                            \
SKRNN_INLINE void skrnn_block_##S##_##MR##x##NP##x##NV(                        \
    int k, const T *SKRNN_RESTRICT A, int lda, const T *SKRNN_RESTRICT panel,  \
    int w, T beta, T *SKRNN_RESTRICT C, int ldc)                               \
{                                                                              \
    enum { L = sizeof(V) / sizeof(T) };                                        \
    V acc[MR][NP * NV];                                                        \
    V z = {0};                                                                 \
    int r, q, v, p;                                                            \
    for (r = 0; r < MR; r++)                                                   \
        for (q = 0; q < NP; q++)                                               \
            for (v = 0; v < NV; v++)                                           \
                acc[r][q * NV + v] = beta != 0                                 \
                    ? *(const VU *)(C + (size_t)r * ldc + q * w + v * L) : z;  \
    for (p = 0; p < k; p++) {                                                  \
        V b[NP * NV];                                                          \
        for (q = 0; q < NP; q++)                                               \
            for (v = 0; v < NV; v++)                                           \
                b[q * NV + v] = *(const VU *)(panel + (size_t)q * w * k        \
                                              + (size_t)p * w + v * L);        \
        for (r = 0; r < MR; r++) {                                             \
            T a = A[(size_t)r * lda + p];                                      \
            V x = SKRNN_SPLAT_##S(a);                                          \
            for (v = 0; v < NP * NV; v++)                                      \
                acc[r][v] += x * b[v];                                         \
        }                                                                      \
    }                                                                          \
    for (r = 0; r < MR; r++)                                                   \
        for (q = 0; q < NP; q++)                                               \
            for (v = 0; v < NV; v++)                                           \
                *(VU *)(C + (size_t)r * ldc + q * w + v * L)                   \
                    = acc[r][q * NV + v];                                      \
}

#define SKRNN_DEFINE_BLOCKS(T, S, V, VU)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 4, 1, 3)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 4, 1, 2)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 4, 1, 1)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 1, 3, 3)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 1, 2, 3)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 1, 1, 3)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 1, 1, 2)                                       \
SKRNN_DEFINE_BLOCK(T, S, V, VU, 1, 1, 1)

SKRNN_DEFINE_BLOCKS(float, f32, skrnn_vf32, skrnn_vf32_u)
SKRNN_DEFINE_BLOCKS(double, f64, skrnn_vf64, skrnn_vf64_u)
#undef SKRNN_DEFINE_BLOCKS
#undef SKRNN_DEFINE_BLOCK

/* The leftover panel (width w < SKRNN_NR) for MR rows: its whole vectors,
 * then its last w % L columns through the edge loop. */
#define SKRNN_TAIL(T, S, MR, L)                                                   \
    if (j0 < n) {                                                              \
        const T *panel = P + (size_t)j0 * k;                                   \
        int w = n - j0;                                                        \
        if (w >= 2 * L)                                                        \
            skrnn_block_##S##_##MR##x1x2(k, a, lda, panel, w, beta, c + j0, ldc); \
        else if (w >= L)                                                       \
            skrnn_block_##S##_##MR##x1x1(k, a, lda, panel, w, beta, c + j0, ldc); \
        if (w % L)                                                             \
            skrnn_step_gemm_edge_##S(MR, w - w % L, w, k, a, lda, panel,       \
                                     beta, c + j0, ldc);                       \
    }

#define SKRNN_DEFINE_GEMM(T, S, V, ROW)                                        \
ROW void skrnn_step_gemm_##S(                                                  \
    int m, int n, int k, const T *SKRNN_RESTRICT A, int lda,                   \
    const T *SKRNN_RESTRICT P, T beta, T *SKRNN_RESTRICT C, int ldc,           \
    int backwards)                                                             \
{                                                                              \
    enum { L = sizeof(V) / sizeof(T), NR = SKRNN_NR_##S };                     \
    int np = n / NR, nb = np * NR, m4 = m - m % 4;                             \
    /* one row: groups of 3 panels, one group of the 1 or 2 panels left,       \
     * then the leftover panel (the tail) */                                   \
    int n3 = np / 3, ng = n3 + (np % 3 != 0);                                  \
    int i, q, g, j0;                                                           \
    const T *a;                                                                \
    T *c;                                                                      \
    /* 4-row blocks: panels outside (the tail last), rows inside, so that a    \
     * panel is read from memory once per call and then from cache */          \
    for (q = 0; q <= np; q++) {                                                \
        g = backwards ? np - q : q;                                            \
        j0 = g * NR;                                                           \
        for (i = 0; i < m4; i += 4) {                                          \
            a = A + (size_t)i * lda;                                           \
            c = C + (size_t)i * ldc;                                           \
            if (g < np)                                                        \
                skrnn_block_##S##_4x1x3(k, a, lda, P + (size_t)j0 * k, NR,     \
                                        beta, c + j0, ldc);                    \
            else                                                               \
                SKRNN_TAIL(T, S, 4, L)                                         \
        }                                                                      \
    }                                                                          \
    /* rows left over (all of them when one sequence is predicted) */          \
    for (i = m4; i < m; i++) {                                                 \
        a = A + (size_t)i * lda;                                               \
        c = C + (size_t)i * ldc;                                               \
        for (q = 0; q <= ng; q++) {                                            \
            g = backwards ? ng - q : q;                                        \
            j0 = g < ng ? 3 * NR * g : nb;                                     \
            if (g < n3)                                                        \
                skrnn_block_##S##_1x3x3(k, a, lda, P + (size_t)j0 * k, NR,     \
                                        beta, c + j0, ldc);                    \
            else if (g < ng && np % 3 == 2)                                    \
                skrnn_block_##S##_1x2x3(k, a, lda, P + (size_t)j0 * k, NR,     \
                                        beta, c + j0, ldc);                    \
            else if (g < ng)                                                   \
                skrnn_block_##S##_1x1x3(k, a, lda, P + (size_t)j0 * k, NR,     \
                                        beta, c + j0, ldc);                    \
            else                                                               \
                SKRNN_TAIL(T, S, 1, L)                                         \
        }                                                                      \
    }                                                                          \
}

SKRNN_DEFINE_GEMM(float, f32, skrnn_vf32, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM(double, f64, skrnn_vf64, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_GEMM
#undef SKRNN_TAIL
#else
/* Without vector extensions: the same tiles, one value at a time. */
#define SKRNN_TILE_f32 8
#define SKRNN_TILE_f64 4
#define SKRNN_DEFINE_TILE(T, S)                                                \
static inline void skrnn_tile_##S(const T *src, ptrdiff_t lds, T *dst, int ldd) \
{                                                                              \
    int i, q;                                                                  \
    for (q = 0; q < SKRNN_TILE_##S; q++)                                       \
        for (i = 0; i < SKRNN_TILE_##S; i++)                                   \
            dst[(size_t)i * ldd + q] = src[q * lds + i];                       \
}
SKRNN_DEFINE_TILE(float, f32)
SKRNN_DEFINE_TILE(double, f64)
#undef SKRNN_DEFINE_TILE

/* Without vector extensions: the reference loop, panel by panel. */
#define SKRNN_DEFINE_GEMM(T, S, ROW)                                           \
ROW void skrnn_step_gemm_##S(                                                  \
    int m, int n, int k, const T *A, int lda, const T *P, T beta, T *C,        \
    int ldc, int backwards)                                                    \
{                                                                              \
    int q, j0, np = (n + SKRNN_NR_##S - 1) / SKRNN_NR_##S;                     \
    for (q = 0; q < np; q++) {                                                 \
        j0 = (backwards ? np - 1 - q : q) * SKRNN_NR_##S;                      \
        skrnn_step_gemm_edge_##S(                                              \
            m, 0, n - j0 < SKRNN_NR_##S ? n - j0 : SKRNN_NR_##S, k, A, lda,    \
            P + (size_t)j0 * k, beta, C + j0, ldc);                            \
    }                                                                          \
}
SKRNN_DEFINE_GEMM(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_GEMM(double, f64, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_GEMM
#endif

SKRNN_DEFINE_PACK(float, f32)
SKRNN_DEFINE_PACK(double, f64)
#undef SKRNN_DEFINE_PACK

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

/* The L2 penalty's passes: skrnn_penalize adds s * w to g and returns the
 * sum of the squares of w; skrnn_sum_sq returns that of a. The sums are in
 * double, in 8 lanes (element i in lane i % 8) added in a fixed order at the
 * end, so that gcc vectorises them (4 doubles per AVX register) without
 * reordering anything itself: a result depends on n and the data only. The
 * Cython loops these replace stayed scalar, at 1.85 ns an element. */
#define SKRNN_LANES_SUM(a)                                                     \
    (((a)[0] + (a)[4]) + ((a)[1] + (a)[5])) + (((a)[2] + (a)[6]) + ((a)[3] + (a)[7]))

#define SKRNN_DEFINE_PENALIZE(T, S, ROW)                                       \
ROW double skrnn_penalize_##S(                                                 \
    ptrdiff_t n, const T *SKRNN_RESTRICT w, T *SKRNN_RESTRICT g, T s)          \
{                                                                              \
    double acc[8] = {0};                                                       \
    ptrdiff_t i, n8 = n - n % 8;                                               \
    int l;                                                                     \
    for (i = 0; i < n8; i += 8)                                                \
        for (l = 0; l < 8; l++) {                                              \
            g[i + l] += s * w[i + l];                                          \
            acc[l] += (double)w[i + l] * (double)w[i + l];                     \
        }                                                                      \
    for (i = n8; i < n; i++) {                                                 \
        g[i] += s * w[i];                                                      \
        acc[i - n8] += (double)w[i] * (double)w[i];                            \
    }                                                                          \
    return SKRNN_LANES_SUM(acc);                                               \
}                                                                              \
                                                                               \
ROW double skrnn_sum_sq_##S(ptrdiff_t n, const T *SKRNN_RESTRICT a)            \
{                                                                              \
    double acc[8] = {0};                                                       \
    ptrdiff_t i, n8 = n - n % 8;                                               \
    int l;                                                                     \
    for (i = 0; i < n8; i += 8)                                                \
        for (l = 0; l < 8; l++)                                                \
            acc[l] += (double)a[i + l] * (double)a[i + l];                     \
    for (i = n8; i < n; i++)                                                   \
        acc[i - n8] += (double)a[i] * (double)a[i];                            \
    return SKRNN_LANES_SUM(acc);                                               \
}

SKRNN_DEFINE_PENALIZE(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_PENALIZE(double, f64, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_PENALIZE
#undef SKRNN_LANES_SUM

/* 1 when a[0..n) holds no NaN and no infinity, else 0. x * 0 is 0 for a
 * finite x and NaN otherwise, so sums of x * 0 over 16 lanes (vectorised,
 * no branch per value) tell, checked every 4096 values. A loop testing each
 * value and stopping at the first stayed scalar: 4.4x slower than NumPy's
 * isfinite(...).all() on 819,200 float32 values (561 against 127 us; this
 * loop: 92 us). gcc may fold x * 0 to 0 only under -ffinite-math-only and
 * -fno-signed-zeros (-ffast-math), which this package never uses. */
#define SKRNN_DEFINE_ALL_FINITE(T, S, ROW)                                     \
ROW int skrnn_all_finite_##S(ptrdiff_t n, const T *SKRNN_RESTRICT a)           \
{                                                                              \
    T acc[16] = {0}, sum;                                                      \
    ptrdiff_t i0, i, end, n16;                                                 \
    int l;                                                                     \
    for (i0 = 0; i0 < n; i0 = end) {                                           \
        end = n - i0 > 4096 ? i0 + 4096 : n;                                   \
        n16 = i0 + (end - i0) / 16 * 16;                                       \
        for (i = i0; i < n16; i += 16)                                         \
            for (l = 0; l < 16; l++)                                           \
                acc[l] += a[i + l] * 0;                                        \
        for (i = n16; i < end; i++)                                            \
            acc[0] += a[i] * 0;                                                \
        sum = 0;                                                               \
        for (l = 0; l < 16; l++)                                               \
            sum += acc[l];                                                     \
        if (sum != sum)                                                        \
            return 0;                                                          \
    }                                                                          \
    return 1;                                                                  \
}

SKRNN_DEFINE_ALL_FINITE(float, f32, SKRNN_SIMD_FN)
SKRNN_DEFINE_ALL_FINITE(double, f64, SKRNN_SIMD_FN)
#undef SKRNN_DEFINE_ALL_FINITE

#undef SKRNN_DEFINE_ROWS

#endif /* SKLEARN_RNN_GATE_MATH_H */
