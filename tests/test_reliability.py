"""Reliability: hostile input, diverging training, memory, threads and processes.

* A battery of bad (and odd-but-valid) inputs against every entry point of
  the three estimators and SequenceScaler, run in a child process so that a
  crash fails the tests instead of killing the run (``python
  tests/test_reliability.py --battery out.json`` runs it alone).
* Divergence and KeyboardInterrupt during ``fit``.
* Memory: no leak over repeated fits, bounded working memory in ``predict``.
* Threads and processes: concurrent ``predict``, OpenMP/BLAS thread counts,
  joblib/multiprocessing start methods, the libgomp fork hazard and the
  thread budget inside joblib workers.

Everything runs on tiny models; the whole file takes well under a minute
on an idle 2-core machine.
"""

import copy
import gc
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer, SequenceScaler
from sklearn_rnn._testing import output_of

# ======================================================================
# Bad-input battery
# ======================================================================
N, T, F = 12, 5, 2  # sequences, steps, features of the clean data
SMALL = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
# One cell per estimator, so that the battery reaches every kernel.
ESTIMATORS = {
    "RNNClassifier": lambda: RNNClassifier(cell="gru", **SMALL),
    "RNNRegressor": lambda: RNNRegressor(cell="lstm", **SMALL),
    "RNNTransformer": lambda: RNNTransformer(cell="rnn", **SMALL),
    "SequenceScaler": SequenceScaler,
}
METHODS = {
    "RNNClassifier": ("fit", "partial_fit", "predict", "predict_proba", "score"),
    "RNNRegressor": ("fit", "partial_fit", "predict", "score"),
    "RNNTransformer": ("fit", "partial_fit", "transform"),
    "SequenceScaler": ("fit", "transform", "inverse_transform"),
}
RNNS = ("RNNClassifier", "RNNRegressor", "RNNTransformer")
FORMS = ("3d", "2d", "ragged")
FIT_METHODS = ("fit", "partial_fit")


def base_X(n_features=F, n_timesteps=T, seed=0):
    return np.random.RandomState(seed).normal(size=(N, n_timesteps, n_features))


def to_form(X3, form):
    """3-D array -> 3-D, univariate 2-D (feature 0) or ragged list."""
    if form == "2d":
        return X3[:, :, 0].copy()
    if form == "ragged":  # sequence i keeps its first 2 + i % 4 steps
        return [X3[i, : 2 + i % 4].copy() for i in range(len(X3))]
    return X3.copy()


def map_arrays(X, fn):
    """Apply ``fn`` to the array, or to every sequence of a list."""
    return [fn(s) for s in X] if isinstance(X, list) else fn(X)


def clean_y(est_name, supervised=True):
    if est_name == "RNNRegressor":
        return np.random.RandomState(1).normal(size=N)
    if est_name == "RNNClassifier" or (est_name == "RNNTransformer" and supervised):
        return np.arange(N) % 2
    return None


def call(est, method, X, y=None, sample_weight=None, classes=None):
    """Call ``method`` the way a user would, passing only what it takes."""
    if method in FIT_METHODS:
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        if (
            method == "partial_fit"
            and y is not None
            and not isinstance(est, RNNRegressor)
        ):
            kwargs["classes"] = np.array([0, 1]) if classes is None else classes
        if isinstance(est, SequenceScaler) or y is None:
            return getattr(est, method)(X, **kwargs)
        return getattr(est, method)(X, y, **kwargs)
    if method == "score":
        return est.score(X, y, sample_weight=sample_weight)
    return getattr(est, method)(X)


_FITTED = {}


def fitted(est_name, form, dtype=np.float64, supervised=False):
    """A model fitted on the clean data of ``form`` (cached; do not modify)."""
    key = (est_name, form, np.dtype(dtype).name, supervised)
    if key not in _FITTED:
        X = map_arrays(to_form(base_X(), form), lambda a: a.astype(dtype))
        est = ESTIMATORS[est_name]()
        _FITTED[key] = call(est, "fit", X, clean_y(est_name, supervised))
    return _FITTED[key]


# ----------------------------------------------------------------------
# Bad inputs: kind -> regex the error message must match (per form if a dict)
# ----------------------------------------------------------------------
def _poison(value):
    def make(form):
        X3 = base_X()
        X3[3, 1, 0] = value  # a valid step in every form
        return to_form(X3, form)

    return make


def _with_none(form):
    X = map_arrays(to_form(base_X(), form), lambda a: a.astype(object))
    if form == "ragged":
        X[3][1, 0] = None
    elif form == "2d":
        X[3, 1] = None
    else:
        X[3, 1, 0] = None
    return X


def _empty(form):
    return {"3d": np.zeros((0, T, F)), "2d": np.zeros((0, T)), "ragged": []}[form]


