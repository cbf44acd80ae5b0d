"""Bad input gives a clear error naming the problem; odd-but-valid input works.

Every estimator is checked where the check applies. Data are tiny: the
errors are raised before any training, and the few fits run two epochs.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._testing import output_of

ESTIMATORS = [RNNClassifier, RNNRegressor, RNNTransformer]
PARAMS = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)


def make_X(n_samples=20, n_timesteps=5, n_features=2, seed=0):
    return np.random.RandomState(seed).normal(size=(n_samples, n_timesteps, n_features))


def make_y(Est, n_samples):
    """Targets for ``Est``; None for the (unsupervised) transformer."""
    if Est is RNNClassifier:
        return np.arange(n_samples) % 2
    if Est is RNNRegressor:
        return np.linspace(-1, 1, n_samples)
    return None


def fit(est, X, y=None, **kwargs):
    if y is None and not isinstance(est, RNNTransformer):
        y = make_y(type(est), len(X))
    return est.fit(X, y, **kwargs)


def fitted(Est, X):
    return Est(**PARAMS).fit(X, make_y(Est, len(X)))


def as_2d(X):
    return X[:, :, 0].copy()


def as_list(X):
    # ragged: sequence i keeps its last 2 + i % 4 steps
    return [X[i, : 2 + i % 4].copy() for i in range(len(X))]


FORMS = {"3d": lambda X: X.copy(), "2d": as_2d, "list": as_list}


def _poison(X, value):
    """A copy of a 3-D X with ``value`` in a valid (non-padded) position."""
    X = X.copy()
    X[3, 1, 0] = value
    return X


BAD_VALUES = [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]


# ----------------------------------------------------------------------
# Non-finite values
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("value, message", BAD_VALUES)
def test_non_finite_X_at_fit(Est, form, value, message):
    X = FORMS[form](_poison(make_X(), value))
    with pytest.raises(ValueError, match=message):
        fit(Est(**PARAMS), X)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("value, message", BAD_VALUES)
def test_non_finite_X_at_predict(Est, form, value, message):
    X = make_X()
    est = fitted(Est, FORMS[form](X))
    with pytest.raises(ValueError, match=message):
        output_of(est, FORMS[form](_poison(X, value)))


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value, message", BAD_VALUES)
def test_non_finite_y(Est, value, message):
    # The message names y; and no other warning (e.g. a RuntimeWarning from
    # casting NaN) comes first: pyproject.toml turns warnings into errors.
    X = make_X()
    y = (
        np.linspace(-1, 1, 20)
        if Est is not RNNClassifier
        else (np.arange(20) % 2).astype(float)
    )
    y[5] = value
    with pytest.raises(ValueError, match="y contains " + message):
        Est(**PARAMS).fit(X, y)


def test_non_finite_y_multi_output():
    X = make_X()
    Y = np.zeros((20, 2))
    Y[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RNNRegressor(**PARAMS).fit(X, Y)


# ----------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros(20), "got a 1-D array"),
        (list(np.zeros(20)), "got a 1-D array"),
        (np.zeros((20, 5, 2, 1)), "got a 4-D array"),
    ],
    ids=["1d", "1d-list", "4d"],
)
def test_wrong_number_of_dimensions(Est, X, message):
    with pytest.raises(ValueError, match=message):
        fit(Est(**PARAMS), X, make_y(Est, 20))
    est = fitted(Est, make_X())
    with pytest.raises(ValueError, match=message):
        output_of(est, X)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "X",
    [np.zeros((0, 5, 2)), np.zeros((0, 5)), []],
    ids=["3d", "2d", "empty-list"],
)
def test_zero_samples(Est, X):
    y = None if Est is RNNTransformer else np.zeros(0)
    with pytest.raises(ValueError, match="0 sample"):
        Est(**PARAMS).fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "X",
    [np.zeros((0, 5, 2)), []],
    ids=["3d", "empty-list"],
)
def test_zero_samples_at_predict(Est, X):
    est = fitted(Est, make_X())
    with pytest.raises(ValueError, match="0 sample"):
        output_of(est, X)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_zero_time_steps(Est):
    with pytest.raises(ValueError, match="0 time steps"):
        fit(Est(**PARAMS), np.zeros((4, 0, 2)))
    seqs = [np.ones((3, 2)), np.ones((0, 2)), np.ones((4, 2)), np.ones((2, 2))]
    with pytest.raises(ValueError, match=r"X\[1\].*0 time steps"):
        fit(Est(**PARAMS), seqs)
    # 2-D input: the columns are the time steps
    with pytest.raises(ValueError, match="0 feature"):
        fit(Est(**PARAMS), np.zeros((4, 0)))
    est = fitted(Est, make_X())
    with pytest.raises(ValueError, match="0 time steps"):
        output_of(est, np.zeros((4, 0, 2)))
    with pytest.raises(ValueError, match="0 time steps"):
        output_of(est, seqs)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_zero_features(Est):
    with pytest.raises(ValueError, match="0 features per step"):
        fit(Est(**PARAMS), np.zeros((4, 5, 0)))
    with pytest.raises(ValueError, match="0 features per step"):
        fit(Est(**PARAMS), [np.zeros((3, 0)), np.zeros((2, 0))])


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_ragged_sequences_with_different_feature_counts(Est):
    seqs = [np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 3)), np.ones((5, 2))]
    with pytest.raises(ValueError, match=r"same number of features.*X\[2\] has 3"):
        fit(Est(**PARAMS), seqs)
    est = fitted(Est, make_X())
    with pytest.raises(ValueError, match="same number of features"):
        output_of(est, seqs)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_nested_lists_of_different_lengths(Est):
    # univariate sequences of different lengths as plain nested lists
    X = [[0.0, 1.0, 2.0], [1.0, 2.0]] * 5
    with pytest.raises(ValueError, match="differ in length"):
        fit(Est(**PARAMS), X, make_y(Est, 10))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_feature_count_mismatch_at_predict_3d(Est):
    est = fitted(Est, make_X(n_features=3))
    assert est.n_features_in_ == 3
    with pytest.raises(ValueError, match="2 features per time step.*expecting 3"):
        output_of(est, make_X(n_features=2))
    with pytest.raises(ValueError, match="2 features per time step.*expecting 3"):
        output_of(est, as_list(make_X(n_features=2)))
    # a 2-D array means univariate sequences: 1 feature per step
    with pytest.raises(ValueError, match="1 features per time step.*expecting 3"):
        output_of(est, make_X(n_features=3)[:, :, 0])


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_feature_count_mismatch_at_predict_2d(Est):
    est = fitted(Est, make_X(n_timesteps=6)[:, :, 0])
    assert est.n_features_in_ == 6
    with pytest.raises(ValueError, match="5 features.*expecting 6"):
        output_of(est, make_X(n_timesteps=5)[:, :, 0])


# ----------------------------------------------------------------------
# Types
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "X",
    [
        np.full((6, 4, 2), "a"),
        np.full((6, 4), "a"),
        [np.full((3, 2), "a")] * 6,
        np.array([[["1.0", "x"]] * 4] * 6, dtype=object),
    ],
    ids=["3d", "2d", "list", "3d-object"],
)
def test_non_numeric_X(Est, X):
    with pytest.raises(ValueError, match="could not convert string to float"):
        fit(Est(**PARAMS), X, make_y(Est, 6))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_non_numeric_X_at_predict(Est):
    est = fitted(Est, make_X())
    with pytest.raises(ValueError, match="could not convert string to float"):
        output_of(est, np.full((6, 4, 2), "a"))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_complex_X(Est):
    X = make_X() + 1j
    with pytest.raises(ValueError, match="[Cc]omplex"):
        fit(Est(**PARAMS), X)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_sparse_X(Est):
    X = sp.csr_matrix(make_X()[:, :, 0])
    with pytest.raises(TypeError, match="[Ss]parse"):
        fit(Est(**PARAMS), X)


# ----------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", [RNNClassifier, RNNTransformer])
@pytest.mark.parametrize("label", [0, "a"])
def test_single_class(Est, label):
    X = make_X()
    y = np.array([label] * 20)
    with pytest.raises(ValueError, match="class"):
        Est(**PARAMS).fit(X, y)


def test_single_class_partial_fit():
    X = make_X()
    with pytest.raises(ValueError, match="class"):
        RNNClassifier(**PARAMS).partial_fit(X, np.zeros(20), classes=[0])


def test_continuous_y_for_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier(**PARAMS).fit(make_X(), np.linspace(0, 1, 20))


def test_y_required():
    X = make_X()
    for Est in (RNNClassifier, RNNRegressor):
        with pytest.raises(ValueError, match="requires y"):
            Est(**PARAMS).fit(X, None)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_y_length_mismatch(Est):
    X = make_X()
    y = make_y(RNNClassifier if Est is RNNTransformer else Est, 19)
    with pytest.raises(ValueError, match="inconsistent numbers of samples.*20, 19"):
        Est(**PARAMS).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est(**PARAMS).fit(as_list(X), y)


def test_transformer_partial_fit_must_keep_y_mode():
    X = make_X()
    tr = RNNTransformer(**PARAMS).partial_fit(X)
    with pytest.raises(ValueError, match="without y"):
        tr.partial_fit(X, np.arange(20) % 2)


# ----------------------------------------------------------------------
# Sample weights
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (np.r_[np.ones(19), np.nan], "NaN"),
        (np.r_[np.ones(19), np.inf], "infinity"),
        (np.r_[np.ones(19), -1.0], "Negative values.*sample_weight"),
        (np.ones(19), r"sample_weight.shape == \(19,\), expected \(20,\)"),
        (np.ones((20, 2)), "(?i)sample.weight.*1D"),
    ],
    ids=["nan", "inf", "negative", "length", "2d"],
)
def test_invalid_sample_weight(Est, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        fit(Est(**PARAMS), make_X(), sample_weight=sample_weight)


# ----------------------------------------------------------------------
# Fitting state
# ----------------------------------------------------------------------
METHODS = [
    (RNNClassifier, "predict"),
    (RNNClassifier, "predict_proba"),
    (RNNClassifier, "predict_log_proba"),
    (RNNClassifier, "decision_function"),
    (RNNClassifier, "score"),
    (RNNRegressor, "predict"),
    (RNNRegressor, "score"),
    (RNNTransformer, "transform"),
    (RNNTransformer, "get_feature_names_out"),
]


@pytest.mark.parametrize("Est, method", METHODS)
def test_not_fitted(Est, method):
    est = Est(**PARAMS)
    X = make_X()
    args = {
        "score": (X, np.arange(20) % 2),
        "get_feature_names_out": (),
    }.get(method, (X,))
    with pytest.raises(NotFittedError):
        getattr(est, method)(*args)


@pytest.mark.parametrize(
    "X",
    [make_X(n_timesteps=1), make_X(n_timesteps=1)[:, :, 0], [np.ones((1, 2))] * 5],
    ids=["3d", "2d", "list"],
)
def test_transformer_without_y_needs_two_steps(X):
    with pytest.raises(ValueError, match="at least 2 time steps"):
        RNNTransformer(**PARAMS).fit(X)
    # with y, one step is enough
    y = np.arange(len(X)) % 2
    assert RNNTransformer(**PARAMS).fit(X, y).transform(X).shape == (len(X), 4)


def test_transformer_without_y_some_sequences_of_one_step():
    seqs = [np.ones((1, 2)), np.ones((3, 2)), np.ones((1, 2)), np.ones((2, 2))]
    assert RNNTransformer(**PARAMS).fit(seqs).transform(seqs).shape == (4, 4)


# ----------------------------------------------------------------------
# Input that must work: layouts, read-only memory, integer and bool dtypes
# ----------------------------------------------------------------------
def _readonly(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


LAYOUTS = {
    "fortran": np.asfortranarray,
    "readonly": _readonly,
}


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_memory_layouts_give_same_results(Est, layout):
    X = make_X()
    y = make_y(Est, 20)
    ref = Est(**PARAMS).fit(X, y)
    expected = output_of(ref, X)
    X_odd = LAYOUTS[layout](X)
    est = Est(**PARAMS).fit(X_odd, y)
    np.testing.assert_array_equal(output_of(est, X_odd), expected)
    np.testing.assert_array_equal(output_of(ref, X_odd), expected)
    # one sequence alone (a time-major view of it is already contiguous)
    np.testing.assert_array_equal(output_of(ref, X_odd[:1]), output_of(ref, X[:1]))
    if layout == "readonly":
        assert not X_odd.flags.writeable


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_non_contiguous_slices(Est):
    X_big = make_X(n_timesteps=10, n_features=4)
    X_view = X_big[:, ::2, 1::2]
    assert not X_view.flags.c_contiguous
    X = np.ascontiguousarray(X_view)
    y = make_y(Est, 20)
    ref = Est(**PARAMS).fit(X, y)
    est = Est(**PARAMS).fit(X_view, y)
    np.testing.assert_array_equal(output_of(est, X_view), output_of(ref, X))
    np.testing.assert_array_equal(
        output_of(ref, X_big[::2, ::2, 1::2]), output_of(ref, X[::2])
    )


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_readonly_2d_and_ragged(Est):
    X = make_X()
    y = make_y(Est, 20)
    X2 = as_2d(X)
    ref = Est(**PARAMS).fit(X2, y)
    est = Est(**PARAMS).fit(_readonly(X2), y)
    np.testing.assert_array_equal(output_of(est, _readonly(X2)), output_of(ref, X2))
    np.testing.assert_array_equal(
        output_of(ref, _readonly(X2[:1])), output_of(ref, X2[:1])
    )

    seqs = as_list(X)
    ref = Est(**PARAMS).fit(seqs, y)
    ro = [_readonly(s) for s in seqs]
    est = Est(**PARAMS).fit(ro, y)
    np.testing.assert_array_equal(output_of(est, ro), output_of(ref, seqs))
    np.testing.assert_array_equal(output_of(ref, ro[:1]), output_of(ref, seqs[:1]))


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("kind", ["int", "bool"])
@pytest.mark.parametrize("form", list(FORMS))
def test_int_and_bool_X_are_converted_to_float64(Est, kind, form):
    X_int = np.random.RandomState(0).randint(-3, 4, size=(20, 5, 2))
    X = X_int if kind == "int" else X_int > 0
    X = FORMS[form](X)
    X64 = FORMS[form](
        X_int.astype(np.float64) if kind == "int" else (X_int > 0).astype(np.float64)
    )
    y = make_y(Est, 20)
    ref = Est(**PARAMS).fit(X64, y)
    est = Est(**PARAMS).fit(X, y)
    assert est.coef_.dtype == np.float64
    np.testing.assert_array_equal(output_of(est, X), output_of(ref, X64))
    np.testing.assert_array_equal(output_of(ref, X), output_of(ref, X64))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_nested_python_lists(Est):
    X = make_X()
    y = make_y(Est, 20)
    ref = Est(**PARAMS).fit(X, y)
    est = Est(**PARAMS).fit(X.tolist(), y)
    np.testing.assert_array_equal(output_of(est, X.tolist()), output_of(ref, X))
    # ragged nested lists
    seqs = as_list(X)
    ref = Est(**PARAMS).fit(seqs, y)
    est = Est(**PARAMS).fit([s.tolist() for s in seqs], y)
    np.testing.assert_array_equal(
        output_of(est, [s.tolist() for s in seqs]), output_of(ref, seqs)
    )


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_object_array_of_sequences(Est):
    seqs = as_list(make_X())
    obj = np.empty(len(seqs), dtype=object)
    obj[:] = seqs
    y = make_y(Est, 20)
    ref = Est(**PARAMS).fit(seqs, y)
    est = Est(**PARAMS).fit(obj, y)
    np.testing.assert_array_equal(output_of(est, obj), output_of(ref, seqs))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_mixed_float32_float64_ragged_list_is_float64(Est):
    seqs = as_list(make_X())
    mixed = [s.astype(np.float32) if i % 2 else s for i, s in enumerate(seqs)]
    est = Est(**PARAMS).fit(mixed, make_y(Est, 20))
    assert est.coef_.dtype == np.float64
    all32 = [s.astype(np.float32) for s in seqs]
    est32 = Est(**PARAMS).fit(all32, make_y(Est, 20))
    assert est32.coef_.dtype == np.float32
