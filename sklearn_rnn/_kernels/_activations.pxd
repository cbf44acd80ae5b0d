# Scalar activations and their derivatives, inlined into the kernels' loops.
# Derivatives are taken from the activation's *output* y = f(a), which is
# what the forward pass stores, so BPTT needs no pre-activation buffer.
from libc.math cimport tanh, tanhf, exp, expf
from cython cimport floating


cdef enum Activation:
    TANH = 0
    RELU = 1


cdef inline floating _tanh(floating a) noexcept nogil:
    if floating is float:
        return tanhf(a)
    else:
        return tanh(a)


cdef inline floating _sigmoid(floating a) noexcept nogil:
    # Both branches avoid overflow: exp of a non-positive number only.
    cdef floating e
    if a >= 0:
        if floating is float:
            e = expf(-a)
        else:
            e = exp(-a)
        return 1 / (1 + e)
    if floating is float:
        e = expf(a)
    else:
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