def _zero_length(form):
    if form == "ragged":
        X = to_form(base_X(), form)
        X[1] = np.zeros((0, F))
        return X
    return {"3d": np.zeros((N, 0, F)), "2d": np.zeros((N, 0))}[form]


def _mixed_features(form):
    X = to_form(base_X(), form)
    X[2] = np.ones((3, F + 1))
    return X


def _other_feature_count(form):
    # 2-D input: the columns are the time steps, so change their number
    return to_form(base_X(n_features=F + 1, n_timesteps=T + 1), form)


X_KINDS = {
    # kind: (make X from form, regex, forms it applies to)
    "nan_X": (_poison(np.nan), "X.* contains NaN", FORMS),
    "inf_X": (_poison(np.inf), "X.* contains infinity", FORMS),
    "neginf_X": (_poison(-np.inf), "X.* contains infinity", FORMS),
    "empty_X": (_empty, "0 sample", FORMS),
    "string_X": (
        lambda form: map_arrays(
            to_form(base_X(), form), lambda a: np.full(a.shape, "a")
        ),
        "could not convert string to float",
        FORMS,
    ),
    "complex_X": (
        lambda form: map_arrays(to_form(base_X(), form), lambda a: a + 1j),
        "[Cc]omplex",
        FORMS,
    ),
    "none_in_object_X": (_with_none, "X.* contains NaN", FORMS),
    "zero_length": (
        _zero_length,
        {"3d": "0 time steps", "2d": "0 feature", "ragged": r"X\[1\].*0 time steps"},
        FORMS,
    ),
    "mixed_feature_counts": (
        _mixed_features,
        r"same number of features.*X\[2\] has 3",
        ("ragged",),
    ),
    "1d_X": (lambda form: np.zeros(N), "got a 1-D array", ("3d",)),
    "4d_X": (lambda form: np.zeros((N, T, F, 1)), "got a 4-D array", ("3d",)),
}


# Inputs that must work and give exactly the results of the clean C-contiguous
# float array: kind -> (odd array from clean array, clean reference array).
def _noncontiguous(a):
    big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
    view = big[tuple(slice(None, None, 2) for _ in a.shape)]
    view[...] = a
    assert not view.flags.c_contiguous
    return view


def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def _identity(a):
    return a


LAYOUT_KINDS = {
    "noncontiguous": (_noncontiguous, _identity),
    "fortran": (np.asfortranarray, _identity),
    "readonly": (_readonly, _identity),
    "byteswapped": (lambda a: a.astype(a.dtype.newbyteorder("S")), _identity),
    "byteswapped_float32": (
        lambda a: a.astype(np.dtype(np.float32).newbyteorder("S")),
        lambda a: a.astype(np.float32),
    ),
    "int": (
        lambda a: np.round(2 * a).astype(np.int64),
        lambda a: np.round(2 * a).astype(np.float64),
    ),
    "bool": (lambda a: a > 0, lambda a: (a > 0).astype(np.float64)),
    "object_numbers": (lambda a: a.astype(object), _identity),
    "nested_lists": (lambda a: a.tolist(), _identity),
}

Y_KINDS = {
    # kind: (regex, methods)
    "nan_y": ("y contains NaN", ("fit", "partial_fit", "score")),
    "inf_y": ("y contains infinity", ("fit", "partial_fit", "score")),
    "y_too_short": ("inconsistent numbers of samples", ("fit", "partial_fit", "score")),
    "unseen_label_first_call": ("classes", ("partial_fit",)),
    "unseen_label_later_call": ("classes", ("partial_fit",)),
}
SW_KINDS = {
    "nan_sample_weight": (
        "sample_weight contains NaN",
        ("fit", "partial_fit", "score"),
    ),
    "inf_sample_weight": (
        "sample_weight contains infinity",
        ("fit", "partial_fit", "score"),
    ),
    "negative_sample_weight": (
        "Negative values in data passed to `sample_weight`",
        ("fit", "partial_fit"),
    ),
    "sample_weight_too_short": (
        r"sample_weight.shape == \(11,\), expected \(12,\)",
        ("fit", "partial_fit", "score"),
    ),
    "huge_sample_weight_float32": (
        "sample_weight has values too large for float32",
        ("fit", "partial_fit", "score"),
    ),
}
HYPERPARAMETERS = {
    # kind: (estimator params, regex)
    "hidden_layer_sizes=-1": ({"hidden_layer_sizes": -1}, "hidden_layer_sizes"),
    "hidden_layer_sizes=(4,-2)": (
        {"hidden_layer_sizes": (4, -2)},
        "hidden_layer_sizes",
    ),
    "hidden_layer_sizes=()": ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
    "dropout=1.0": ({"dropout": 1.0}, "dropout"),
    "dropout=-0.1": ({"dropout": -0.1}, "dropout"),
    "cell='transformer'": ({"cell": "transformer"}, "cell"),
    "activation='sigmoid'": ({"activation": "sigmoid"}, "activation"),
    "pooling='median'": ({"pooling": "median"}, "pooling"),
    "bptt_steps=0": ({"bptt_steps": 0}, "bptt_steps"),
    "batch_size=0": ({"batch_size": 0}, "batch_size"),
    "learning_rate_init=-1": ({"learning_rate_init": -1.0}, "learning_rate_init"),
    "max_iter=-5": ({"max_iter": -5}, "max_iter"),
}
SCALER_HYPERPARAMETERS = {
    "with_mean='yes'": ({"with_mean": "yes"}, "with_mean"),
    "with_std=None": ({"with_std": None}, "with_std"),
    "nan_padding=2": ({"nan_padding": 2}, "nan_padding"),
}


