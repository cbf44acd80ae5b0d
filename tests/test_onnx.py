"""ONNX export: the exported graph gives what predict/predict_proba/transform give.

The float32 graphs run in onnxruntime. onnxruntime has no float64 kernels for
RNN/LSTM/GRU, so the float64 graphs run in onnx's reference evaluator (given
the ReLU activation of ONNX's RNN operator, which that evaluator lacks).
Skipped when onnx or onnxruntime is absent; the skl2onnx tests also need
skl2onnx. Small models (hidden 5, 3 epochs) keep the file at a few seconds.
"""

import importlib
import sys
from collections import defaultdict

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

import sklearn_rnn
from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer, to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx.reference import ReferenceEvaluator
from onnx.reference.ops.op_rnn import RNN_14

TOL = 1e-5
CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
ESTIMATORS = [RNNClassifier, RNNRegressor, RNNTransformer]
N_FIT, T_FIT, F = 16, 5, 3

#: Worst absolute error seen per (estimator, cell, graph dtype), printed at the
#: end of the module (visible with ``pytest -s``).
WORST = defaultdict(float)


@pytest.fixture(scope="module", autouse=True)
def _report_worst_errors():
    yield
    if WORST:
        print("\nWorst ONNX parity errors (max |onnx - sklearn_rnn|):")
        for key in sorted(WORST):
            print("  " + " / ".join(key) + f": {WORST[key]:.3g}")


# ----------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------
class RNN(RNN_14):
    """onnx's reference RNN with the Relu activation of the ONNX standard."""

    op_domain = ""

    def choose_act(self, name, alpha, beta):
        if name == "Relu":
            return lambda x: np.maximum(x, 0)
        return super().choose_act(name, alpha, beta)


def run_onnx(model, X, lengths=None):
    """Outputs of ``model``: onnxruntime for float32, the reference for float64."""
    onnx.checker.check_model(model, full_check=True)
    feeds = {"X": X}
    if lengths is not None:
        feeds["lengths"] = np.asarray(lengths, dtype=np.int64)
    if X.dtype == np.float64:
        return ReferenceEvaluator(model, new_ops=[RNN]).run(None, feeds)
    sess = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return sess.run(None, feeds)


def data(dtype=np.float32, n=N_FIT, T=T_FIT, seed=0):
    return np.random.RandomState(seed).normal(size=(n, T, F)).astype(dtype)


def labels(n_classes, shape, seed=0):
    """Class labels in which every class occurs."""
    y = np.arange(int(np.prod(shape))) % n_classes
    return np.random.RandomState(seed).permutation(y).reshape(shape)


def make_targets(cls, X, bidirectional, per_step):
    """Targets for ``cls``: binary labels (unidirectional) or three classes,
    one 1-D (unidirectional) or two regression outputs; none for a
    unidirectional transformer (next-step objective)."""
    n, T = X.shape[:2]
    shape = (n, T) if per_step else (n,)
    if cls is RNNClassifier:
        return labels(3 if bidirectional else 2, shape)
    if cls is RNNTransformer and not bidirectional:
        return None
    y = X[:, :, 0].cumsum(axis=1) if per_step else X[:, :, 0].sum(axis=1)
    if bidirectional or cls is RNNTransformer:
        return y
    return np.stack([y, -y], axis=-1)


