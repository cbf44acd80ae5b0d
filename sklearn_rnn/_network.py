"""The network behind every estimator: stacked (bidirectional) recurrent
layers, a pooling of the top layer's states and one dense output layer, over
one flat parameter vector.

Design:

* All parameters live in one contiguous 1-D array (``theta``); the weights
  are views into it, in PyTorch's layout (``weight_ih`` (G*H, F_in),
  ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,), G = 1, 4, 3 for
  rnn, lstm, gru), layer by layer and direction by direction, followed by
  the output layer ``coef`` (D*H_last, n_outputs) and ``intercept``.
  Gradients use the same layout, so the optimizer, gradient clipping and the
  L2 penalty are a few vectorised passes over one array.
* Python runs once per layer and direction per mini-batch; everything per
  time step runs in the compiled kernels (``_kernels``). Pooling, dropout
  masks and the output layer are whole-array NumPy operations.
* Sequences are time-major, ``(T, B, F)`` C-contiguous, with ``lengths``
  (int32) marking right padding. Both directions of a layer write into one
  ``(T, B, D*H)`` buffer (forward in the first H columns, reverse in the
  next), which is the next layer's input, as in PyTorch.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg

from ._kernels import _gru_fast, _lstm_fast, _rnn_fast
from ._kernels._output_fast import (
    LOSSES,
    dense_backward,
    dense_forward,
    dense_loss_grad,
)

POOLINGS = ("last", "mean", "max", "sequence")


def _empty_grad_x(dtype):
    return np.empty((0, 0, 0), dtype=dtype)


class Workspace:
    """Buffers kept from one mini-batch to the next during ``fit``.

    ``empty(key, shape)`` returns a view of the buffer of that name, grown
    when a batch needs more. The passes of one mini-batch allocate tens of
    megabytes of states, gates and gradients; with fresh arrays each batch
    glibc maps and unmaps them every time, and the page faults and TLB
    flushes made the NumPy work around the kernels 5x slower (rnn, medium
    config: 55 ms of a 345 ms epoch). A view is valid until the next
    request for the same key, i.e. the next mini-batch.

    ``zeros(key, shape)`` is a zero-filled view; a user that gives the
    buffer back zeroed (``zeroed(key, n)``: its first n elements are 0)
    saves the next user the fill: pooling='last' writes one step of its
    (T, B, H) gradient buffer, so it clears that step instead of filling
    the whole buffer every mini-batch.

    The view of each (key, shape) is kept and handed out again: mini-batches
    of one shape then cost a dictionary lookup instead of NumPy's slicing and
    reshaping, ~10 us a buffer right after a kernel (cold caches).
    """

    def __init__(self, dtype):
        self.dtype = dtype
        self._buffers = {}
        self._views = {}
        self._zero_extent = {}

    def empty(self, key, shape):
        view = self._views.get((key, shape))
        if view is None:
            n = math.prod(shape)
            buf = self._buffers.get(key)
            if buf is None or buf.shape[0] < n:
                buf = self._buffers[key] = np.empty(n, dtype=self.dtype)
                # the kept views of the old buffer go with it
                self._views = {k: v for k, v in self._views.items() if k[0] != key}
            view = self._views[key, shape] = buf[:n].reshape(shape)
        self._zero_extent.pop(key, None)
        return view

    def zeros(self, key, shape):
        known_zero = self._zero_extent.get(key, 0)
        view = self.empty(key, shape)
        if view.size > known_zero:
            view.fill(0)
        return view

    def zeroed(self, key, n):
        self._zero_extent[key] = n


def _empty(buffers, key, shape, dtype):
    """``np.empty``, or the workspace's buffer ``key`` when ``buffers`` is one.

    Predict and transform use fresh arrays (threads may share a model).
    """
    if buffers is None:
        return np.empty(shape, dtype=dtype)
    return buffers.empty(key, shape)


def _zeros(buffers, key, shape, dtype):
    """``np.zeros``, or the workspace's buffer ``key`` filled with zeros."""
    if buffers is None:
        return np.zeros(shape, dtype=dtype)
    return buffers.zeros(key, shape)


