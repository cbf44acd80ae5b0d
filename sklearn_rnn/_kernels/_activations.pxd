# Scalar activations and their derivatives, inlined into the kernels' loops.
# Derivatives are taken from the activation's *output* y = f(a), which is
# what the forward pass stores, so BPTT needs no pre-activation buffer.
from libc.math cimport tanh, exp
from cython cimport floating


cdef enum Activation:
    TANH = 0
    RELU = 1


cdef union _Float32Bits:
    float f
    int i


cdef inline float _exp_f32(float x) noexcept nogil:
    """exp(x) in float32, branch-free so that loops over it vectorise.

    x = n ln2 + r with |r| <= ln2/2; exp(r) by its Taylor polynomial of
    degree 6 (relative error < 2e-7, about 2 ulp); 2^n from the exponent
    bits. x is clamped to [-87, 88], where float32 exp is finite and normal.
    """
    cdef float n, r, p
    cdef _Float32Bits scale
    x = min(max(x, <float> -87.0), <float> 88.0)
    # Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick.
    n = (x * <float> 1.44269504088896341 + <float> 12582912.0) - <float> 12582912.0
    r = x - n * <float> 0.693359375 + n * <float> 2.12194440e-4
    p = <float> 1.0 + r * (<float> 1.0 + r * (<float> 0.5 + r * (
        <float> 0.166666666666666667 + r * (<float> 0.0416666666666666667 + r * (
            <float> 0.00833333333333333333 + r * <float> 0.00138888888888888889)))))
    scale.i = (<int> n + 127) << 23
    return p * scale.f


cdef inline floating _tanh(floating a) noexcept nogil:
    if floating is float:
        # 1 - 2 / (exp(2a) + 1): absolute error about 1e-7; |a| <= 9 keeps
        # exp finite (tanh(9) rounds to 1 in float32).
        a = min(max(a, <float> -9.0), <float> 9.0)
        return <float> 1.0 - <float> 2.0 / (_exp_f32(<float> 2.0 * a) + <float> 1.0)
    else:
        return tanh(a)


cdef inline floating _sigmoid(floating a) noexcept nogil:
    cdef floating e
    if floating is float:
        return <float> 1.0 / (<float> 1.0 + _exp_f32(-a))
    # float64: both branches take exp of a non-positive number only.
    if a >= 0:
        return 1 / (1 + exp(-a))
    e = exp(a)
    return e / (1 + e)


cdef inline floating _activate(floating a, int act) noexcept nogil:
    if act == RELU:
        return a if a > 0 else 0
    return _tanh(a)


cdef inline floating _activate_grad(floating y, int act) noexcept nogil:
    """f'(a) written in terms of y = f(a)."""
    if act == RELU:
        return 1 if y > 0 else 0
    return 1 - y * y
