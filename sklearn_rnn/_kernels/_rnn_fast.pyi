# Type stubs for the compiled vanilla-RNN kernels (see _rnn_fast.pyx).
import numpy as np
from numpy.typing import NDArray

ACTIVATIONS: dict[str, int]

def rnn_forward(
    X: NDArray[np.floating],
    weight_ih: NDArray[np.floating],
    weight_hh: NDArray[np.floating],
    bias_ih: NDArray[np.floating],
    bias_hh: NDArray[np.floating],
    h0: NDArray[np.floating],
    lengths: NDArray[np.int32],
    hidden: NDArray[np.floating],
    reverse: bool,
    activation: int,
    n_threads: int,
) -> None: ...
def rnn_backward(
    X: NDArray[np.floating],
    weight_ih: NDArray[np.floating],
    weight_hh: NDArray[np.floating],
    h0: NDArray[np.floating],
    lengths: NDArray[np.int32],
    hidden: NDArray[np.floating],
    delta: NDArray[np.floating],
    grad_h0: NDArray[np.floating],
    grad_X: NDArray[np.floating],
    grad_weight_ih: NDArray[np.floating],
    grad_weight_hh: NDArray[np.floating],
    grad_bias_ih: NDArray[np.floating],
    grad_bias_hh: NDArray[np.floating],
    reverse: bool,
    activation: int,
    n_threads: int,
) -> None: ...