def _zero_state(buffers, key, shape, dtype):
    """A zero initial state: the kernels only read it, so the workspace's
    copy stays zero from one mini-batch to the next."""
    if buffers is None:
        return np.zeros(shape, dtype=dtype)
    state = buffers.zeros(key, shape)
    buffers.zeroed(key, state.size)
    return state


class _RNNCell:
    """Adapter of the vanilla cell's kernels."""

    gates = 1
    n_states = 1

    def forward(self, p, X, lengths, out, col, states0, reverse, act, n_threads,
                buffers=None, key=None):  # fmt: skip
        _rnn_fast.rnn_forward(
            X, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
            states0[0], lengths, out, col, reverse, act, n_threads,
        )  # fmt: skip
        return ()

    def backward(self, p, g, X, lengths, out, col, cache, states0, delta,
                 grad_states0, grad_X, accumulate, reverse, act, bptt, n_threads,
                 buffers=None, key=None):  # fmt: skip
        T, B, _ = X.shape
        dA = _empty(buffers, ("dA", key), (T, B, p["weight_hh"].shape[1]), X.dtype)
        _rnn_fast.rnn_backward(
            X, p["weight_ih"], p["weight_hh"], states0[0], lengths, out, col,
            delta, dA, grad_states0[0], grad_X, accumulate, g["weight_ih"],
            g["weight_hh"], g["bias_ih"], g["bias_hh"], reverse, act, bptt,
            n_threads,
        )  # fmt: skip


class _LSTMCell:
    """Adapter of the LSTM kernels; the state is (h, c)."""

    gates = 4
    n_states = 2

    def forward(self, p, X, lengths, out, col, states0, reverse, act, n_threads,
                buffers=None, key=None):  # fmt: skip
        T, B, _ = X.shape
        H = p["weight_hh"].shape[1]
        gates = _empty(buffers, ("gates", key), (T, B, 4 * H), X.dtype)
        cells = _empty(buffers, ("cells", key), (T, B, H), X.dtype)
        _lstm_fast.lstm_forward(
            X, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
            states0[0], states0[1], lengths, out, col, gates, cells, reverse,
            n_threads,
        )  # fmt: skip
        return gates, cells

    def backward(self, p, g, X, lengths, out, col, cache, states0, delta,
                 grad_states0, grad_X, accumulate, reverse, act, bptt, n_threads,
                 buffers=None, key=None):  # fmt: skip
        gates, cells = cache
        _lstm_fast.lstm_backward(
            X, p["weight_ih"], p["weight_hh"], states0[0], states0[1], lengths,
            out, col, gates, cells, delta, grad_states0[0], grad_states0[1],
            grad_X, accumulate, g["weight_ih"], g["weight_hh"], g["bias_ih"],
            g["bias_hh"], reverse, bptt, n_threads,
        )  # fmt: skip


class _GRUCell:
    """Adapter of the GRU kernels."""

    gates = 3
    n_states = 1

    def forward(self, p, X, lengths, out, col, states0, reverse, act, n_threads,
                buffers=None, key=None):  # fmt: skip
        T, B, _ = X.shape
        H = p["weight_hh"].shape[1]
        gates = _empty(buffers, ("gates", key), (T, B, 3 * H), X.dtype)
        hn = _empty(buffers, ("hn", key), (T, B, H), X.dtype)
        hh = _empty(buffers, ("hh", key), (B, 3 * H), X.dtype)
        _gru_fast.gru_forward(
            X, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
            states0[0], lengths, out, col, gates, hn, hh, reverse, n_threads,
        )  # fmt: skip
        return gates, hn

    def backward(self, p, g, X, lengths, out, col, cache, states0, delta,
                 grad_states0, grad_X, accumulate, reverse, act, bptt, n_threads,
                 buffers=None, key=None):  # fmt: skip
        gates, hn = cache
        dA_h = _empty(buffers, ("dA_h", key), gates.shape, gates.dtype)
        _gru_fast.gru_backward(
            X, p["weight_ih"], p["weight_hh"], states0[0], lengths, out, col,
            gates, hn, dA_h, delta, grad_states0[0], grad_X, accumulate,
            g["weight_ih"], g["weight_hh"], g["bias_ih"], g["bias_hh"], reverse,
            bptt, n_threads,
        )  # fmt: skip


