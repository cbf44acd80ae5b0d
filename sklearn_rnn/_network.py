"""The network behind every estimator: stacked recurrent layers, a pooling of
their outputs and one dense output layer, over one flat parameter vector.

Design:

* All parameters live in one contiguous 1-D array (``theta``); the per-layer
  weights are views into it, in PyTorch's layout (``weight_ih`` (G*H, F_in),
  ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,)) followed by the
  output layer ``coef`` (H_last, n_outputs) and ``intercept`` (n_outputs,).
  Gradients use the same layout, so the optimizer, gradient clipping and the
  L2 penalty are a few vectorised passes over one array.
* Python runs once per layer per mini-batch; everything per time step runs in
  the compiled kernels (``_kernels``).
* Sequences are passed time-major, ``(T, B, F)`` C-contiguous, with
  ``lengths`` (int32, one per sequence) marking right padding.
"""

import numpy as np

from ._kernels import _rnn_fast

_EMPTY_GRAD_X = {
    np.dtype(np.float32): np.empty((0, 0, 0), dtype=np.float32),
    np.dtype(np.float64): np.empty((0, 0, 0), dtype=np.float64),
}

#: Cell name -> number of stacked gates (rows of weight_ih per hidden unit).
CELL_GATES = {"rnn": 1}

#: Parameter names of one recurrent layer, in storage order.
LAYER_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class RecurrentNetwork:
    """Shape, parameter layout and forward/backward pass of one model.

    Parameters
    ----------
    n_features : int
        Features per time step.
    hidden_sizes : tuple of int
        Hidden units of each stacked recurrent layer.
    n_outputs : int
        Units of the dense output layer.
    cell : {'rnn'}
        Recurrent cell.
    activation : {'tanh', 'relu'}
        Non-linearity of the vanilla cell.
    output : {'last', 'sequence'}
        'last': the output layer reads the final state of the top layer (one
        output per sequence); 'sequence': it reads every step (one output per
        step).
    """

    def __init__(self, n_features, hidden_sizes, n_outputs, *, cell, activation, output):
        self.n_features = int(n_features)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.n_outputs = int(n_outputs)
        self.cell = cell
        self.activation = activation
        self.output = output
        gates = CELL_GATES[cell]
        shapes = []
        f_in = self.n_features
        for layer, h in enumerate(self.hidden_sizes):
            shapes += [
                (layer, "weight_ih", (gates * h, f_in), True),
                (layer, "weight_hh", (gates * h, h), True),
                (layer, "bias_ih", (gates * h,), False),
                (layer, "bias_hh", (gates * h,), False),
            ]
            f_in = h
        shapes += [
            (None, "coef", (f_in, self.n_outputs), True),
            (None, "intercept", (self.n_outputs,), False),
        ]
        self._entries = []
        offset = 0
        for layer, name, shape, penalized in shapes:
            size = int(np.prod(shape))
            self._entries.append((layer, name, shape, slice(offset, offset + size), penalized))
            offset += size
        self.size = offset
        #: Slices of theta that the L2 penalty applies to (weights, not biases).
        self.penalized = [e[3] for e in self._entries if e[4]]

    @property
    def n_hidden_out(self):
        """Width of the top recurrent layer (the features of ``transform``)."""
        return self.hidden_sizes[-1]

    def unpack(self, theta):
        """Views of ``theta``: (list of per-layer dicts, coef, intercept)."""
        layers = [{} for _ in self.hidden_sizes]
        out = {}
        for layer, name, shape, sl, _ in self._entries:
            view = theta[sl].reshape(shape)
            if layer is None:
                out[name] = view
            else:
                layers[layer][name] = view
        return layers, out["coef"], out["intercept"]

    def init_params(self, random_state, dtype):
        """A new parameter vector: Glorot-uniform input and output weights,
        orthogonal recurrent weights, zero biases."""
        theta = np.zeros(self.size, dtype=dtype)
        layers, coef, _ = self.unpack(theta)
        for p in layers:
            g_h, f_in = p["weight_ih"].shape
            h = p["weight_hh"].shape[1]
            bound = np.sqrt(6.0 / (f_in + h))
            p["weight_ih"][...] = random_state.uniform(-bound, bound, (g_h, f_in))
            for g in range(g_h // h):
                p["weight_hh"][g * h : (g + 1) * h] = _orthogonal(h, random_state)
        bound = np.sqrt(6.0 / (coef.shape[0] + coef.shape[1]))
        coef[...] = random_state.uniform(-bound, bound, coef.shape)
        return theta

    # ------------------------------------------------------------------
    # Forward and backward passes of one mini-batch
    # ------------------------------------------------------------------
    def forward(self, theta, X, lengths, n_threads):
        """Run the network on a time-major batch.

        Parameters
        ----------
        theta : ndarray of shape (size,)
        X : ndarray of shape (T, B, F), C-contiguous, dtype of theta
        lengths : ndarray of shape (B,), int32
        n_threads : int

        Returns
        -------
        Z : ndarray
            Raw outputs: (B, n_outputs) for output='last', (T, B, n_outputs)
            for output='sequence'.
        cache : dict
            What :meth:`backward` needs.
        """
        layers, coef, intercept = self.unpack(theta)
        T, B, _ = X.shape
        inputs, states = self._run_layers(layers, X, lengths, n_threads)
        top = states[-1]
        features = top[T - 1] if self.output == "last" else top.reshape(T * B, -1)
        Z = features @ coef
        Z += intercept
        if self.output == "sequence":
            Z = Z.reshape(T, B, -1)
        cache = {"inputs": inputs, "states": states, "features": features,
                 "lengths": lengths}  # fmt: skip
        return Z, cache

    def features(self, theta, X, lengths, n_threads):
        """The top layer's final state, (B, H_last): what ``transform`` returns."""
        layers, _, _ = self.unpack(theta)
        _, states = self._run_layers(layers, X, lengths, n_threads)
        return np.ascontiguousarray(states[-1][X.shape[0] - 1])

    def _run_layers(self, layers, X, lengths, n_threads):
        """Forward through the stacked recurrent layers; (inputs, states)."""
        T, B, _ = X.shape
        act = _rnn_fast.ACTIVATIONS[self.activation]
        inputs, states = [X], []
        for p in layers:
            h = p["weight_hh"].shape[1]
            hidden = np.empty((T, B, h), dtype=X.dtype)
            h0 = np.zeros((B, h), dtype=X.dtype)
            _rnn_fast.rnn_forward(
                inputs[-1], p["weight_ih"], p["weight_hh"], p["bias_ih"],
                p["bias_hh"], h0, lengths, hidden, False, act, n_threads,
            )  # fmt: skip
            states.append(hidden)
            inputs.append(hidden)
        return inputs, states

    def backward(self, theta, cache, dZ, grad, n_threads):
        """Fill ``grad`` (same layout as ``theta``) with dL/dtheta given dL/dZ."""
        layers, coef, _ = self.unpack(theta)
        glayers, gcoef, gintercept = self.unpack(grad)
        states, inputs = cache["states"], cache["inputs"]
        lengths = cache["lengths"]
        T, B, _ = inputs[0].shape
        dZ2 = dZ.reshape(-1, self.n_outputs)
        np.matmul(cache["features"].T, dZ2, out=gcoef)
        np.sum(dZ2, axis=0, out=gintercept)
        dfeatures = dZ2 @ coef.T
        top_h = self.hidden_sizes[-1]
        if self.output == "last":
            delta = np.zeros((T, B, top_h), dtype=dZ.dtype)
            delta[T - 1] = dfeatures
        else:
            delta = dfeatures.reshape(T, B, top_h)
        act = _rnn_fast.ACTIVATIONS[self.activation]
        for i in range(len(layers) - 1, -1, -1):
            p, g = layers[i], glayers[i]
            x = inputs[i]
            grad_x = (
                np.empty_like(x) if i > 0 else _EMPTY_GRAD_X[np.dtype(x.dtype)]
            )
            grad_h0 = np.empty((B, p["weight_hh"].shape[1]), dtype=x.dtype)
            _rnn_fast.rnn_backward(
                x, p["weight_ih"], p["weight_hh"], np.zeros_like(grad_h0), lengths,
                states[i], delta, grad_h0, grad_x, g["weight_ih"], g["weight_hh"],
                g["bias_ih"], g["bias_hh"], False, act, n_threads,
            )  # fmt: skip
            delta = grad_x
        return grad


def _orthogonal(n, random_state):
    """A random orthogonal (n, n) matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(random_state.standard_normal((n, n)))
    return q * np.sign(np.diag(r))