def build_cases():
    """All battery cases: dicts with id, est, method, form, kind, expect."""
    cases = []

    def add(est, method, form, kind, expect):
        cases.append(
            dict(
                id=f"{est}.{method}-{form}-{kind}",
                est=est,
                method=method,
                form=form,
                kind=kind,
                expect=expect,
            )
        )

    for est, methods in METHODS.items():
        for method in methods:
            for kind, (_, regex, forms) in X_KINDS.items():
                for form in forms:
                    r = regex[form] if isinstance(regex, dict) else regex
                    add(
                        est,
                        method,
                        "any" if kind in ("1d_X", "4d_X") else form,
                        kind,
                        r,
                    )
            for form in FORMS:
                for kind in LAYOUT_KINDS:
                    add(est, method, form, kind, "equal")
                if method not in ("fit",):  # a fitted model meets other data
                    add(est, method, form, "feature_count_mismatch", "expecting")
                if est in RNNS and method != "fit":
                    add(est, method, form, "huge_X_float32_model",
                        "X has values too large for float32")  # fmt: skip
                if est == "SequenceScaler":
                    continue
                for kind, (regex, y_methods) in Y_KINDS.items():
                    if method not in y_methods:
                        continue
                    if kind.startswith("unseen") and est == "RNNRegressor":
                        continue
                    add(est, method, form, kind, regex)
                if est == "RNNRegressor" and method in FIT_METHODS:
                    add(est, method, form, "huge_y_float32",
                        "y has values too large for float32")  # fmt: skip
                for kind, (regex, sw_methods) in SW_KINDS.items():
                    if method in sw_methods:
                        add(est, method, form, kind, regex)
            if method in FIT_METHODS:
                params = HYPERPARAMETERS if est in RNNS else SCALER_HYPERPARAMETERS
                for kind, (_, regex) in params.items():
                    add(est, method, "any", kind, regex)
    return cases


CASES = build_cases()


def _y_for(case):
    """The targets of a case (class labels for the supervised transformer)."""
    est, kind = case["est"], case["kind"]
    supervised = kind in Y_KINDS or kind == "huge_y_float32"
    return clean_y(est, supervised=supervised)


def _estimator_for(case):
    """The estimator a case calls: fresh for fit/first partial_fit, else fitted."""
    est, method, form, kind = case["est"], case["method"], case["form"], case["kind"]
    form = "3d" if form == "any" else form
    if kind in HYPERPARAMETERS:
        return ESTIMATORS[est]().set_params(**HYPERPARAMETERS[kind][0])
    if kind in SCALER_HYPERPARAMETERS:
        return SequenceScaler(**SCALER_HYPERPARAMETERS[kind][0])
    supervised = kind in Y_KINDS
    if kind == "huge_X_float32_model":
        return copy.deepcopy(fitted(est, form, np.float32))
    if method == "fit" or (method == "partial_fit" and kind != "feature_count_mismatch"
                           and kind != "unseen_label_later_call"):  # fmt: skip
        return ESTIMATORS[est]()
    if kind == "unseen_label_later_call":
        m = ESTIMATORS[est]()
        return call(m, "partial_fit", to_form(base_X(), form), _y_for(case))
    return copy.deepcopy(fitted(est, form, supervised=supervised))


