# Type stubs for the compiled output layer and losses (see _output_fast.pyx).
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

LOSSES: dict[str, int]

def loss_grad(Z: Array, Y: Array, w: Array | None, loss: int) -> float: ...
def dense_forward(features: Array, coef: Array, intercept: Array, Z: Array) -> None: ...
def dense_backward(
    features: Array, coef: Array, dZ: Array, gcoef: Array, gintercept: Array,
    dfeatures: Array,
) -> None: ...
def dense_loss_grad(
    features: Array, coef: Array, intercept: Array, Y: Array, w: Array | None,
    loss: int, work: Array, gcoef: Array, gintercept: Array, dfeatures: Array,
) -> float: ...
def softmax_rows_inplace(Z: Array) -> None: ...
def all_finite(a: Array) -> bool: ...
