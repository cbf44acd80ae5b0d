"""Export of fitted estimators to ONNX, for inference without Python.

Design:

* The graph uses ONNX's own ``RNN``, ``LSTM`` and ``GRU`` operators, one per
  recurrent layer (``direction='bidirectional'`` for both directions), then
  the pooling, the dense output layer and the output activation as plain
  ONNX operators. Nothing here runs the network: the weights are read from
  ``recurrent_params_`` (PyTorch's layout), ``coef_`` and ``intercept_``.
* PyTorch's gate blocks are reordered to ONNX's: LSTM (i, f, g, o) becomes
  (i, o, f, c) and GRU (r, z, n) becomes (z, r, h), with
  ``linear_before_reset=1`` for PyTorch's GRU candidate
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. ONNX's bias ``B`` is
  ``[W_b, R_b]``, i.e. ``bias_ih`` then ``bias_hh``.
* The ONNX operators are time-major: ``X`` (N, T, F) is transposed to
  (T, N, F) once; each layer's ``Y`` (T, D, N, H) becomes (T, N, D*H), the
  next layer's input, as in the estimator's buffers.
* One emitter interface writes the nodes either into a standalone
  ``ModelProto`` (:func:`to_onnx`) or into a skl2onnx container
  (:func:`register_skl2onnx`), so both paths share the graph code.
* ``onnx`` and ``skl2onnx`` are imported only inside the functions that need
  them: neither is a dependency of the package.
"""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import _is_sequence_list, check_sequences
from ._version import __version__

#: Opset used when ``target_opset`` is None (supported by onnxruntime >= 1.13).
DEFAULT_OPSET = 17
#: Oldest opset emitted: Squeeze/Unsqueeze/ReduceSum with ``axes`` inputs.
MIN_OPSET = 13