def run_case(case):
    """Run one case; return a JSON-able outcome."""
    est_name, method, kind = case["est"], case["method"], case["kind"]
    form = "3d" if case["form"] == "any" else case["form"]
    X = to_form(base_X(), form)
    y = _y_for(case)
    sw = None
    classes = None
    if kind in LAYOUT_KINDS:
        return _run_layout_case(case, form)
    est = _estimator_for(case)
    if kind in X_KINDS:
        X = X_KINDS[kind][0](form)
    elif kind == "feature_count_mismatch":
        X = _other_feature_count(form)
    elif kind == "huge_X_float32_model":
        X3 = base_X()
        X3[3, 1, 0] = 1e39
        X = to_form(X3, form)
    elif kind == "huge_y_float32":
        X = map_arrays(X, lambda a: a.astype(np.float32))
        y = y.copy()
        y[4] = 1e39
    elif kind in ("nan_y", "inf_y"):
        y = y.astype(float)
        y[5] = np.nan if kind == "nan_y" else np.inf
    elif kind == "y_too_short":
        y = y[:-1]
    elif kind.startswith("unseen_label"):
        y = y.copy()
        y[0] = 2
    elif kind in SW_KINDS:
        sw = np.ones(N)
        if kind == "nan_sample_weight":
            sw[3] = np.nan
        elif kind == "inf_sample_weight":
            sw[3] = np.inf
        elif kind == "negative_sample_weight":
            sw[3] = -1.0
        elif kind == "sample_weight_too_short":
            sw = sw[:-1]
        else:  # huge weights for a float32 model
            sw[3] = 1e39
            X = map_arrays(X, lambda a: a.astype(np.float32))
            if method == "score":
                est = copy.deepcopy(fitted(est_name, form, np.float32))
    try:
        call(est, method, X, y, sw, classes)
    except Exception as e:  # noqa: BLE001 - the outcome is what we report
        return {"outcome": "raised", "type": type(e).__name__,
                "types": [c.__name__ for c in type(e).__mro__],
                "message": str(e)}  # fmt: skip
    return {"outcome": "returned"}


def _same(a, b):
    """Exact equality of results: arrays (dtype too), lists of arrays, floats."""
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_same(u, v) for u, v in zip(a, b))
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    return a == b


def _run_layout_case(case, form):
    est_name, method, kind = case["est"], case["method"], case["kind"]
    odd_of, clean_of = LAYOUT_KINDS[kind]
    X = to_form(base_X(), form)
    X_odd, X_clean = map_arrays(X, odd_of), map_arrays(X, clean_of)
    # a nested 3-D list is a list of sequences: the scaler returns a list
    X_same_form = list(X_clean) if kind == "nested_lists" and form == "3d" else X_clean
    if kind == "object_numbers" and form == "ragged":  # a 1-D object array
        container = np.empty(len(X_odd), dtype=object)
        container[:] = X_odd
        X_odd = container
    y = clean_y(est_name, supervised=False)
    if method in FIT_METHODS:
        odd = call(ESTIMATORS[est_name](), method, X_odd, y)
        ref = call(ESTIMATORS[est_name](), method, X_clean, y)
        results = (output_of(odd, X_clean), output_of(ref, X_clean))
    else:
        model = fitted(est_name, form)
        if method == "score":
            results = (model.score(X_odd, y), model.score(X_clean, y))
        else:
            results = (
                getattr(model, method)(X_odd),
                getattr(model, method)(X_same_form),
            )
    if _same(*results):
        return {"outcome": "equal"}
    return {"outcome": "differs", "message": f"{results[0]!r} != {results[1]!r}"}


def _battery_main(out_path):
    """Run every case, writing progress to stderr and results to ``out_path``."""
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    results = {}
    for case in CASES:
        print(case["id"], file=sys.stderr, flush=True)
        try:
            results[case["id"]] = run_case(case)
        except Exception as e:  # noqa: BLE001 - a bug of the battery itself
            results[case["id"]] = {"outcome": "battery error", "message": repr(e)}
    with open(out_path, "w") as f:
        json.dump(results, f)


@pytest.fixture(scope="module")
def battery_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("battery") / "results.json"
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--battery", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-5:]
        pytest.fail(
            f"The battery's child process died (exit code {proc.returncode}) "
            "while running case:\n" + "\n".join(last)
        )
    with open(out) as f:
        return json.load(f)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_battery(case, battery_results):
    result = battery_results[case["id"]]
    if case["expect"] == "equal":
        assert result["outcome"] == "equal", result
        return
    assert result["outcome"] == "raised", f"no error; expected {case['expect']!r}"
    assert {"ValueError", "TypeError"} & set(result["types"]), result
    assert re.search(case["expect"], result["message"]), result


# ======================================================================
# Diverging and interrupted training
# ======================================================================
def _divergence_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 10, 2))
    return X, X[:, :, 0].sum(axis=1)


# relu Elman RNN, SGD with momentum, no clipping: with learning_rate_init=0.5
# the loss overflows in epoch 4 (measured; epochs 1-3 are finite).
DIVERGING = dict(
    hidden_layer_sizes=(8,), cell="rnn", activation="relu", solver="sgd",
    momentum=0.9, clip_norm=None, batch_size=10, tol=0.0, n_iter_no_change=100,
    random_state=0,
)  # fmt: skip