CELLS = {"rnn": _RNNCell(), "lstm": _LSTMCell(), "gru": _GRUCell()}


class RecurrentNetwork:
    """Shape, parameter layout and forward/backward pass of one model.

    Parameters
    ----------
    n_features : int
        Features per time step.
    hidden_sizes : tuple of int
        Hidden units of each stacked recurrent layer (per direction).
    n_outputs : int
        Units of the dense output layer.
    cell : {'rnn', 'lstm', 'gru'}
    activation : {'tanh', 'relu'}
        Non-linearity of the 'rnn' cell (the gated cells use PyTorch's).
    bidirectional : bool
        Run every layer in both directions and concatenate the states.
    pooling : {'last', 'mean', 'max', 'sequence'}
        What the output layer reads: the final state (for the reverse
        direction, its state at the first step), the mean or maximum over
        the valid steps, or every step ('sequence': one output per step).
    """

    def __init__(self, n_features, hidden_sizes, n_outputs, *, cell, activation,
                 bidirectional, pooling):  # fmt: skip
        self.n_features = int(n_features)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.n_outputs = int(n_outputs)
        self.cell = cell
        self.activation = activation
        self.bidirectional = bool(bidirectional)
        self.pooling = pooling
        self.n_directions = 2 if self.bidirectional else 1
        gates = CELLS[cell].gates
        entries = []
        f_in = self.n_features
        for layer, h in enumerate(self.hidden_sizes):
            for d in range(self.n_directions):
                entries += [
                    ((layer, d), "weight_ih", (gates * h, f_in), True),
                    ((layer, d), "weight_hh", (gates * h, h), True),
                    ((layer, d), "bias_ih", (gates * h,), False),
                    ((layer, d), "bias_hh", (gates * h,), False),
                ]
            f_in = h * self.n_directions
        entries += [
            (None, "coef", (f_in, self.n_outputs), True),
            (None, "intercept", (self.n_outputs,), False),
        ]
        self._entries = []
        offset = 0
        for key, name, shape, penalized in entries:
            size = int(np.prod(shape))
            self._entries.append((key, name, shape, slice(offset, offset + size), penalized))
            offset += size
        self.size = offset
        self._set_derived()

    def _set_derived(self):
        """Attributes computed once from the layout (``_entries``)."""
        #: (start, stop) rows of the slices of theta that the L2 penalty
        #: applies to (weights, not biases), as ``penalize`` takes them.
        self.penalized_ranges = np.array(
            [(sl.start, sl.stop) for _, _, _, sl, penalized in self._entries
             if penalized], dtype=np.intp,
        )  # fmt: skip
        #: Largest weight that BLAS multiplies (the recurrent weights are not
        #: multiplied by BLAS): a BLAS call on n rows of a batch costs at most
        #: n * blas_weight_size multiply-adds.
        self.blas_weight_size = max(
            int(np.prod(shape)) for _, name, shape, _, _ in self._entries
            if name in ("weight_ih", "coef")
        )  # fmt: skip

    @property
    def config(self):
        """Everything that fixes the parameter layout and the computation."""
        return (self.n_features, self.hidden_sizes, self.n_outputs, self.cell,
                self.activation, self.bidirectional, self.pooling)  # fmt: skip

    @property
    def n_hidden_out(self):
        """Width of the top layer's output (both directions)."""
        return self.hidden_sizes[-1] * self.n_directions

    @property
    def recurrent_work_per_step(self):
        """Multiply-adds of the largest layer's recurrence per sequence and
        step, G*H*(H + 8): the count the LSTM and GRU kernels use for their
        thread rule, and an upper bound of the rnn kernel's H*(H + 4), so a
        caller using it never predicts one thread where a kernel takes two."""
        gates = CELLS[self.cell].gates
        return max(gates * h * (h + 8) for h in self.hidden_sizes)

    @property
    def working_values_per_step(self):
        """Values held per sequence and time step by a forward pass: the
        input, and per layer about (G + 4) * D * H (gates, states, cell or
        GRU buffers, the pooled copies)."""
        gates = CELLS[self.cell].gates
        return self.n_features + sum(
            (gates + 4) * self.n_directions * h for h in self.hidden_sizes
        )

    @property
    def output(self):
        """'sequence' when the output layer reads every step, else 'last'."""
        return "sequence" if self.pooling == "sequence" else "last"

    def unpack(self, theta):
        """Views of ``theta``: ([[dict per direction] per layer], coef, intercept).

        The views of the last two arrays unpacked (the parameters and, in
        fit, their gradient) are kept: building them costs ~5 us, 5% of a
        single sequence's predict. They stay valid while the array lives (a
        NumPy array with views cannot be resized), which the kept reference
        guarantees; updates in place show through them.
        """
        views = self.__dict__.setdefault("_views", {})
        hit = views.get(id(theta))
        if hit is not None and hit[0] is theta:
            return hit[1]
        result = self._make_views(theta)
        if len(views) >= 2:
            views.clear()
        views[id(theta)] = (theta, result)
        return result

    def forget_views(self):
        """Drop the cached views and with them the arrays they reference
        (after fit: its gradient array)."""
        self.__dict__.pop("_views", None)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_views", None)  # a cache, and it references the arrays
        return state

    def __setstate__(self, state):
        state.pop("penalized", None)  # pickles from before penalized_ranges
        self.__dict__.update(state)
        if "penalized_ranges" not in state or "blas_weight_size" not in state:
            self._set_derived()

    def _make_views(self, theta):
        layers = [[{} for _ in range(self.n_directions)] for _ in self.hidden_sizes]
        out = {}
        for key, name, shape, sl, _ in self._entries:
            view = theta[sl].reshape(shape)
            if key is None:
                out[name] = view
            else:
                layers[key[0]][key[1]][name] = view
        return layers, out["coef"], out["intercept"]

    def torch_layout(self, theta):
        """One dict per layer with PyTorch's names (``_reverse`` suffixes)."""
        layers, _, _ = self.unpack(theta)
        result = []
        for directions in layers:
            params = {}
            for d, p in enumerate(directions):
                suffix = "_reverse" if d == 1 else ""
                for name, view in p.items():
                    params[name + suffix] = view
            result.append(params)
        return result

    def init_params(self, random_state, dtype, n_threads=1):
        """A new parameter vector: Glorot-uniform input and output weights,
        orthogonal recurrent weights per gate block, zero biases except the
        LSTM forget gate's (1, the usual choice that keeps early gradients
        flowing).

        The random numbers are drawn in one fixed order; the QR
        factorizations of the recurrent blocks then run on ``n_threads``
        threads (LAPACK releases the GIL), in the model's dtype. They were
        14% of a one-epoch fit with H = 512: four QRs of 512 x 512 at 24-35
        ms each in float64; a float32 model's QRs take half as long (13 ms),
        and its weights are float32 anyway.
        """
        theta = np.zeros(self.size, dtype=dtype)
        layers, coef, _ = self.unpack(theta)
        blocks, gaussians = [], []
        for directions in layers:
            for p in directions:
                g_h, f_in = p["weight_ih"].shape
                h = p["weight_hh"].shape[1]
                bound = np.sqrt(6.0 / (f_in + h))
                p["weight_ih"][...] = random_state.uniform(-bound, bound, (g_h, f_in))
                for g in range(g_h // h):
                    blocks.append(p["weight_hh"][g * h : (g + 1) * h])
                    gaussians.append(
                        random_state.standard_normal((h, h)).astype(dtype, copy=False)
                    )
                if self.cell == "lstm":
                    p["bias_ih"][h : 2 * h] = 1.0
        bound = np.sqrt(6.0 / (coef.shape[0] + coef.shape[1]))
        coef[...] = random_state.uniform(-bound, bound, coef.shape)
        workers = min(n_threads, len(blocks))
        if workers > 1 and max(b.shape[0] for b in blocks) >= 128:
            with ThreadPoolExecutor(workers) as pool:
                orthogonal = list(pool.map(_orthogonal, gaussians))
        else:
            orthogonal = map(_orthogonal, gaussians)
        for block, q in zip(blocks, orthogonal):
            block[...] = q
        return theta

    # ------------------------------------------------------------------
    # Forward and backward passes of one mini-batch
    # ------------------------------------------------------------------
    def forward(self, theta, X, lengths, n_threads, *, dropout=0.0, random_state=None,
                buffers=None):  # fmt: skip
        """Run the network on a time-major batch.

        Parameters
        ----------
        theta : ndarray of shape (size,)
        X : ndarray of shape (T, B, F), C-contiguous, dtype of theta
        lengths : ndarray of shape (B,), int32
        n_threads : int
        dropout : float
            Probability of zeroing each input of the layers above the first
            (training only; needs ``random_state``).
        random_state : RandomState or None
        buffers : Workspace or None
            Where the passes' arrays come from: the fit's workspace (reused
            by the next mini-batch), or fresh arrays (None).

        Returns
        -------
        Z : ndarray
            Raw outputs: (B, n_outputs), or (T, B, n_outputs) for 'sequence'.
        cache : dict
            What :meth:`backward` needs.
        """
        layers, coef, intercept = self.unpack(theta)
        cache = self._run_layers(layers, X, lengths, n_threads, dropout, random_state,
                                 buffers)  # fmt: skip
        cache["buffers"] = buffers
        features = self._pool(cache["outputs"][-1], lengths, self.pooling)
        features = features.reshape(-1, features.shape[-1])
        cache["features"] = features
        Z = np.empty((features.shape[0], self.n_outputs), dtype=X.dtype)
        dense_forward(features, coef, intercept, Z)
        if self.pooling == "sequence":
            Z = Z.reshape(X.shape[0], X.shape[1], -1)
        return Z, cache

    def loss_grad(self, theta, grad, X, lengths, Y, w, loss, n_threads, *,
                  dropout=0.0, random_state=None, buffers=None, bptt_steps=0):  # fmt: skip
        """Loss of one time-major mini-batch; fills ``grad`` with its gradient.

        The output layer, the loss and the output layer's gradient are one
        compiled call (``_output_fast.dense_loss_grad``) between the
        recurrent layers' passes.

        Parameters
        ----------
        theta, grad : ndarray of shape (size,)
        X, lengths, n_threads, dropout, random_state, buffers
            As in :meth:`forward`.
        Y : ndarray
            Targets: (B, n_outputs), or for pooling='sequence' those of the
            first T' steps, (T', B, n_outputs) (T' = T - 1 when the target
            is the next step).
        w : ndarray of shape (rows of Y,) or None
            Row weights summing to one (0 for rows that do not count); None
            for the mean.
        loss : str
            A name of ``_base.LOSS_FUNCTIONS``.
        bptt_steps : int
            As in :meth:`backward`.

        Returns
        -------
        loss : float
        """
        layers, coef, intercept = self.unpack(theta)
        glayers, gcoef, gintercept = self.unpack(grad)
        cache = self._run_layers(layers, X, lengths, n_threads, dropout, random_state,
                                 buffers)  # fmt: skip
        cache["buffers"] = buffers
        top = cache["outputs"][-1]
        if self.pooling == "sequence":
            if Y.ndim != 3 or Y.shape[0] > top.shape[0]:
                raise ValueError(
                    f"pooling='sequence' needs targets of shape (steps <= "
                    f"{top.shape[0]}, {top.shape[1]}, {self.n_outputs}); got "
                    f"{Y.shape}."
                )
            features = top[: Y.shape[0]]
        else:
            features = self._pool(top, lengths, self.pooling)
        features = features.reshape(-1, top.shape[-1])
        Y = np.ascontiguousarray(Y.reshape(-1, self.n_outputs), dtype=X.dtype)
        work = _empty(buffers, "Z", Y.shape, X.dtype)
        delta, dfeatures = self._feature_grad(top, features.shape[0], buffers)
        value = dense_loss_grad(features, coef, intercept, Y, w, LOSSES[loss], work,
                                gcoef, gintercept, dfeatures)  # fmt: skip
        if delta is None:
            delta = self._unpool(dfeatures, top, lengths, buffers)
        self._backward_layers(layers, glayers, cache, delta, n_threads, bptt_steps)
        return value

    def features(self, theta, X, lengths, n_threads, pooling):
        """The pooled top-layer states: what ``transform`` returns.

        (B, D*H_last), or (T, B, D*H_last) for pooling='sequence'.
        """
        layers, _, _ = self.unpack(theta)
        cache = self._run_layers(layers, X, lengths, n_threads, 0.0, None, None)
        return self._pool(cache["outputs"][-1], lengths, pooling)

    def _run_layers(self, layers, X, lengths, n_threads, dropout, random_state, buffers):
        T, B, _ = X.shape
        cell = CELLS[self.cell]
        act = _rnn_fast.ACTIVATIONS[self.activation]
        inputs, outputs, caches, masks = [X], [], [], []
        for i, directions in enumerate(layers):
            H = directions[0]["weight_hh"].shape[1]
            out = _empty(buffers, ("out", i), (T, B, H * self.n_directions), X.dtype)
            states0 = tuple(_zero_state(buffers, ("state0", i, k), (B, H), X.dtype)
                            for k in range(cell.n_states))  # fmt: skip
            layer_caches = [
                cell.forward(p, inputs[-1], lengths, out, d * H, states0, d == 1,
                             act, n_threads, buffers, (i, d))  # fmt: skip
                for d, p in enumerate(directions)
            ]
            outputs.append(out)
            caches.append((layer_caches, states0))
            if i + 1 < len(layers):
                if dropout > 0:
                    keep = random_state.random_sample(out.shape) >= dropout
                    mask = keep.astype(X.dtype) / X.dtype.type(1 - dropout)
                    masks.append(mask)
                    inputs.append(out * mask)
                else:
                    masks.append(None)
                    inputs.append(out)
        return {"inputs": inputs, "outputs": outputs, "caches": caches,
                "masks": masks, "lengths": lengths}  # fmt: skip

    def _pool(self, top, lengths, pooling):
        T = top.shape[0]
        if pooling == "sequence":
            return top
        if pooling == "last":
            H = self.hidden_sizes[-1]
            if not self.bidirectional:
                return top[T - 1]
            return np.concatenate([top[T - 1, :, :H], top[0, :, H:]], axis=1)
        valid = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]
        # The only NumPy arithmetic on the states between the kernels and
        # the caller's finiteness check (fit: after each mini-batch; predict:
        # ``_run_chunk``), which reports an overflowed network as a
        # ValueError: inf * 0 here would only add NumPy's warning.
        with np.errstate(over="ignore", invalid="ignore"):
            if pooling == "mean":
                return (top * valid).sum(axis=0) / lengths[:, None].astype(top.dtype)
            return np.where(valid, top, -np.inf).max(axis=0)

    def _feature_grad(self, top, n_rows, buffers):
        """Where the output layer writes dL/d(features), (n_rows, D*H).

        Returns ``(delta, dfeatures)``. For pooling='sequence' and 'last' in
        one direction ``dfeatures`` is a view of ``delta``, the top layer's
        (T, B, D*H) gradient, whose other rows are zero: no copy. Otherwise
        ``delta`` is None and :meth:`_unpool` spreads ``dfeatures`` into it.
        """
        T, B, width = top.shape
        if self.pooling == "sequence":
            delta = _empty(buffers, "delta", top.shape, top.dtype)
            steps = n_rows // B
            if steps < T:  # next-step targets: the last step has none
                delta[steps:] = 0
            return delta, delta[:steps].reshape(n_rows, width)
        if self.pooling == "last" and not self.bidirectional:
            delta = _zeros(buffers, "delta", top.shape, top.dtype)
            return delta, delta[T - 1]
        return None, _empty(buffers, "dfeatures", (n_rows, width), top.dtype)

    def _unpool(self, dfeatures, top, lengths, buffers):
        """dL/d(top layer states) from dL/d(pooled features): pooling 'mean',
        'max', and 'last' in both directions."""
        T = top.shape[0]
        if self.pooling == "mean":  # every element is written
            delta = _empty(buffers, "delta", top.shape, top.dtype)
        else:
            delta = _zeros(buffers, "delta", top.shape, top.dtype)
        if self.pooling == "last":
            H = self.hidden_sizes[-1]
            delta[T - 1, :, :H] = dfeatures[:, :H]
            delta[0, :, H:] = dfeatures[:, H:]
            return delta
        valid = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]
        if self.pooling == "mean":
            delta[...] = valid * (dfeatures / lengths[:, None].astype(top.dtype))
            return delta
        argmax = np.where(valid, top, -np.inf).argmax(axis=0)
        np.put_along_axis(delta, argmax[None], dfeatures[None], axis=0)
        return delta

    def backward(self, theta, cache, dZ, grad, n_threads, *, bptt_steps=0):
        """Fill ``grad`` (same layout as ``theta``) with dL/dtheta given dL/dZ."""
        layers, coef, _ = self.unpack(theta)
        glayers, gcoef, gintercept = self.unpack(grad)
        features = cache["features"]
        dZ = np.ascontiguousarray(dZ.reshape(-1, self.n_outputs))
        top = cache["outputs"][-1]
        delta, dfeatures = self._feature_grad(top, features.shape[0], cache["buffers"])
        dense_backward(features, coef, dZ, gcoef, gintercept, dfeatures)
        if delta is None:
            delta = self._unpool(dfeatures, top, cache["lengths"], cache["buffers"])
        self._backward_layers(layers, glayers, cache, delta, n_threads, bptt_steps)
        return grad

    def _backward_layers(self, layers, glayers, cache, delta, n_threads, bptt_steps):
        """BPTT through the recurrent layers from ``delta``, dL/d(top layer
        states); fills their gradients ``glayers`` (views of ``grad``)."""
        inputs, outputs, lengths = cache["inputs"], cache["outputs"], cache["lengths"]
        buffers = cache["buffers"]
        top_delta = delta
        cell = CELLS[self.cell]
        act = _rnn_fast.ACTIVATIONS[self.activation]
        for i in range(len(layers) - 1, -1, -1):
            x = inputs[i]
            layer_caches, states0 = cache["caches"][i]
            grad_x = (_empty(buffers, ("grad_x", i), x.shape, x.dtype) if i > 0
                      else _empty_grad_x(x.dtype))  # fmt: skip
            H = layers[i][0]["weight_hh"].shape[1]
            for d, (p, g) in enumerate(zip(layers[i], glayers[i])):
                grad_states0 = tuple(
                    _empty(buffers, ("grad_state0", i, d, k), (x.shape[1], H), x.dtype)
                    for k in range(len(states0))
                )
                cell.backward(p, g, x, lengths, outputs[i], d * H, layer_caches[d],
                              states0, delta, grad_states0, grad_x, d == 1, d == 1,
                              act, bptt_steps, n_threads, buffers, (i, d))  # fmt: skip
            if i > 0:
                mask = cache["masks"][i - 1]
                delta = grad_x if mask is None else grad_x * mask
        if buffers is not None and self.pooling == "last":
            # Only the steps the output layer wrote are non-zero: clear them
            # and give the buffer back zeroed (the kernels do not write to it).
            top_delta[-1] = 0
            if self.bidirectional:
                top_delta[0] = 0
            buffers.zeroed("delta", top_delta.size)


def _orthogonal(gaussian):
    """The orthogonal factor of a square Gaussian matrix, signs fixed so that
    it is uniformly distributed (Haar). SciPy's QR, not NumPy's: about 30%
    faster here for n = 512 (24 vs 34 ms)."""
    q, r = scipy.linalg.qr(gaussian, mode="economic", check_finite=False)
    return q * np.sign(np.diag(r))
