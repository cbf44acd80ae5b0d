# Scalar activations and their derivatives, inlined into the kernels' loops.
# The derivative is taken from the activation's *output* y = f(a), which is
# what the forward pass stores, so BPTT needs no pre-activation buffer.
from libc.math cimport tanh, tanhf
from cython cimport floating


cdef enum Activation:
    TANH = 0
    RELU = 1


cdef inline floating _activate(floating a, int act) noexcept nogil:
    if act == RELU:
        return a if a > 0 else 0
    if floating is float:
        return tanhf(a)
    else:
        return tanh(a)


cdef inline floating _activate_grad(floating y, int act) noexcept nogil:
    """f'(a) written in terms of y = f(a)."""
    if act == RELU:
        return 1 if y > 0 else 0
    return 1 - y * y