def fit(cls, X, y, **params):
    params = {"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0, **params}
    return cls(**params).fit(X, y)


def record(est, key, err):
    cell = est._net.cell + ("-" + est._net.activation if est._net.cell == "rnn" else "")
    name = (type(est).__name__, cell, key)
    WORST[name] = max(WORST[name], float(err))


def assert_labels_equal(actual, est, X, proba):
    """Labels equal predict's, except where predict's decision is a tie to
    within TOL (the two computations round differently)."""
    expected = est.predict(X)
    if est._label_binarizer.y_type_ == "binary":
        clear = np.abs(proba[..., 1] - 0.5) > TOL
    elif est._label_binarizer.y_type_ == "multiclass":
        top2 = np.sort(proba, axis=-1)[..., -2:]
        clear = top2[..., 1] - top2[..., 0] > TOL
    else:
        clear = np.abs(proba - 0.5) > TOL
    assert clear.mean() > 0.9
    assert_array_equal(np.asarray(actual)[clear], np.asarray(expected)[clear])


def check_parity(est, model, X, key, lengths=None, X_predict=None):
    """Run ``model`` on X and compare it with the estimator's own outputs on
    ``X_predict`` (default X). Returns the graph's outputs."""
    outputs = run_onnx(model, X, lengths)
    X_predict = X if X_predict is None else X_predict
    if isinstance(est, RNNClassifier):
        label, proba = outputs
        expected = est.predict_proba(X_predict)
        assert proba.shape == np.shape(expected)
        assert_allclose(proba, expected, rtol=TOL, atol=TOL)
        err = np.abs(proba - expected).max()
        assert_labels_equal(label, est, X_predict, expected)
    else:
        (values,) = outputs
        if isinstance(est, RNNRegressor):
            expected = est.predict(X_predict)
            if expected.ndim == values.ndim - 1:  # single output: predict ravels
                values = values[..., 0]
        else:
            expected = est.transform(X_predict)
        assert values.shape == np.shape(expected)
        assert_allclose(values, expected, rtol=TOL, atol=TOL)
        err = np.abs(values - expected).max()
    record(est, key, err)
    return outputs


# ----------------------------------------------------------------------
# Parity
# ----------------------------------------------------------------------
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell, activation", CELLS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_parity_float32(cls, cell, activation, bidirectional, n_layers, pooling):
    X = data()
    est = fit(
        cls, X, make_targets(cls, X, bidirectional, False), cell=cell,
        activation=activation, bidirectional=bidirectional, pooling=pooling,
        hidden_layer_sizes=(5,) * n_layers,
    )  # fmt: skip
    model = to_onnx(est, X[:1])
    ops = [n.op_type for n in model.graph.node]
    assert ops.count({"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]) == n_layers
    # Other numbers of sequences and steps than in fit: N and T are dynamic.
    check_parity(est, model, data(n=9, T=7, seed=1), "float32")


@pytest.mark.parametrize("cell, activation", CELLS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_parity_sequence_pooling(cls, cell, activation):
    """Many-to-many: outputs (N, T, ...), one row per step."""
    X = data()
    est = fit(
        cls, X, make_targets(cls, X, True, True), cell=cell, activation=activation,
        bidirectional=True, pooling="sequence", hidden_layer_sizes=(5, 4),
    )  # fmt: skip
    X_test = data(n=6, T=8, seed=2)
    outputs = check_parity(est, to_onnx(est, X[:1]), X_test, "float32")
    assert outputs[-1].shape[:2] == (6, 8)


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "sequence"])
@pytest.mark.parametrize("cell, activation", CELLS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_parity_float64(cls, cell, activation, pooling):
    """A float64 model exported with a float64 example: a float64 graph."""
    X = data(np.float64)
    per_step = pooling == "sequence"
    est = fit(
        cls, X, make_targets(cls, X, True, per_step), cell=cell,
        activation=activation, bidirectional=True, pooling=pooling,
        hidden_layer_sizes=(5, 4),
    )  # fmt: skip
    model = to_onnx(est, X[:1])
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    outputs = check_parity(est, model, data(np.float64, n=7, T=6, seed=3), "float64")
    assert outputs[-1].dtype == np.float64


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_float32_graph_of_float64_model(cls):
    """A float32 example gives a float32 graph (weights rounded) that runs in
    onnxruntime and still matches the float64 model to TOL."""
    X = data(np.float64)
    est = fit(cls, X, make_targets(cls, X, True, False), cell="lstm",
              bidirectional=True, hidden_layer_sizes=(5, 4))  # fmt: skip
    X_test = data(np.float64, n=9, T=7, seed=4)
    model = to_onnx(est, X[:1].astype(np.float32))
    outputs = check_parity(
        est, model, X_test.astype(np.float32), "float32 graph", X_predict=X_test
    )
    assert outputs[-1].dtype == np.float32


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "sequence"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_lengths_input(cls, cell, pooling):
    """with_lengths=True: right-padded sequences give predict's results on the
    list of sequences; per-step rows past a sequence's length are padding."""
    lengths = np.array([7, 3, 1, 5, 7, 2])
    X = data(n=len(lengths), T=7, seed=5)
    for i, n in enumerate(lengths):
        X[i, n:] = 0
    seqs = [X[i, :n] for i, n in enumerate(lengths)]
    X_fit = data()
    per_step = pooling == "sequence"
    est = fit(
        cls, X_fit, make_targets(cls, X_fit, True, per_step), cell=cell,
        bidirectional=True, pooling=pooling, hidden_layer_sizes=(5, 4),
    )  # fmt: skip
    model = to_onnx(est, X_fit[:1], with_lengths=True)
    assert [i.name for i in model.graph.input] == ["X", "lengths"]
    if not per_step:
        check_parity(est, model, X, "float32 lengths", lengths=lengths, X_predict=seqs)
        return
    outputs = run_onnx(model, X, lengths)
    if cls is RNNClassifier:
        expected = est.predict_proba(seqs)
        for i, n in enumerate(lengths):
            assert_allclose(outputs[1][i, :n], expected[i], rtol=TOL, atol=TOL)
            assert_labels_equal(
                outputs[0][i : i + 1, :n], est, [seqs[i]], expected[i][None]
            )
        err = max(np.abs(outputs[1][i, :n] - expected[i]).max()
                  for i, n in enumerate(lengths))  # fmt: skip
    else:
        expected = est.predict(seqs) if cls is RNNRegressor else est.transform(seqs)
        err = 0.0
        for i, n in enumerate(lengths):
            values = outputs[0][i, :n].reshape(expected[i].shape)  # predict ravels
            assert_allclose(values, expected[i], rtol=TOL, atol=TOL)
            err = max(err, np.abs(values - expected[i]).max())
    record(est, "float32 lengths", err)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_nan_padding(cls, pooling):
    """nan_padding=True: the graph reads the lengths from trailing NaN steps."""
    X_fit = data()
    est = fit(cls, X_fit, make_targets(cls, X_fit, True, False), cell="gru",
              bidirectional=True, pooling=pooling, nan_padding=True)  # fmt: skip
    X = data(n=5, T=6, seed=6)
    for i, n in enumerate([6, 2, 4, 1, 6]):
        X[i, n:] = np.nan
    model = to_onnx(est, X[:1])
    assert len(model.graph.input) == 1
    check_parity(est, model, X, "float32 nan_padding")


def test_2d_input():
    """Univariate 2-D input: T fixed when fitted on 2-D, free when fitted on
    3-D sequences of one feature."""
    rng = np.random.RandomState(7)
    X2 = rng.normal(size=(16, 6)).astype(np.float32)
    y = labels(2, (16,))
    clf = fit(RNNClassifier, X2, y, cell="gru")
    model = to_onnx(clf, X2[:1])
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 6]
    check_parity(clf, model, X2, "float32 2-D")
    with pytest.raises(ValueError, match="6 features"):
        to_onnx(clf, X2[:, :4])

    reg = fit(RNNRegressor, X2[:, :, None], X2.sum(axis=1), cell="lstm")
    model = to_onnx(reg, X2[:1])
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", "T"]
    check_parity(reg, model, rng.normal(size=(5, 9)).astype(np.float32), "float32 2-D")

    trans = fit(RNNTransformer, X2, None, cell="rnn", pooling="sequence")
    model = to_onnx(trans, X2[:1])
    dims = model.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 6, 5]
    check_parity(trans, model, X2, "float32 2-D")


@pytest.mark.parametrize(
    "y, label_type",
    [
        (np.array(["cat", "dog", "emu"]), onnx.TensorProto.STRING),
        (np.array([False, True]), onnx.TensorProto.INT64),
        (np.array([1.0, 3.0, 4.0]), onnx.TensorProto.INT64),
        (np.array([-2, 5]), onnx.TensorProto.INT64),
    ],
)
def test_class_labels(y, label_type):
    """Labels are the classes_ values: strings, or int64 for integer, boolean
    and whole-number float classes."""
    X = data()
    clf = fit(RNNClassifier, X, y[labels(len(y), (N_FIT,))], cell="gru")
    model = to_onnx(clf, X[:1])
    assert model.graph.output[0].type.tensor_type.elem_type == label_type
    label, _ = check_parity(clf, model, data(n=9, seed=8), "float32 labels")
    assert set(np.asarray(label).tolist()) <= set(clf.classes_.tolist())


@pytest.mark.parametrize("pooling", ["mean", "sequence"])
def test_multilabel(pooling):
    """Multilabel: sigmoid per label; label = 1 where the probability > 0.5."""
    X = data()
    shape = (N_FIT, T_FIT, 3) if pooling == "sequence" else (N_FIT, 3)
    Y = (np.random.RandomState(9).rand(*shape) > 0.5).astype(int)
    clf = fit(RNNClassifier, X, Y, cell="lstm", pooling=pooling)
    model = to_onnx(clf, X[:1])
    label, proba = check_parity(clf, model, X, "float32 multilabel")
    assert label.dtype == np.int64 and label.shape == proba.shape


@pytest.mark.parametrize("target_opset", [13, 18, 21])
def test_target_opset(target_opset):
    """Reductions take their axes as an attribute before opset 18, an input
    from 18 on: both forms give the same results."""
    X = data()
    est = fit(RNNTransformer, X, X[:, :, 0].sum(axis=1), pooling="max",
              bidirectional=True)  # fmt: skip
    model = to_onnx(est, X[:1], target_opset=target_opset, with_lengths=True)
    assert model.opset_import[0].version == target_opset
    check_parity(est, model, X, "float32 opset", lengths=np.full(N_FIT, T_FIT))


def test_gate_order_and_weights():
    """The LSTM weights in the graph are PyTorch's gate blocks in ONNX's order
    (i, o, f, c), and the GRU uses linear_before_reset=1."""
    X = data()
    lstm = fit(RNNRegressor, X, X.sum(axis=(1, 2)), cell="lstm")
    model = to_onnx(lstm, X[:1])
    (node,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    W = onnx.numpy_helper.to_array(
        next(t for t in model.graph.initializer if t.name == node.input[1])
    )
    i, f, g, o = np.split(lstm.recurrent_params_[0]["weight_ih"], 4)
    assert_array_equal(W[0], np.concatenate([i, o, f, g]))

    gru = fit(RNNRegressor, X, X.sum(axis=(1, 2)), cell="gru")
    (node,) = [n for n in to_onnx(gru, X[:1]).graph.node if n.op_type == "GRU"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["linear_before_reset"] == 1


# ----------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------
def test_errors():
    X = data()
    clf = fit(RNNClassifier, X, labels(2, (N_FIT,)))
    with pytest.raises(ValueError, match="2 features per time step.*expecting 3"):
        to_onnx(clf, X[:1, :, :2])
    with pytest.raises(ValueError, match="expecting 3 features per time step"):
        to_onnx(clf, X[:1, :, 0])  # 2-D: univariate sequences
    with pytest.raises(NotFittedError):
        to_onnx(RNNClassifier(), X[:1])
    with pytest.raises(TypeError, match="Only RNNClassifier, RNNRegressor"):
        to_onnx(LogisticRegression().fit(X[:, 0], labels(2, (N_FIT,))), X[:1])
    with pytest.raises(ValueError, match="target_opset must be between 13"):
        to_onnx(clf, X[:1], target_opset=11)
    with pytest.raises(TypeError, match="target_opset must be an int"):
        to_onnx(clf, X[:1], target_opset="17")


def test_missing_onnx(monkeypatch):
    """Without onnx or skl2onnx: clear ImportErrors; the package itself
    never imports them."""
    X = data()
    clf = fit(RNNClassifier, X, labels(2, (N_FIT,)))
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install onnx"):
        to_onnx(clf, X[:1])
    # The module imports with onnx and skl2onnx blocked: neither is needed
    # to import sklearn_rnn.
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    importlib.reload(sklearn_rnn._onnx)
    with pytest.raises(ImportError, match="pip install skl2onnx"):
        sklearn_rnn.register_skl2onnx()


# ----------------------------------------------------------------------
# skl2onnx
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn_rnn import register_skl2onnx

    register_skl2onnx()
    return skl2onnx


def test_skl2onnx_classifier(skl2onnx):
    X = data()
    y = np.array(["a", "b", "c"])[labels(3, (N_FIT,))]
    clf = fit(RNNClassifier, X, y, cell="lstm", bidirectional=True)
    model = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False}, target_opset=17)
    label, proba = run_onnx(model, X)
    assert_allclose(proba, clf.predict_proba(X), rtol=TOL, atol=TOL)
    assert_labels_equal(label, clf, X, clf.predict_proba(X))
    # The default ZipMap: one {class: probability} dict per sequence.
    model = skl2onnx.to_onnx(clf, X[:1], target_opset=17)
    _, dicts = run_onnx(model, X)
    assert_allclose([d["b"] for d in dicts], clf.predict_proba(X)[:, 1], atol=TOL)
    # nocl: class indices as labels.
    model = skl2onnx.to_onnx(
        clf, X[:1], options={"zipmap": False, "nocl": True}, target_opset=17
    )
    label, _ = run_onnx(model, X)
    assert_array_equal(clf.classes_[label], clf.predict(X))
    # output_class_labels: classes_ as a third output.
    model = skl2onnx.to_onnx(
        clf, X[:1], options={"zipmap": False, "output_class_labels": True},
        target_opset=17,
    )  # fmt: skip
    assert_array_equal(run_onnx(model, X)[2], clf.classes_)


def test_skl2onnx_regressor_float64(skl2onnx):
    X = data(np.float64)
    reg = fit(RNNRegressor, X, X[:, :, 0].sum(axis=1), cell="rnn", pooling="mean")
    model = skl2onnx.to_onnx(reg, X[:1], target_opset=17)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    (values,) = run_onnx(model, X)
    assert_allclose(values.ravel(), reg.predict(X), rtol=TOL, atol=TOL)


def test_skl2onnx_pipeline(skl2onnx):
    """RNNTransformer features feeding a linear model, converted as one graph."""
    from skl2onnx.common.data_types import FloatTensorType

    X = data()
    y = X[:, :, 0].sum(axis=1)
    pipe = make_pipeline(
        RNNTransformer(hidden_layer_sizes=(5,), cell="gru", bidirectional=True,
                       max_iter=3, random_state=0),
        Ridge(),
    ).fit(X, y)  # fmt: skip
    model = skl2onnx.to_onnx(
        pipe, initial_types=[("X", FloatTensorType([None, None, F]))], target_opset=17
    )
    (values,) = run_onnx(model, data(n=5, T=9, seed=10))
    expected = pipe.predict(data(n=5, T=9, seed=10))
    assert_allclose(values.ravel(), expected, rtol=TOL, atol=TOL)


def test_skl2onnx_sequence_needs_no_zipmap(skl2onnx):
    X = data()
    clf = fit(RNNClassifier, X, labels(2, (N_FIT, T_FIT)), pooling="sequence")
    with pytest.raises(ValueError, match="zipmap"):
        skl2onnx.to_onnx(clf, X[:1], target_opset=17)
    model = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False}, target_opset=17)
    label, proba = run_onnx(model, X)
    assert_allclose(proba, clf.predict_proba(X), rtol=TOL, atol=TOL)
    assert label.shape == (N_FIT, T_FIT)