_ONNX_OPS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
#: PyTorch's gate blocks, listed in ONNX's order.
_GATE_ORDER = {"rnn": [0], "lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}
_RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu"}

# ONNX TensorProto data types (fixed by the ONNX standard), so that the
# module imports without onnx.
_INT32, _INT64, _FLOAT, _DOUBLE, _STRING = 6, 7, 1, 11, 8
_ONNX_FLOAT_TYPES = {np.dtype(np.float32): _FLOAT, np.dtype(np.float64): _DOUBLE}


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError(
            "Exporting to ONNX needs the onnx package, which sklearn-rnn does not "
            "install by default: pip install onnx (or pip install "
            "'sklearn-rnn[onnx]')."
        ) from e
    return onnx


# ----------------------------------------------------------------------
# What to export: everything read from the fitted estimator
# ----------------------------------------------------------------------
class _ExportSpec:
    """The fitted estimator's computation, in the dtype of the graph.

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor or RNNTransformer
        A fitted estimator.
    dtype : {np.float32, np.float64}
        dtype of the graph's input, weights and outputs.
    rank : {2, 3}
        Rank of the graph input: (N, T, F) or univariate (N, T).
    n_columns : int or None
        Known size of the input's last axis (features, or time steps for a
        2-D input), checked against the estimator; None when unknown.
    """

    def __init__(self, estimator, dtype, rank, n_columns):
        self.kind = _check_estimator(estimator)
        net = estimator._net
        self.name = type(estimator).__name__
        self.dtype = np.dtype(dtype)
        self.rank = rank
        self.nan_padding = bool(estimator.nan_padding)
        self.cell = net.cell
        self.activation = net.activation
        self.n_directions = net.n_directions
        self.n_features = estimator._n_step_features
        # 2-D input of a model fitted on 2-D input: the column count is the
        # (fixed) number of time steps, as predict checks it.
        self.n_steps = None
        if rank == 2:
            if estimator._fitted_on_2d:
                self.n_steps = estimator.n_features_in_
            if self.n_features != 1:
                raise ValueError(
                    f"A 2-D input holds univariate sequences, but this {self.name} "
                    f"expects {self.n_features} features per time step."
                )
            expected_columns = self.n_steps
        else:
            expected_columns = self.n_features
        if expected_columns is not None and n_columns not in (None, expected_columns):
            raise ValueError(
                f"The input has {n_columns} "
                + ("time steps" if rank == 2 else "features per time step")
                + f", but {self.name} is expecting {expected_columns}."
            )
        cast = self.dtype.type
        self.layers = [
            {name: np.asarray(value, dtype=cast) for name, value in params.items()}
            for params in estimator.recurrent_params_
        ]
        self.hidden_sizes = [p["weight_hh"].shape[1] for p in self.layers]
        # transform reads the pooling parameter at call time; the output layer
        # of the supervised estimators reads what it was trained on.
        self.pooling = estimator.pooling if self.kind == "transformer" else net.pooling
        self.per_step = self.pooling == "sequence"
        self.n_out = self.n_directions * self.hidden_sizes[-1]
        if self.kind == "transformer":
            return
        self.coef = np.asarray(estimator.coef_, dtype=cast)
        self.intercept = np.asarray(estimator.intercept_, dtype=cast)
        self.n_out = self.coef.shape[1]
        if self.kind == "classifier":
            self.target = estimator._label_binarizer.y_type_
            self.classes = _label_constant(estimator.classes_)
            self.n_out = len(estimator.classes_)

    def output_shapes(self):
        """[(name, onnx type, shape)] of the graph outputs; the dynamic
        dimensions are the strings 'N' and 'T'."""
        lead = ["N", self.n_steps or "T"] if self.per_step else ["N"]
        if self.kind != "classifier":
            return [("variable", _ONNX_FLOAT_TYPES[self.dtype], lead + [self.n_out])]
        if self.target == "multilabel-indicator":
            label = ("label", _INT64, lead + [self.n_out])
        else:
            label = ("label", _label_type(self.classes), lead)
        return [
            label,
            ("probabilities", _ONNX_FLOAT_TYPES[self.dtype], lead + [self.n_out]),
        ]


def _check_estimator(estimator):
    """'classifier', 'regressor' or 'transformer' for a fitted estimator."""
    from ._recurrent import RNNClassifier, RNNRegressor, RNNTransformer

    for cls, kind in [
        (RNNClassifier, "classifier"),
        (RNNRegressor, "regressor"),
        (RNNTransformer, "transformer"),
    ]:
        if isinstance(estimator, cls):
            check_is_fitted(estimator)
            return kind
    raise TypeError(
        "Only RNNClassifier, RNNRegressor and RNNTransformer can be exported to "
        f"ONNX; got {type(estimator).__name__}."
    )


def _label_constant(classes):
    """The class labels as an int64 or string array (skl2onnx's convention)."""
    classes = np.asarray(classes)
    if classes.dtype == np.bool_ or np.issubdtype(classes.dtype, np.integer):
        return classes.astype(np.int64)
    if np.issubdtype(classes.dtype, np.floating):
        as_int = classes.astype(np.int64)
        if np.array_equal(as_int, classes):
            return as_int
    elif classes.dtype.kind in "US" or (
        classes.dtype == object and all(isinstance(c, str) for c in classes)
    ):
        return classes.astype(str).astype(object)
    raise TypeError(
        "ONNX labels are int64 or strings; the classes of this classifier are "
        f"{classes.dtype} values {classes.tolist()!r}."
    )


def _label_type(classes):
    return _STRING if classes.dtype == object else _INT64


# ----------------------------------------------------------------------
# Emitters: where the nodes go
# ----------------------------------------------------------------------
class _Emitter:
    """Collects nodes and initializers of a standalone ONNX graph."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self._used = set()
        self._consts = {}

    def name(self, hint):
        """A tensor name not used before in this graph."""
        name, i = hint, 0
        while name in self._used:
            i += 1
            name = f"{hint}_{i}"
        self._used.add(name)
        return name

    def reserve(self, names):
        """Mark the graph's input and output names as taken."""
        self._used.update(names)

    def const(self, value, hint):
        """An initializer holding ``value``; returns its name (equal numeric
        constants share one initializer)."""
        from onnx import numpy_helper

        value = np.asarray(value)
        key = None
        if value.dtype != object:
            key = (value.dtype.str, value.shape, value.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        if key is not None:
            self._consts[key] = name
        return name

    def _add(self, op_type, inputs, outputs, attrs):
        from onnx import helper

        self.nodes.append(
            helper.make_node(op_type, inputs, outputs, name=self.name(op_type), **attrs)
        )

    def op(self, op_type, inputs, outputs=None, **attrs):
        """Add a node. ``outputs`` names its results, else one fresh name is made.

        Returns the name of the single output, or the list of output names.
        """
        if outputs is None:
            outputs = [self.name(op_type.lower())]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self._add(op_type, list(inputs), list(outputs), attrs)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    # Operators whose inputs changed with the opset.
    def reduce(self, op_type, x, axes, keepdims, out=None):
        """ReduceSum/Mean/Max/Min over ``axes`` (an input from opset 18, or 13
        for ReduceSum; an attribute before)."""
        if op_type == "ReduceSum" or self.opset >= 18:
            axes_name = self.const(np.array(axes, dtype=np.int64), "axes")
            return self.op(op_type, [x, axes_name], out, keepdims=keepdims)
        return self.op(op_type, [x], out, axes=list(axes), keepdims=keepdims)

    def unsqueeze(self, x, axes, out=None):
        return self.op(
            "Unsqueeze", [x, self.const(np.array(axes, np.int64), "axes")], out
        )

    def squeeze(self, x, axes, out=None):
        return self.op(
            "Squeeze", [x, self.const(np.array(axes, np.int64), "axes")], out
        )

    def reshape(self, x, shape, out=None):
        return self.op(
            "Reshape", [x, self.const(np.array(shape, np.int64), "shape")], out
        )


class _Skl2onnxEmitter(_Emitter):
    """Writes the same nodes into a skl2onnx scope and container."""

    def __init__(self, scope, container):
        opset = container.target_opset
        if isinstance(opset, dict):
            opset = opset.get("", None)
        super().__init__(opset)
        self.scope = scope
        self.container = container

    def name(self, hint):
        return self.scope.get_unique_variable_name(hint)

    def reserve(self, names):
        pass  # the scope already knows the operator's variables

    def const(self, value, hint):
        value = np.asarray(value)
        name = self.name(hint)
        if value.dtype == object:  # strings
            onnx_type = _STRING
            content = [str(v).encode("utf-8") for v in value.ravel()]
        else:
            onnx_type = {
                np.dtype(np.int64): _INT64,
                np.dtype(np.float32): _FLOAT,
                np.dtype(np.float64): _DOUBLE,
            }[value.dtype]
            content = value.ravel().tolist()
        self.container.add_initializer(name, onnx_type, list(value.shape), content)
        return name

    def _add(self, op_type, inputs, outputs, attrs):
        self.container.add_node(
            op_type, inputs, outputs, name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )  # fmt: skip


# ----------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------
def _onnx_weights(params, cell, n_directions):
    """ONNX's W (D, G*H, F_in), R (D, G*H, H) and B (D, 2*G*H) from PyTorch's."""
    order = _GATE_ORDER[cell]

    def gates(a):
        blocks = np.split(a, len(order), axis=0)
        return np.concatenate([blocks[g] for g in order], axis=0)

    suffixes = ["", "_reverse"][:n_directions]
    W = np.stack([gates(params["weight_ih" + s]) for s in suffixes])
    R = np.stack([gates(params["weight_hh" + s]) for s in suffixes])
    B = np.stack(
        [
            np.concatenate([gates(params["bias_ih" + s]), gates(params["bias_hh" + s])])
            for s in suffixes
        ]
    )
    return W, R, B


def _emit(spec, em, x_name, lengths_name, output_names):
    """Write the whole computation of ``spec`` with emitter ``em``.

    ``x_name`` is the (N, T, F) or (N, T) input, ``lengths_name`` an int64
    (N,) input or None; the results are written to ``output_names``.
    """
    dtype = spec.dtype
    X = x_name
    if spec.rank == 2:
        X = em.unsqueeze(X, [2])
    lengths = lengths_name
    if spec.nan_padding:
        # As predict: trailing all-NaN steps are padding, counted out of the
        # lengths (unless given), and NaN reads as 0.
        isnan = em.op("IsNaN", [X])
        X = em.op("Where", [isnan, em.const(dtype.type(0), "zero"), X])
        if lengths is None:
            step_is_nan = em.reduce(
                "ReduceMin", em.op("Cast", [isnan], to=_INT64), [2], keepdims=0
            )
            valid = em.op("Sub", [em.const(np.int64(1), "one"), step_is_nan])
            lengths = em.reduce("ReduceSum", valid, [1], keepdims=0)
    seq_lens = None if lengths is None else em.op("Cast", [lengths], to=_INT32)

    # --- recurrent layers, time-major --------------------------------------
    inputs = em.op("Transpose", [X], perm=[1, 0, 2])
    direction = "bidirectional" if spec.n_directions == 2 else "forward"
    n_layers = len(spec.layers)
    Y_h = None
    for i, (params, H) in enumerate(zip(spec.layers, spec.hidden_sizes)):
        W, R, B = _onnx_weights(params, spec.cell, spec.n_directions)
        attrs = {"hidden_size": int(H), "direction": direction}
        if spec.cell == "gru":
            attrs["linear_before_reset"] = 1
        elif spec.cell == "rnn":
            attrs["activations"] = [
                _RNN_ACTIVATIONS[spec.activation]
            ] * spec.n_directions
        op_inputs = [inputs, em.const(W, f"W{i}"), em.const(R, f"R{i}"),
                     em.const(B, f"B{i}")]  # fmt: skip
        if seq_lens is not None:
            op_inputs.append(seq_lens)
        if i + 1 == n_layers and spec.pooling == "last":
            # Only the final states Y_h (D, N, H); "" skips the output Y.
            Y_h = em.name("Y_h")
            em.op(_ONNX_OPS[spec.cell], op_inputs, ["", Y_h], **attrs)
        else:
            Y = em.op(_ONNX_OPS[spec.cell], op_inputs, [em.name(f"Y{i}")], **attrs)
            # (T, D, N, H) -> (T, N, D*H): forward states, then reverse.
            inputs = em.reshape(em.op("Transpose", [Y], perm=[0, 2, 1, 3]), [0, 0, -1])

    # --- pooling ------------------------------------------------------------
    top = inputs
    feature_out = output_names[0] if spec.kind == "transformer" else None
    if spec.pooling == "last":
        # Y_h holds each direction's final state: the forward one at the last
        # valid step, the reverse one after reading step 0.
        features = em.reshape(
            em.op("Transpose", [Y_h], perm=[1, 0, 2]), [0, -1], out=feature_out
        )
    elif spec.pooling == "sequence":
        features = em.op("Transpose", [top], feature_out, perm=[1, 0, 2])
    elif lengths is None:
        op_type = "ReduceMean" if spec.pooling == "mean" else "ReduceMax"
        features = em.reduce(op_type, top, [0], keepdims=0, out=feature_out)
    else:
        # Only the valid steps: mask (T, N, 1) of t < lengths[n].
        T = em.op(
            "Gather", [em.op("Shape", [top]), em.const(np.int64(0), "zero_i")], axis=0
        )
        steps = em.op(
            "Range", [em.const(np.int64(0), "zero_i"), T, em.const(np.int64(1), "one")]
        )
        mask = em.op("Less", [em.unsqueeze(steps, [1]), em.unsqueeze(lengths, [0])])
        mask = em.unsqueeze(mask, [2])
        if spec.pooling == "mean":
            zero = em.const(dtype.type(0), "zero")
            total = em.reduce("ReduceSum", em.op("Where", [mask, top, zero]), [0], 0)
            count = em.unsqueeze(
                em.op("Cast", [lengths], to=_ONNX_FLOAT_TYPES[dtype]), [1]
            )
            features = em.op("Div", [total, count], feature_out)
        else:
            ninf = em.const(dtype.type(-np.inf), "minus_inf")
            features = em.reduce(
                "ReduceMax", em.op("Where", [mask, top, ninf]), [0], 0, out=feature_out
            )
    if spec.kind == "transformer":
        return

    # --- output layer -------------------------------------------------------
    logits_out = output_names[0] if spec.kind == "regressor" else None
    Z = em.op(
        "Add",
        [em.op("MatMul", [features, em.const(spec.coef, "coef")]),
         em.const(spec.intercept, "intercept")],
        logits_out,
    )  # fmt: skip
    if spec.kind == "regressor":
        return
    label_out, proba_out = output_names
    positive = em.op("Greater", [Z, em.const(dtype.type(0), "zero")])
    if spec.target == "multiclass":
        em.op("Softmax", [Z], proba_out, axis=-1)
        index = em.op("ArgMax", [Z], axis=-1, keepdims=0)
    elif spec.target == "binary":
        p = em.op("Sigmoid", [Z])
        em.op("Concat", [em.op("Sub", [em.const(dtype.type(1), "one_f"), p]), p],
              proba_out, axis=-1)  # fmt: skip
        # classes_[Z > 0], as LabelBinarizer.inverse_transform
        index = em.squeeze(em.op("Cast", [positive], to=_INT64), [-1])
    else:  # multilabel-indicator: independent labels, 1 where p > 0.5
        em.op("Sigmoid", [Z], proba_out)
        em.op("Cast", [positive], label_out, to=_INT64)
        return
    em.op("Gather", [em.const(spec.classes, "classes"), index], label_out, axis=0)


# ----------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------
def _check_opset(target_opset, onnx):
    newest = onnx.defs.onnx_opset_version()
    if target_opset is None:
        return min(DEFAULT_OPSET, newest)
    if not isinstance(target_opset, Integral) or isinstance(target_opset, bool):
        raise TypeError(
            f"target_opset must be an int or None, got {type(target_opset).__name__}."
        )
    if not MIN_OPSET <= target_opset <= newest:
        raise ValueError(
            f"target_opset must be between {MIN_OPSET} and {newest} (the newest "
            f"opset of the installed onnx), got {target_opset}."
        )
    return int(target_opset)


def to_onnx(estimator, X_example, *, target_opset=None, with_lengths=False):
    """Export a fitted estimator to an ONNX model.

    The graph runs the recurrent layers with ONNX's own ``RNN``, ``LSTM`` and
    ``GRU`` operators (one per layer, both directions in one operator when
    bidirectional), then the estimator's pooling, output layer and output
    activation. Dropout is inactive at inference and not exported. See the
    "ONNX export" page of the documentation for the gate-order mapping and
    the limitations.

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor or RNNTransformer
        A fitted estimator.

    X_example : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
        Example input, validated as ``predict`` does. It fixes the graph
        input's rank, feature count and dtype: float32 stays float32, any
        other dtype gives float64. The weights are cast to that dtype and
        the graph computes in it. Its values and its numbers of samples and
        steps are not used: the graph input ``X`` has dynamic dimensions N
        and T (T is fixed for a 2-D input when the model was fitted on 2-D
        input, since ``n_features_in_`` is then the number of steps).

    target_opset : int, default=None
        ONNX opset of the main domain, from 13 to the newest one of the
        installed ``onnx``; None means 17.

    with_lengths : bool, default=False
        Add a second input ``lengths``, int64 of shape (N,), the number of
        valid steps of each (right-padded) sequence. Without it every
        sequence has the full length T, except that with
        ``nan_padding=True`` the lengths come from the trailing all-NaN
        steps, as in ``predict``.

    Returns
    -------
    model : onnx.ModelProto
        Inputs ``X`` (and ``lengths``). Outputs: for a classifier, ``label``
        (N,) with the class labels (int64, or strings for string classes;
        (N, n_labels) 0/1 int64 for multilabel) and ``probabilities``
        (N, n_classes), as ``predict_proba``; for a regressor, ``variable``
        (N, n_outputs), 2-D even where ``predict`` returns (N,); for a
        transformer, ``variable``, the features of ``transform``. With
        ``pooling='sequence'`` every output has an extra time axis after N,
        e.g. ``label`` (N, T) and ``probabilities`` (N, T, n_classes); the
        rows past a sequence's length are padding.

    Raises
    ------
    ImportError
        When the ``onnx`` package is not installed.
    TypeError
        When ``estimator`` is not one of the three estimators, or the class
        labels are neither integers nor strings.
    ValueError
        When the estimator is not fitted (``NotFittedError``), or
        ``X_example`` does not have the fitted number of features.

    See Also
    --------
    register_skl2onnx : Register the converters with skl2onnx.

    Notes
    -----
    onnxruntime implements ``RNN``, ``LSTM`` and ``GRU`` for float32 only:
    pass a float32 ``X_example`` to run the model there. A float64 graph is
    valid ONNX and runs in runtimes that implement these operators for
    double, such as ``onnx.reference.ReferenceEvaluator``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import RNNClassifier, to_onnx
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 5, 2)).astype(np.float32)
    >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    >>> clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=20,
    ...                     random_state=0).fit(X, y)
    >>> model = to_onnx(clf, X[:1])  # doctest: +SKIP
    >>> [o.name for o in model.graph.output]  # doctest: +SKIP
    ['label', 'probabilities']
    """
    onnx = _import_onnx()
    from onnx import helper

    opset = _check_opset(target_opset, onnx)
    _check_estimator(estimator)
    rank = 3 if _is_sequence_list(X_example) else np.ndim(X_example)
    X, _ = check_sequences(
        estimator, X_example, reset=False, nan_padding=bool(estimator.nan_padding)
    )
    spec = _ExportSpec(estimator, X.dtype, rank, None if rank == 3 else X.shape[1])
    elem_type = _ONNX_FLOAT_TYPES[spec.dtype]
    if rank == 3:
        x_shape = ["N", "T", spec.n_features]
    else:
        x_shape = ["N", "T" if spec.n_steps is None else spec.n_steps]
    inputs = [helper.make_tensor_value_info("X", elem_type, x_shape)]
    if with_lengths:
        inputs.append(helper.make_tensor_value_info("lengths", _INT64, ["N"]))
    outputs = [helper.make_tensor_value_info(*o) for o in spec.output_shapes()]

    em = _Emitter(opset)
    em.reserve([v.name for v in inputs + outputs])
    _emit(spec, em, "X", "lengths" if with_lengths else None,
          [o.name for o in outputs])  # fmt: skip
    graph = helper.make_graph(
        em.nodes, f"sklearn_rnn_{spec.name}", inputs, outputs, em.initializers
    )
    opset_imports = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opset_imports,
        producer_name="sklearn-rnn",
        producer_version=__version__,
        doc_string=f"{spec.name} ({spec.cell}, pooling={spec.pooling!r}) exported "
        "by sklearn_rnn.to_onnx",
    )
    # The oldest IR version that knows the opset: newer ones may be unknown to
    # the runtime.
    model.ir_version = helper.find_min_ir_version_for(opset_imports)
    return model


# ----------------------------------------------------------------------
# skl2onnx
# ----------------------------------------------------------------------
def _skl2onnx_spec(operator, options):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    in_type = operator.inputs[0].type
    if isinstance(in_type, DoubleTensorType):
        dtype = np.float64
    elif isinstance(in_type, FloatTensorType):
        dtype = np.float32
    else:
        raise TypeError(
            f"The input of {type(operator.raw_operator).__name__} must be a "
            f"FloatTensorType or DoubleTensorType, got {type(in_type).__name__}."
        )
    shape = list(in_type.shape)
    if len(shape) not in (2, 3):
        raise ValueError(
            "The input must be 3-D (N, T, n_features) or 2-D (N, T) univariate "
            f"sequences; got shape {shape}."
        )
    last = shape[-1] if isinstance(shape[-1], Integral) else None
    spec = _ExportSpec(operator.raw_operator, dtype, len(shape), last)
    if spec.kind == "classifier" and options["nocl"]:
        # skl2onnx's option: labels are the class indices.
        spec.classes = np.arange(len(spec.classes), dtype=np.int64)
    return spec


def _classifier_options(holder, estimator):
    """skl2onnx's options of a classifier (defaults for the other estimators).

    ``holder`` is the scope (shape calculator) or the container (converter).
    """
    from ._recurrent import RNNClassifier

    defaults = {"zipmap": True, "nocl": False}
    if not isinstance(estimator, RNNClassifier):
        return defaults
    return holder.get_options(estimator, defaults)


def _skl2onnx_shape_calculator(operator):
    """Types and shapes of the outputs declared by skl2onnx's parser."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    options = _classifier_options(operator.scope_inst, operator.raw_operator)
    spec = _skl2onnx_spec(operator, options)
    types = {
        _FLOAT: FloatTensorType,
        _DOUBLE: DoubleTensorType,
        _INT64: Int64TensorType,
        _STRING: StringTensorType,
    }
    n = operator.inputs[0].type.shape[0]
    for variable, (_, onnx_type, shape) in zip(operator.outputs, spec.output_shapes()):
        dims = [n] + [None if d == "T" else d for d in shape[1:]]
        variable.type = types[onnx_type](dims)


def _skl2onnx_converter(scope, operator, container):
    """Write the estimator's graph into a skl2onnx container."""
    options = _classifier_options(container, operator.raw_operator)
    spec = _skl2onnx_spec(operator, options)
    if spec.kind == "classifier" and spec.per_step and options["zipmap"]:
        raise ValueError(
            "With pooling='sequence' the probabilities are 3-D (N, T, n_classes), "
            "which skl2onnx's ZipMap cannot read: convert with "
            "options={'zipmap': False}."
        )
    em = _Skl2onnxEmitter(scope, container)
    if em.opset is None or em.opset < MIN_OPSET:
        raise ValueError(
            f"sklearn-rnn's converters need target_opset >= {MIN_OPSET}, got "
            f"{em.opset}."
        )
    _emit(spec, em, operator.inputs[0].full_name, None,
          [o.full_name for o in operator.outputs])  # fmt: skip


def register_skl2onnx():
    """Register converters for the three estimators with skl2onnx.

    After this call, :func:`skl2onnx.to_onnx` and
    :func:`skl2onnx.convert_sklearn` convert the estimators, alone or as the
    last step of a pipeline, into the same graph as :func:`to_onnx` (without
    the ``lengths`` input). The graph's dtype is that of the input type
    (``FloatTensorType`` or ``DoubleTensorType``). Classifiers take skl2onnx's
    ``zipmap`` option (``True`` by default, which turns the probabilities into
    a list of dictionaries; pass ``options={'zipmap': False}`` for the 2-D
    array, and always with ``pooling='sequence'``), ``nocl`` (class indices
    as labels) and ``output_class_labels``.

    Raises
    ------
    ImportError
        When skl2onnx is not installed.

    See Also
    --------
    to_onnx : Export without skl2onnx.
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as e:
        raise ImportError(
            "register_skl2onnx needs the skl2onnx package: pip install skl2onnx."
        ) from e
    from ._recurrent import RNNClassifier, RNNRegressor, RNNTransformer

    classifier_options = {
        "zipmap": [True, False, "columns"],
        "nocl": [False, True],
        "output_class_labels": [False, True],
    }
    for cls, options in [
        (RNNClassifier, classifier_options),
        (RNNRegressor, None),
        (RNNTransformer, None),
    ]:
        update_registered_converter(
            cls,
            f"SklearnRnn{cls.__name__}",
            _skl2onnx_shape_calculator,
            _skl2onnx_converter,
            options=options,
        )
