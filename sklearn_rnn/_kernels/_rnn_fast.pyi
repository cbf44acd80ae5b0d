# Type stubs for the compiled vanilla-RNN kernels (see _rnn_fast.pyx).
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
ACTIVATIONS: dict[str, int]
PARALLEL_MIN_WORK: int
MIN_CHUNK_ROWS: int

def rnn_forward(
    X: Array, weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array,
    h0: Array, lengths: NDArray[np.int32], out: Array, col: int, reverse: bool,
    activation: int, n_threads: int,
) -> None: ...
def rnn_backward(
    X: Array, weight_ih: Array, weight_hh: Array, h0: Array,
    lengths: NDArray[np.int32], out: Array, col: int, delta: Array, dA: Array,
    grad_h0: Array, grad_X: Array, accumulate_X: bool, grad_weight_ih: Array,
    grad_weight_hh: Array, grad_bias_ih: Array, grad_bias_hh: Array,
    reverse: bool, activation: int, bptt_steps: int, n_threads: int,
) -> None: ...