def test_divergence_stops_with_warning_and_keeps_best_epoch():
    from sklearn_rnn.exceptions import DivergenceWarning

    X, y = _divergence_data()
    reg = RNNRegressor(learning_rate_init=0.5, max_iter=30, **DIVERGING)
    with pytest.warns(DivergenceWarning, match=r"epoch \d+.*learning_rate_init=0\.5"):
        reg.fit(X, y)
    assert 1 <= reg.n_iter_ < 30
    assert len(reg.loss_curve_) == reg.n_iter_
    assert np.all(np.isfinite(reg.loss_curve_))
    best = int(np.argmin(reg.loss_curve_)) + 1
    pred = reg.predict(X)
    assert np.all(np.isfinite(pred))
    # the kept weights are exactly those after `best` epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = RNNRegressor(learning_rate_init=0.5, max_iter=best, **DIVERGING).fit(X, y)
    np.testing.assert_array_equal(pred, ref.predict(X))
    # and the estimator is usable: scoring and further training work
    assert np.isfinite(reg.score(X, y))
    reg.set_params(learning_rate_init=1e-3, warm_start=True, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert np.all(np.isfinite(reg.predict(X)))


def test_divergence_in_first_epoch_raises_and_keeps_previous_weights():
    X, y = _divergence_data()
    with pytest.raises(ValueError, match="non-finite.*epoch 1.*learning_rate_init"):
        RNNRegressor(learning_rate_init=1e4, max_iter=5, **DIVERGING).fit(X, y)
    # warm start from a good model: the failed call leaves it as it was
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(learning_rate_init=0.01, max_iter=3, **DIVERGING).fit(X, y)
    before = reg.predict(X)
    reg.set_params(warm_start=True, learning_rate_init=1e4)
    with pytest.raises(ValueError, match="left as they were before this call"):
        reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)


def test_divergence_with_early_stopping_keeps_best_validation_weights():
    from sklearn_rnn.exceptions import DivergenceWarning

    X, y = _divergence_data()
    params = dict(DIVERGING, n_iter_no_change=100)
    reg = RNNRegressor(
        learning_rate_init=0.5, max_iter=30, early_stopping=True, **params
    )
    with pytest.warns(DivergenceWarning, match="best validation score"):
        reg.fit(X, y)
    assert np.all(np.isfinite(reg.predict(X)))
    assert len(reg.validation_scores_) == reg.n_iter_


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor, RNNTransformer])
def test_keyboard_interrupt_keeps_last_finished_epoch(Est):
    """Ctrl-C in the 2nd mini-batch of epoch 4: fit returns (with a warning,
    as MLPClassifier) and the model is exactly the one after 3 epochs."""
    X = np.random.RandomState(0).normal(size=(30, 5, 2))
    y = None if Est is RNNTransformer else (
        np.arange(30) % 2 if Est is RNNClassifier else X[:, :, 0].sum(axis=1)
    )  # fmt: skip
    params = dict(hidden_layer_sizes=(4,), batch_size=10, random_state=0)
    est = Est(max_iter=20, **params)
    calls = {"n": 0}
    loss_grad = est._loss_grad

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 3 * 3 + 2:  # 3 mini-batches per epoch
            raise KeyboardInterrupt
        return loss_grad(*args)

    est._loss_grad = interrupted
    with pytest.warns(UserWarning, match="interrupted by user.*n_iter_=3"):
        est.fit(X, y)
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = Est(max_iter=3, **params).fit(X, y)
    np.testing.assert_array_equal(output_of(est, X), output_of(ref, X))
    assert np.all(np.isfinite(output_of(est, X)))


