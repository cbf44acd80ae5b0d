# Type stubs for the compiled GRU kernels (see _gru_fast.pyx).
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

def gru_forward(
    X: Array, weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array,
    h0: Array, lengths: NDArray[np.int32], out: Array, col: int, gates: Array,
    hn: Array, hh: Array, reverse: bool, n_threads: int,
) -> None: ...
def gru_backward(
    X: Array, weight_ih: Array, weight_hh: Array, h0: Array,
    lengths: NDArray[np.int32], out: Array, col: int, gates: Array, hn: Array,
    dA_h: Array, delta: Array, grad_h0: Array, grad_X: Array, accumulate_X: bool,
    grad_weight_ih: Array, grad_weight_hh: Array, grad_bias_ih: Array,
    grad_bias_hh: Array, reverse: bool, bptt_steps: int, n_threads: int,
) -> None: ...
