# Type stubs for the compiled mini-batch helpers (see _training_fast.pyx).
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

def gather_time_major(
    X: Array, index: NDArray[np.intp], out: Array, n_threads: int = 1
) -> None: ...
def penalize(
    theta: Array, grad: Array, ranges: NDArray[np.intp], scale: float, n_threads: int
) -> tuple[float, float]: ...
def adam_step(
    theta: Array, grad: Array, ms: Array, vs: Array, learning_rate: float,
    beta_1: float, beta_2: float, epsilon: float,
    n_threads: int,
) -> None: ...