@pytest.mark.parametrize(
    "Est, pooling",
    [(RNNRegressor, "last"), (RNNRegressor, "mean"), (RNNRegressor, "max"),
     (RNNTransformer, "sequence")],
)  # fmt: skip
def test_predict_refuses_non_finite_outputs(Est, pooling, monkeypatch):
    """Finite input that overflows inside the network (huge values, large
    recurrent weights) gives a ValueError naming the sequence, never NaN or
    infinite predictions, and no NumPy warning (pytest turns warnings into
    errors); the other sequences still predict."""
    import sklearn_rnn._recurrent as recurrent_module

    X = np.random.RandomState(0).normal(size=(20, 5, 2))
    y = None if Est is RNNTransformer else X[:, 0, 0]
    params = dict(cell="rnn", activation="relu", hidden_layer_sizes=(8,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(pooling=pooling, max_iter=2, random_state=0, **params).fit(X, y)
    est.recurrent_params_[0]["weight_hh"][...] *= 1e4
    X_huge = [x.copy() for x in X]
    # shorter than the others: its padded steps carry the overflowed state,
    # which mean pooling multiplies by 0 (NaN) and max pooling masks
    X_huge[7] = X_huge[7][:4] * 1e300
    monkeypatch.setattr(recurrent_module, "PREDICT_CHUNK", 4)  # X[7]: 2nd chunk
    with pytest.raises(ValueError, match=r"output for sequence X\[7\] is not finite"):
        output_of(est, X_huge)
    out = output_of(est, X_huge[:7] + X_huge[8:])
    assert np.all(np.isfinite(out))


# ======================================================================
# Memory
# ======================================================================
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fit_predict_cycle(data):
    X, X_list, y_cls, y_reg = data
    RNNClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(
        X, y_cls
    ).predict_proba(X)
    RNNRegressor(hidden_layer_sizes=(4,), cell="lstm", max_iter=2, random_state=0).fit(
        X_list, y_reg
    ).predict(X_list)
    RNNTransformer(hidden_layer_sizes=(4,), cell="rnn", max_iter=2, random_state=0).fit(
        X
    ).transform(X)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_repeated_fit_predict_does_not_leak():
    """200 fit/predict cycles (the three estimators and the scaler in turn,
    3-D and ragged input): resident memory grows by less than 10 MB, and the
    Python/NumPy allocations still alive afterwards (tracemalloc) by less
    than 100 kB."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 5, 2))
    X_list = [X[i, : 2 + i % 4] for i in range(20)]
    y_cls, y_reg = np.arange(20) % 2, X.sum(axis=(1, 2))
    small = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    cycles = [
        lambda: RNNClassifier(**small).fit(X, y_cls).predict_proba(X),
        lambda: RNNRegressor(cell="lstm", **small).fit(X_list, y_reg).predict(X_list),
        lambda: RNNTransformer(cell="rnn", **small).fit(X).transform(X),
        lambda: SequenceScaler().fit(X_list).transform(X_list),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(20):  # warm up: allocator pools, lazy imports, caches
            cycles[i % 4]()
        tracemalloc.start()
        try:
            gc.collect()
            rss_before = _rss_bytes()
            traced_before = tracemalloc.get_traced_memory()[0]
            for i in range(200):
                cycles[i % 4]()
            gc.collect()
            traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
            rss_growth = _rss_bytes() - rss_before
        finally:
            tracemalloc.stop()
    print(f"RSS growth {rss_growth / 1e6:.2f} MB, traced {traced_growth / 1e3:.1f} kB")
    assert rss_growth < 10e6
    assert traced_growth < 100e3


@pytest.mark.parametrize("cell, pooling", [("gru", "last"), ("lstm", "mean")])
def test_predict_working_memory_is_bounded(cell, pooling):
    """predict runs in chunks of PREDICT_CHUNK sequences: on 12 000 sequences
    its allocations peak no higher than on one chunk (plus the larger
    result), under the bound documented in ``BaseRecurrent._chunked`` and
    far below what one pass over all sequences at once would need."""
    from sklearn_rnn._recurrent import PREDICT_CHUNK

    n, T, F_, H = 12_000, 8, 2, 8
    X = np.random.RandomState(0).normal(size=(n, T, F_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(
            hidden_layer_sizes=(H,), cell=cell, pooling=pooling, max_iter=1,
            random_state=0,
        ).fit(X[:50], X[:50, 0, 0])  # fmt: skip
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    per_sequence = T * (F_ + (G + 4) * H) * X.itemsize
    bound = PREDICT_CHUNK * per_sequence

    def peak_of_predict(X):
        gc.collect()
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            y_pred = reg.predict(X)
            return tracemalloc.get_traced_memory()[1] - baseline, y_pred
        finally:
            tracemalloc.stop()

    one_chunk, _ = peak_of_predict(X[:PREDICT_CHUNK])
    peak, y_pred = peak_of_predict(X)
    assert y_pred.shape == (n,)
    print(
        f"peak {peak / 1e6:.2f} MB (one chunk {one_chunk / 1e6:.2f} MB), bound "
        f"{bound / 1e6:.2f} MB, unchunked {n * per_sequence / 1e6:.1f} MB"
    )
    slack = 4 * y_pred.nbytes + 64 * 1024  # the result, its pieces and copies
    assert peak <= one_chunk + slack
    assert peak <= bound + slack
    assert bound < n * per_sequence / 10


@pytest.mark.parametrize(
    "Est, cell, pooling",
    [(RNNRegressor, "lstm", "last"), (RNNTransformer, "gru", "sequence")],
)
def test_predict_results_do_not_depend_on_the_chunk_size(
    Est, cell, pooling, monkeypatch
):
    """predict runs on chunks sized by the working memory per sequence (64
    to 1024 sequences); every chunking gives the same results, bit for bit,
    ragged lengths included."""
    import sklearn_rnn._recurrent as recurrent_module

    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(2, 9), 3)) for _ in range(300)]
    y = None if Est is RNNTransformer else rng.normal(size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(hidden_layer_sizes=(9,), cell=cell, pooling=pooling, max_iter=2,
                  random_state=0).fit(X, y)  # fmt: skip
    one_chunk = output_of(est, X)  # 300 short sequences fit in 8 MiB
    monkeypatch.setattr(recurrent_module, "PREDICT_CHUNK_BYTES", 1)
    chunks_of_64 = output_of(est, X)
    monkeypatch.setattr(recurrent_module, "PREDICT_CHUNK_MIN", 8)
    chunks_of_8 = output_of(est, X)
    for other in (chunks_of_64, chunks_of_8):
        if pooling == "sequence":
            assert len(other) == len(one_chunk)
            for a, b in zip(other, one_chunk):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(other, one_chunk)


# ======================================================================
# Threads
# ======================================================================
def _blas_threads():
    from threadpoolctl import threadpool_info

    return sorted(
        i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
    )


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_concurrent_predict_from_8_threads_equals_serial(cell):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8, 3))
    X_list = [X[i, : 3 + i % 6] for i in range(300)]
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(
            hidden_layer_sizes=(16,), cell=cell, max_iter=2, random_state=0
        ).fit(X, y)
    blas_before = _blas_threads()
    expected = [clf.predict_proba(X), clf.predict_proba(X_list)]
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def work(i):
        try:
            barrier.wait()
            results[i] = [
                clf.predict_proba(X_list if (i + k) % 2 else X) for k in range(4)
            ]
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(results) == 8
    for i, outs in results.items():
        for k, out in enumerate(outs):
            assert np.array_equal(out, expected[(i + k) % 2])
    # the shared BLAS limit was released: BLAS has its thread count back
    assert _blas_threads() == blas_before


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_results_identical_with_one_and_two_openmp_and_blas_threads(cell):
    from threadpoolctl import threadpool_limits

    rng = np.random.RandomState(0)
    X = rng.normal(size=(256, 12, 3))
    y = X[:, :, 0].mean(axis=1)
    from sklearn_rnn._kernels._openmp_helpers import _openmp_effective_n_threads

    runs, budget = {}, {}
    for n in (1, 2):
        with (
            threadpool_limits(limits=n, user_api="openmp"),
            threadpool_limits(limits=n, user_api="blas"),
        ):
            budget[n] = _openmp_effective_n_threads()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                reg = RNNRegressor(
                    hidden_layer_sizes=(16,), cell=cell, max_iter=2, batch_size=128,
                    random_state=0,
                ).fit(X, y)  # fmt: skip
            runs[n] = (reg._n_threads, reg.loss_curve_, reg.predict(X))
    assert runs[1][0] == budget[1] == 1
    assert runs[2][0] == budget[2]  # 2, unless the machine has a single CPU
    assert runs[1][1] == runs[2][1]
    np.testing.assert_array_equal(runs[1][2], runs[2][2])


def test_initial_parameters_identical_with_one_and_two_threads():
    # H >= 128: the QRs of the recurrent blocks run on a thread pool.
    from sklearn_rnn._network import RecurrentNetwork

    net = RecurrentNetwork(5, (128, 130), 3, cell="lstm", activation="tanh",
                           bidirectional=True, pooling="last")  # fmt: skip
    theta = {
        n: net.init_params(np.random.RandomState(0), np.float64, n) for n in (1, 2)
    }
    np.testing.assert_array_equal(theta[1], theta[2])
    w = net.unpack(theta[2])[0][1][1]["weight_hh"]  # layer 2, reverse direction
    for g in range(4):
        block = w[g * 130 : (g + 1) * 130]
        np.testing.assert_allclose(block @ block.T, np.eye(130), atol=1e-12)


# ======================================================================
# Processes
# ======================================================================
def _grid_search(n_jobs):
    from sklearn.model_selection import GridSearchCV

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 6, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    grid = GridSearchCV(
        RNNClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
        {"cell": ["rnn", "gru"]},
        cv=2,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    return grid.cv_results_["mean_test_score"], grid.predict_proba(X)


def test_grid_search_with_loky_workers_equals_serial():
    serial = _grid_search(n_jobs=1)
    parallel = _grid_search(n_jobs=2)
    np.testing.assert_array_equal(parallel[0], serial[0])
    np.testing.assert_array_equal(parallel[1], serial[1])


def test_kernels_use_the_thread_budget_of_joblib_workers():
    """joblib gives each of n_jobs loky workers cpu_count // n_jobs threads;
    a fit inside a worker uses that many, not the machine's count."""
    from joblib import Parallel, cpu_count, delayed

    def fit_in_worker():
        from threadpoolctl import threadpool_info

        from sklearn_rnn import RNNClassifier as Clf
        from sklearn_rnn._kernels._openmp_helpers import (
            _openmp_effective_n_threads,
        )

        X = np.random.RandomState(0).normal(size=(40, 5, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = Clf(hidden_layer_sizes=(4,), max_iter=1).fit(X, np.arange(40) % 2)
        openmp = [
            i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"
        ]
        return clf._n_threads, _openmp_effective_n_threads(), openmp

    results = Parallel(n_jobs=2)(delayed(fit_in_worker)() for _ in range(2))
    budget = max(1, cpu_count() // 2)
    for n_threads, effective, openmp in results:
        assert n_threads == effective == budget
        assert all(n <= budget for n in openmp)


def _run_script(code, timeout):
    """Run ``code`` in a fresh interpreter; a hang or crash fails the test."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            # not the repository root: `-c` puts the working directory first
            # on sys.path, where the uncompiled source tree would shadow the
            # installed package
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"child process hung for {timeout} s:\n{e.stderr}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="'fork' workers and the libgomp fork hazard are Linux matters",
)


@LINUX_ONLY
def test_fork_after_openmp_is_safe():
    """libgomp hangs a child forked after the parent ran an OpenMP team of
    several threads, as soon as the child starts one. sklearn-rnn marks
    such children (os.register_at_fork) and runs their kernels on one thread:
    predicting and fitting in a 'fork' child work and give the parent's
    results. (Without this, the child below hangs.)"""
    result = _run_script(
        """
        import json, multiprocessing as mp, warnings
        import numpy as np
        warnings.simplefilter("ignore")
        from sklearn_rnn import RNNClassifier
        from sklearn_rnn import _recurrent

        X = np.random.RandomState(0).normal(size=(300, 8, 3))
        y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
        params = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        clf = RNNClassifier(**params).fit(X, y)  # OpenMP team started here
        ref = clf.predict_proba(X)

        def child(_):
            again = RNNClassifier(**params).fit(X, y)
            return (clf.predict_proba(X), again.predict_proba(X),
                    _recurrent._kernel_n_threads())

        with mp.get_context("fork").Pool(1) as pool:
            proba, proba_refit, n_threads = pool.map(child, [0])[0]
        print(json.dumps({
            "parent_threads": clf._n_threads,
            "child_threads": n_threads,
            "predict_equal": bool(np.array_equal(proba, ref)),
            "refit_equal": bool(np.array_equal(proba_refit, ref)),
        }))
        """,
        timeout=120,
    )
    assert result["predict_equal"] and result["refit_equal"], result
    assert result["child_threads"] == 1
    if result["parent_threads"] == 1:
        pytest.skip("one CPU: the parent never started an OpenMP team")


@LINUX_ONLY
def test_grid_search_with_multiprocessing_start_methods():
    """GridSearchCV(n_jobs=2) on joblib's 'multiprocessing' backend with the
    'fork' (after OpenMP ran in the parent), 'forkserver' and 'spawn' start
    methods gives the serial results."""
    result = _run_script(
        """
        import json, multiprocessing as mp, warnings
        import numpy as np
        from joblib import parallel_backend
        from sklearn.model_selection import GridSearchCV
        warnings.simplefilter("ignore")
        from sklearn_rnn import RNNClassifier

        X = np.random.RandomState(0).normal(size=(60, 6, 2))
        y = (X[:, :, 0].sum(axis=1) > 0).astype(int)

        def search(n_jobs):
            grid = GridSearchCV(
                RNNClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
                {"cell": ["rnn", "gru"]}, cv=2, n_jobs=n_jobs,
            ).fit(X, y)
            return grid.cv_results_["mean_test_score"], grid.predict_proba(X)

        # the parent runs OpenMP teams before any fork
        big = np.random.RandomState(1).normal(size=(300, 8, 3))
        RNNClassifier(hidden_layer_sizes=(8,), max_iter=1).fit(big, np.arange(300) % 2)
        serial = search(1)
        out = {}
        for method in ("fork", "forkserver", "spawn"):
            mp.set_start_method(method, force=True)
            with parallel_backend("multiprocessing"):
                scores, proba = search(2)
            out[method] = bool(np.array_equal(scores, serial[0])
                               and np.array_equal(proba, serial[1]))
        print(json.dumps(out))
        """,
        timeout=300,
    )
    assert result == {"fork": True, "forkserver": True, "spawn": True}


if __name__ == "__main__" and sys.argv[1:2] == ["--battery"]:
    _battery_main(sys.argv[2])


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_outputs_do_not_keep_the_network_buffers_alive(pooling):
    """transform/predict return arrays of their own: a view of the top
    layer's (T, B, H) states (pooling='last') would keep them in memory."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6, 40, 3))
    y = np.arange(6) % 2
    clf = RNNClassifier(hidden_layer_sizes=(8,), pooling=pooling, max_iter=2,
                        random_state=0).fit(X, y)  # fmt: skip
    trf = RNNTransformer(hidden_layer_sizes=(8,), pooling=pooling, max_iter=2,
                         random_state=0).fit(X)  # fmt: skip
    for out in (trf.transform(X), clf.predict_proba(X)):
        assert out.base is None or out.base.nbytes <= out.nbytes
