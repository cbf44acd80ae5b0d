"""Stochastic optimizers updating one flat parameter vector in place.

Same rules and names as scikit-learn's MLP optimizers (``update_params``,
``iteration_ends``, ``trigger_stopping``), but the parameters and gradients
are single contiguous arrays: Adam's update is one compiled OpenMP pass
(``_kernels._training_fast.adam_step``), SGD's a few NumPy passes.
"""

import math

import numpy as np

from ._kernels._training_fast import adam_step


class BaseOptimizer:
    """Shared learning-rate bookkeeping.

    Parameters
    ----------
    learning_rate_init : float
        The initial step size.
    """

    def __init__(self, learning_rate_init=0.1):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)

    def update_params(self, params, grads, n_threads=1):
        """Update ``params`` in place from ``grads``.

        ``grads`` has the shape and dtype of ``params``; ``n_threads`` is the
        OpenMP budget of a compiled update.
        """
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Hook run after each epoch; ``time_step`` counts samples seen."""

    def trigger_stopping(self, msg, verbose):
        """Decide whether training stops when there is no improvement."""
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDOptimizer(BaseOptimizer):
    """Stochastic gradient descent with momentum.

    Parameters
    ----------
    params : ndarray
        The flat parameter vector (for the shape of the velocity).
    learning_rate_init : float
    lr_schedule : {'constant', 'adaptive', 'invscaling'}
    momentum : float
    nesterov : bool
    power_t : float
    """

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros_like(params)

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (
                time_step + 1
            ) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False

    def update_params(self, params, grads, n_threads=1):
        v = self.velocity
        v *= self.momentum
        v -= self.learning_rate * grads
        if self.nesterov:
            params += self.momentum * v
            params -= self.learning_rate * grads
        else:
            params += v


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma and Ba, 2014), as in scikit-learn's MLP.

    Parameters
    ----------
    params : ndarray
        The flat parameter vector (for the shape of the moments).
    learning_rate_init, beta_1, beta_2, epsilon : float
    """

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = np.zeros_like(params)
        self.vs = np.zeros_like(params)

    def update_params(self, params, grads, n_threads=1):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.learning_rate = float(
            self.learning_rate_init * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        adam_step(params, grads, self.ms, self.vs, self.learning_rate, b1, b2,
                  self.epsilon, n_threads)  # fmt: skip

    def __setstate__(self, state):
        state.pop("_work", None)  # scratch array of pickles from 0.1.0.dev0
        self.__dict__.update(state)
