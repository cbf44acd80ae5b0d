"""Behaviour of the three estimators and their scikit-learn integration.

Every test uses tiny data (tens to a few hundred sequences of 4-10 steps) and
tiny networks so that the whole file runs in seconds.
"""

import copy
import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import compute_sample_weight
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_rnn._recurrent as recurrent_module
from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._testing import output_of

ESTIMATORS = [RNNClassifier, RNNRegressor, RNNTransformer]


# ----------------------------------------------------------------------
# Data and helpers
# ----------------------------------------------------------------------
def make_sign_data(n_samples=120, n_timesteps=6, n_features=2, seed=0, margin=0.5):
    """Binary task: the sign of the sum of feature 0 over time.

    Sequences whose sum is within ``margin`` of 0 are dropped, so a model that
    integrates the feature can reach (almost) perfect held-out accuracy.
    """
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(3 * n_samples, n_timesteps, n_features))
    s = X[:, :, 0].sum(axis=1)
    X = X[np.abs(s) > margin][:n_samples]
    assert X.shape[0] == n_samples
    y = (X[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    return X, y


def make_multiclass_data(n_samples=90, n_timesteps=5, n_features=3, seed=0):
    """Class = the feature with the largest sum over time."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    y = np.argmax(X.sum(axis=1), axis=1)
    return X, y


def make_multilabel_data(n_samples=90, n_timesteps=5, n_features=3, seed=0):
    """Label k = the sum of feature k over time is positive."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    Y = (X.sum(axis=1) > 0).astype(np.int64)
    return X, Y


def make_regression_data(n_samples=120, n_timesteps=6, n_features=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    y = X[:, :, 0].mean(axis=1)
    return X, y


def make_sine_data(n_samples=60, n_timesteps=10, seed=0):
    """Univariate sine waves of random phase and frequency, (n, T, 1)."""
    rng = np.random.RandomState(seed)
    t = np.arange(n_timesteps)
    phase = rng.uniform(0, 2 * np.pi, size=(n_samples, 1))
    freq = rng.uniform(0.3, 0.8, size=(n_samples, 1))
    return np.sin(freq * t + phase)[:, :, np.newaxis]


def make_ragged(n_samples=30, n_features=2, seed=0, min_len=2, max_len=9):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(min_len, max_len + 1, size=n_samples)
    return [rng.normal(size=(T, n_features)) for T in lengths]


def targets_for(Est, X, seed=0):
    """Targets suitable for ``Est`` (None for the unsupervised transformer)."""
    n = len(X)
    if Est is RNNClassifier:
        return np.arange(n) % 2
    if Est is RNNRegressor:
        return np.random.RandomState(seed).normal(size=n)
    return None


def flat_params(est):
    """All parameters, concatenated (a copy)."""
    parts = []
    for layer in est.recurrent_params_:
        parts += [
            layer[k].ravel() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
    parts += [est.coef_.ravel(), est.intercept_.ravel()]
    return np.concatenate(parts)


def reference_last_state(est, X, lengths=None):
    """NumPy Elman-RNN forward pass from the documented fitted attributes."""
    act = np.tanh if est.activation == "tanh" else (lambda z: np.maximum(z, 0))
    X = np.asarray(X, dtype=np.float64)
    n, T, _ = X.shape
    if lengths is None:
        lengths = np.full(n, T)
    out = []
    for i in range(n):
        inputs = X[i, : lengths[i]]
        for p in est.recurrent_params_:
            h = np.zeros(p["weight_hh"].shape[0])
            states = []
            for x_t in inputs:
                h = act(
                    p["weight_ih"] @ x_t
                    + p["bias_ih"]
                    + p["weight_hh"] @ h
                    + p["bias_hh"]
                )
                states.append(h)
            inputs = np.array(states)
        out.append(inputs[-1])
    return np.array(out)


# The Elman cell: reference_last_state re-implements it in NumPy.
SMALL = dict(cell="rnn", hidden_layer_sizes=(6,), max_iter=5, random_state=0)


# ----------------------------------------------------------------------
# Classifier
# ----------------------------------------------------------------------
def test_classifier_binary_outputs():
    X, y = make_sign_data(80)
    clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    assert clf.n_outputs_ == 1
    assert clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    dec = clf.decision_function(X)
    assert dec.shape == (80,)
    # the positive-class probability is the logistic of the decision function
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-dec)), rtol=1e-12)
    pred = clf.predict(X)
    assert pred.shape == (80,)
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_array_equal(pred, (dec > 0).astype(int))
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == (80, 2)
    finite = np.isfinite(np.log(proba))
    np.testing.assert_allclose(log_proba[finite], np.log(proba)[finite], rtol=1e-9)


def test_classifier_multiclass_outputs():
    X, y = make_multiclass_data(90)
    clf = RNNClassifier(
        hidden_layer_sizes=(8,), max_iter=30, batch_size=30, random_state=0
    )
    clf.fit(X, y)
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    dec = clf.decision_function(X)
    assert dec.shape == (90, 3)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(dec, axis=1)])
    log_proba = clf.predict_log_proba(X)
    finite = np.isfinite(np.log(proba))
    np.testing.assert_allclose(log_proba[finite], np.log(proba)[finite], rtol=1e-9)
    # better than the 1/3 chance level on the training data
    assert clf.score(X, y) > 0.6


def test_classifier_multilabel_indicator():
    X, Y = make_multilabel_data(90)
    clf = RNNClassifier(
        hidden_layer_sizes=(8,), max_iter=30, batch_size=30, random_state=0
    )
    clf.fit(X, Y)
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    pred = clf.predict(X)
    assert pred.shape == (90, 3)
    assert set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert clf.decision_function(X).shape == (90, 3)
    log_proba = clf.predict_log_proba(X)
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-9)
    # per-label accuracy above chance
    assert (pred == Y).mean() > 0.7


def test_classifier_string_labels():
    X, y = make_sign_data(80)
    labels = np.array(["neg", "pos"])[y]
    clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    clf.fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["neg", "pos"])
    pred = clf.predict(X)
    assert set(pred) <= {"neg", "pos"}
    np.testing.assert_array_equal(
        pred, clf.classes_[np.argmax(clf.predict_proba(X), axis=1)]
    )
    # same model as with the integer labels
    clf_int = RNNClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(
        X, y
    )
    np.testing.assert_array_equal(
        clf.decision_function(X), clf_int.decision_function(X)
    )


def test_classifier_learns_sign_of_sum():
    X, y = make_sign_data(400)
    clf = RNNClassifier(
        hidden_layer_sizes=(8,), max_iter=40, batch_size=30, random_state=0
    )
    clf.fit(X[:300], y[:300])
    assert clf.score(X[300:], y[300:]) >= 0.95
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


# ----------------------------------------------------------------------
# Regressor
# ----------------------------------------------------------------------
def test_regressor_single_output_learns_mean():
    X, y = make_regression_data(200)
    reg = RNNRegressor(
        hidden_layer_sizes=(8,), max_iter=40, batch_size=20, random_state=0
    )
    reg.fit(X[:150], y[:150])
    assert reg.n_outputs_ == 1
    assert reg.out_activation_ == "identity"
    pred = reg.predict(X[150:])
    assert pred.shape == (50,)
    assert r2_score(y[150:], pred) > 0.9
    assert reg.score(X[150:], y[150:]) == pytest.approx(r2_score(y[150:], pred))


def test_regressor_multi_output():
    X, y = make_regression_data(200)
    Y = np.column_stack([y, X[:, :, 1].mean(axis=1)])
    reg = RNNRegressor(
        hidden_layer_sizes=(12,), max_iter=40, batch_size=20, random_state=0
    )
    reg.fit(X[:150], Y[:150])
    assert reg.n_outputs_ == 2
    assert reg.coef_.shape == (12, 2)
    assert reg.intercept_.shape == (2,)
    pred = reg.predict(X[150:])
    assert pred.shape == (50, 2)
    assert r2_score(Y[150:], pred) > 0.8


# ----------------------------------------------------------------------
# Transformer
# ----------------------------------------------------------------------
def test_transformer_unsupervised_next_step():
    X = make_sine_data(60)
    tr = RNNTransformer(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X)
    assert tr.n_iter_ == len(tr.loss_curve_) == 30
    # predicting the next step of a sine wave is learnable
    assert tr.loss_curve_[-1] < 0.3 * tr.loss_curve_[0]
    assert tr.n_outputs_ == 1  # one output per input feature
    Xt = tr.transform(X)
    assert Xt.shape == (60, 8)
    assert np.all(np.abs(Xt) <= 1)  # tanh states


def test_transformer_supervised_classes_and_values():
    X, y = make_sign_data(200)
    tr = RNNTransformer(
        hidden_layer_sizes=(8, 4), max_iter=30, batch_size=30, random_state=0
    )
    tr.fit(X[:150], y[:150])
    assert tr.out_activation_ == "logistic"
    np.testing.assert_array_equal(tr.classes_, [0, 1])
    Xt = tr.transform(X)
    assert Xt.shape == (200, 4)
    # the supervised features separate the classes
    lr = LogisticRegression().fit(Xt[:150], y[:150])
    assert lr.score(Xt[150:], y[150:]) > 0.85

    Xr, yr = make_regression_data(60)
    tr_r = RNNTransformer(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(
        Xr, yr
    )
    assert tr_r.out_activation_ == "identity"
    assert tr_r.transform(Xr).shape == (60, 5)


def test_transformer_feature_names_and_set_output():
    pd = pytest.importorskip("pandas")
    X = make_sine_data(30, n_timesteps=6)
    tr = RNNTransformer(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X)
    names = tr.get_feature_names_out()
    np.testing.assert_array_equal(
        names, ["rnntransformer0", "rnntransformer1", "rnntransformer2"]
    )
    expected = tr.transform(X)
    tr.set_output(transform="pandas")
    df = tr.transform(X)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(names)
    np.testing.assert_array_equal(df.to_numpy(), expected)
    df_ft = clone(tr).set_output(transform="pandas").fit_transform(X)
    assert isinstance(df_ft, pd.DataFrame)
    assert list(df_ft.columns) == list(names)


@pytest.mark.parametrize("supervised", [False, True])
def test_transformer_fit_transform_equals_fit_then_transform(supervised):
    X, y = make_sign_data(40)
    y = y if supervised else None
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    a = RNNTransformer(**params).fit_transform(X, y)
    b = RNNTransformer(**params).fit(X, y).transform(X)
    assert a.shape == (40, 5)
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------
# Sequence forms: lengths, ragged lists, dtypes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_with_other_sequence_length(Est):
    X, _ = make_sign_data(40, n_timesteps=6)
    est = Est(**SMALL).fit(X, targets_for(Est, X))
    for T in (3, 9):
        X_new = np.random.RandomState(T).normal(size=(7, T, 2))
        out = output_of(est, X_new)
        assert out.shape[0] == 7
        assert np.all(np.isfinite(out))
        # same as the sequences given one by one as a ragged list
        np.testing.assert_allclose(out, output_of(est, list(X_new)), rtol=1e-12)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_ragged_input_matches_single_sequences(Est):
    seqs = make_ragged(30)
    assert len({len(s) for s in seqs}) > 1
    est = Est(hidden_layer_sizes=(5, 4), max_iter=5, random_state=0)
    est.fit(seqs, targets_for(Est, seqs))
    assert est.n_features_in_ == 2
    batch = output_of(est, seqs)
    assert batch.shape[0] == 30
    for i, seq in enumerate(seqs):
        alone = output_of(est, [seq])
        np.testing.assert_allclose(batch[i], alone[0], rtol=1e-10, atol=0)
        alone_3d = output_of(est, seq[np.newaxis])
        np.testing.assert_allclose(batch[i], alone_3d[0], rtol=1e-10, atol=0)


def test_fitted_params_reproduce_outputs():
    """recurrent_params_/coef_/intercept_ are the model, in PyTorch's layout."""
    seqs = make_ragged(20, n_features=3)
    y = np.arange(20) % 2
    clf = RNNClassifier(
        cell="rnn", hidden_layer_sizes=(5, 4), max_iter=5, random_state=0
    ).fit(seqs, y)
    assert len(clf.recurrent_params_) == 2
    shapes = [{k: v.shape for k, v in p.items()} for p in clf.recurrent_params_]
    assert shapes == [
        {"weight_ih": (5, 3), "weight_hh": (5, 5), "bias_ih": (5,), "bias_hh": (5,)},
        {"weight_ih": (4, 5), "weight_hh": (4, 4), "bias_ih": (4,), "bias_hh": (4,)},
    ]
    assert clf.coef_.shape == (4, 1)
    assert clf.intercept_.shape == (1,)
    T = max(len(s) for s in seqs)
    padded = np.zeros((20, T, 3))
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    lengths = np.array([len(s) for s in seqs])
    h = reference_last_state(clf, padded, lengths)
    expected = (h @ clf.coef_ + clf.intercept_).ravel()
    np.testing.assert_allclose(
        clf.decision_function(seqs), expected, rtol=1e-10, atol=1e-12
    )


def test_predict_in_chunks_matches():
    """More sequences than one inference chunk give the same outputs."""
    X, y = make_sign_data(40)
    clf = RNNClassifier(**SMALL).fit(X, y)
    big = [np.random.RandomState(i).normal(size=(2 + i % 7, 2)) for i in range(1100)]
    out = clf.decision_function(big)
    np.testing.assert_allclose(
        out[1050:], clf.decision_function(big[1050:]), rtol=1e-10
    )
    np.testing.assert_allclose(out[:5], clf.decision_function(big[:5]), rtol=1e-10)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(Est, dtype):
    X, _ = make_sign_data(40)
    X = X.astype(dtype)
    est = Est(**SMALL).fit(X, targets_for(Est, X))
    assert est.coef_.dtype == dtype
    assert est.intercept_.dtype == dtype
    for p in est.recurrent_params_:
        assert all(v.dtype == dtype for v in p.values())
    assert output_of(est, X).dtype == dtype
    if Est is RNNClassifier:
        assert est.predict_proba(X).dtype == dtype
    if Est is RNNTransformer:
        assert est.fit_transform(X).dtype == dtype
    # the model's dtype wins over the input's at predict time
    other = np.float64 if dtype == np.float32 else np.float32
    assert output_of(est, X.astype(other)).dtype == dtype


def test_float32_close_to_float64():
    X, y = make_sign_data(60)
    c64 = RNNClassifier(**SMALL).fit(X, y)
    c32 = RNNClassifier(**SMALL).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(
        c32.decision_function(X.astype(np.float32)),
        c64.decision_function(X),
        rtol=1e-3,
        atol=1e-4,
    )


# ----------------------------------------------------------------------
# Determinism, partial_fit, warm_start
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_same_random_state_is_bit_identical(Est):
    X, _ = make_sign_data(60)
    y = targets_for(Est, X)
    params = dict(hidden_layer_sizes=(6, 4), max_iter=8, batch_size=16, random_state=3)
    a = Est(**params).fit(X, y)
    b = Est(**params).fit(X, y)
    assert len(a.recurrent_params_) == len(b.recurrent_params_) == 2
    for pa, pb in zip(a.recurrent_params_, b.recurrent_params_, strict=True):
        for k in pa:
            np.testing.assert_array_equal(pa[k], pb[k])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(output_of(a, X), output_of(b, X))
    # and a different seed gives a different model
    c = Est(**{**params, "random_state": 4}).fit(X, y)
    assert not np.array_equal(flat_params(a), flat_params(c))


@pytest.mark.parametrize(
    "Est, solver",
    [
        (RNNClassifier, "adam"),
        (RNNClassifier, "sgd"),
        (RNNRegressor, "adam"),
        (RNNTransformer, "adam"),
    ],
)
def test_partial_fit_equals_fit(Est, solver):
    X, _ = make_sign_data(50)
    y = targets_for(Est, X)
    n_epochs = 6
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        batch_size=12,
        shuffle=True,
        random_state=0,
        n_iter_no_change=1000,
    )
    full = Est(max_iter=n_epochs, **params).fit(X, y)
    inc = Est(**params)
    for i in range(n_epochs):
        kwargs = {"classes": [0, 1]} if (Est is RNNClassifier and i == 0) else {}
        if y is None:
            inc.partial_fit(X, **kwargs)
        else:
            inc.partial_fit(X, y, **kwargs)
    assert inc.n_iter_ == full.n_iter_ == n_epochs
    assert inc.t_ == full.t_ == n_epochs * 50
    np.testing.assert_array_equal(inc.loss_curve_, full.loss_curve_)
    np.testing.assert_array_equal(flat_params(inc), flat_params(full))
    np.testing.assert_array_equal(output_of(inc, X), output_of(full, X))


def test_partial_fit_classes_required_and_checked():
    X, y = make_sign_data(40)
    with pytest.raises(ValueError, match="classes must be passed"):
        RNNClassifier(**SMALL).partial_fit(X, y)
    clf = RNNClassifier(**SMALL).partial_fit(X, y, classes=[0, 1])
    y_new = y.copy()
    y_new[0] = 2
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y_new)
    # classes declared up front may be missing from the first batch
    clf3 = RNNClassifier(**SMALL).partial_fit(X, y, classes=[0, 1, 2])
    assert clf3.predict_proba(X).shape == (40, 3)
    clf3.partial_fit(X, y_new)


def test_partial_fit_first_call_label_outside_classes_raises():
    """A label missing from ``classes`` must be rejected on the first call too."""
    X, y = make_sign_data(40)
    y_new = y.copy()
    y_new[0] = 2
    clf = RNNClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y_new, classes=[0, 1])


def test_warm_start_continues_from_previous_weights():
    X, y = make_sign_data(120)
    clf = RNNClassifier(
        hidden_layer_sizes=(8,),
        max_iter=30,
        batch_size=20,
        warm_start=True,
        random_state=0,
    )
    clf.fit(X, y)
    first_curve = list(clf.loss_curve_)
    theta_1 = flat_params(clf)

    # a second fit with a negligible step size barely moves the weights
    clf.set_params(max_iter=1, learning_rate_init=1e-9)
    clf.fit(X, y)
    np.testing.assert_allclose(flat_params(clf), theta_1, rtol=0, atol=1e-6)

    # and resumes training at the low loss reached by the first fit
    clf.set_params(max_iter=5, learning_rate_init=0.01)
    clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert len(clf.loss_curve_) == len(first_curve) + 1 + 5
    assert clf.loss_curve_[len(first_curve)] < 0.5 * first_curve[0]

    # without warm_start, the same call starts afresh
    cold = RNNClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=1).fit(X, y)
    assert cold.loss_curve_[0] > 2 * clf.loss_curve_[len(first_curve)]


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_warm_start_rejects_architecture_change(Est):
    X, _ = make_sign_data(40)
    y = targets_for(Est, X)
    est = Est(hidden_layer_sizes=(4,), max_iter=2, warm_start=True, random_state=0).fit(
        X, y
    )
    est.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.fit(X, y)


# ----------------------------------------------------------------------
# Early stopping, convergence, verbosity
# ----------------------------------------------------------------------
class _SplitSpy:
    """Wraps train_test_split to record the validation indices."""

    def __init__(self, func):
        self.func = func
        self.calls = []

    def __call__(self, *args, **kwargs):
        out = self.func(*args, **kwargs)
        self.calls.append(out)
        return out


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_attributes(Est):
    X, y = make_sign_data(80)
    if Est is RNNRegressor:
        y = X[:, :, 0].mean(axis=1)
    if Est is RNNTransformer:
        y = None  # the held-out score is minus the next-step loss
    est = Est(
        hidden_layer_sizes=(6,),
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=25,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    assert isinstance(est.validation_scores_, list)
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None
    # no early stopping: the reverse
    plain = clone(est).set_params(early_stopping=False).fit(X, y)
    assert plain.validation_scores_ is None
    assert plain.best_validation_score_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)


def test_partial_fit_rejects_early_stopping():
    X, y = make_sign_data(40)
    with pytest.raises(ValueError, match="early_stopping"):
        RNNClassifier(early_stopping=True, **SMALL).partial_fit(X, y, classes=[0, 1])


def test_early_stopping_restores_best_weights(monkeypatch):
    spy = _SplitSpy(recurrent_module.train_test_split)
    monkeypatch.setattr(recurrent_module, "train_test_split", spy)
    X, y = make_regression_data(100)
    reg = RNNRegressor(
        cell="rnn",
        hidden_layer_sizes=(8,),
        early_stopping=True,
        validation_fraction=0.3,
        solver="sgd",
        learning_rate_init=0.05,
        batch_size=10,
        max_iter=60,
        n_iter_no_change=4,
        tol=1e-3,
        random_state=0,
    ).fit(X, y)
    assert len(spy.calls) == 1
    _, idx_val = spy.calls[0]
    assert len(idx_val) == 30
    # the precondition that makes the test meaningful: the last epoch is not the best
    assert reg.n_iter_ < 60
    assert reg.validation_scores_[-1] < reg.best_validation_score_
    score = r2_score(y[idx_val], reg.predict(X[idx_val]))
    assert score == pytest.approx(reg.best_validation_score_, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
def test_early_stopping_with_pandas_series_y(Est):
    """y as a Series with a non-default index (as after a split) acts as an array."""
    pd = pytest.importorskip("pandas")
    X, y = make_sign_data(60)
    if Est is RNNRegressor:
        y = X[:, :, 0].mean(axis=1)
    params = dict(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=6,
        n_iter_no_change=100,
        random_state=0,
    )
    ref = Est(**params).fit(X, y)
    index = np.random.RandomState(0).permutation(60) + 1000
    est = Est(**params).fit(X, pd.Series(y, index=index))
    np.testing.assert_array_equal(est.validation_scores_, ref.validation_scores_)
    np.testing.assert_array_equal(output_of(est, X), output_of(ref, X))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_convergence_warning_at_max_iter(Est):
    X, _ = make_sign_data(40)
    est = Est(hidden_layer_sizes=(4,), max_iter=2, n_iter_no_change=100, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\)"):
        est.fit(X, targets_for(Est, X))
    assert est.n_iter_ == 2


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_one_line_per_epoch(capsys, early_stopping):
    X, y = make_sign_data(60)
    RNNClassifier(
        hidden_layer_sizes=(4,),
        max_iter=4,
        n_iter_no_change=100,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        verbose=True,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    for epoch, line in enumerate(lines, start=1):
        assert f"Epoch {epoch}" in line
        assert "loss" in line
        assert "time" in line
        assert ("validation score" in line) == early_stopping


def test_not_verbose_prints_nothing(capsys):
    X, y = make_sign_data(40)
    RNNClassifier(**SMALL).fit(X, y)
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------
# Sample and class weights, gradient clipping
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_unit_sample_weight_equals_no_weight(Est):
    X, _ = make_sign_data(50)
    y = targets_for(Est, X)
    params = dict(hidden_layer_sizes=(5,), max_iter=4, batch_size=16, random_state=0)
    a = Est(**params).fit(X, y)
    b = Est(**params).fit(X, y, sample_weight=np.ones(50))
    np.testing.assert_array_equal(flat_params(a), flat_params(b))
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_sample_weight_changes_the_model(Est):
    X, _ = make_sign_data(50)
    y = targets_for(Est, X)
    params = dict(hidden_layer_sizes=(5,), max_iter=4, batch_size=16, random_state=0)
    a = Est(**params).fit(X, y)
    sw = np.random.RandomState(0).uniform(0.1, 3, size=50)
    b = Est(**params).fit(X, y, sample_weight=sw)
    assert not np.allclose(flat_params(a), flat_params(b))


def test_class_weight():
    X, y = make_sign_data(120)
    # imbalanced: keep a third of the positives
    keep = (y == 0) | (np.arange(120) % 3 == 0)
    X, y = X[keep], y[keep]
    assert np.bincount(y)[0] > 1.5 * np.bincount(y)[1]
    params = dict(hidden_layer_sizes=(5,), max_iter=5, batch_size=20, random_state=0)
    plain = RNNClassifier(**params).fit(X, y)
    balanced = RNNClassifier(class_weight="balanced", **params).fit(X, y)
    weighted = RNNClassifier(class_weight={0: 1.0, 1: 3.0}, **params).fit(X, y)
    assert not np.allclose(flat_params(plain), flat_params(balanced))
    assert not np.allclose(flat_params(plain), flat_params(weighted))
    assert not np.allclose(flat_params(balanced), flat_params(weighted))
    # class weights act as sample weights
    sw_balanced = compute_sample_weight("balanced", y)
    via_sw = RNNClassifier(**params).fit(X, y, sample_weight=sw_balanced)
    np.testing.assert_array_equal(flat_params(balanced), flat_params(via_sw))
    via_sw = RNNClassifier(**params).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(flat_params(weighted), flat_params(via_sw))
    # class_weight and sample_weight multiply
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    both = RNNClassifier(class_weight={0: 1.0, 1: 3.0}, **params).fit(
        X, y, sample_weight=sw
    )
    via_sw = RNNClassifier(**params).fit(
        X, y, sample_weight=sw * np.where(y == 1, 3.0, 1.0)
    )
    np.testing.assert_array_equal(flat_params(both), flat_params(via_sw))


def test_class_weight_balanced_rejected_by_partial_fit():
    X, y = make_sign_data(40)
    clf = RNNClassifier(class_weight="balanced", **SMALL)
    with pytest.raises(ValueError, match="balanced"):
        clf.partial_fit(X, y, classes=[0, 1])
    # a dict is fine
    RNNClassifier(class_weight={0: 1.0, 1: 2.0}, **SMALL).partial_fit(
        X, y, classes=[0, 1]
    )


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_clip_norm(Est):
    X, _ = make_sign_data(40)
    y = targets_for(Est, X)
    unclipped = Est(clip_norm=None, **SMALL).fit(X, y)
    clipped = Est(clip_norm=1e-4, **SMALL).fit(X, y)
    assert not np.allclose(flat_params(unclipped), flat_params(clipped))
    # a huge norm never clips
    huge = Est(clip_norm=1e12, **SMALL).fit(X, y)
    np.testing.assert_array_equal(flat_params(unclipped), flat_params(huge))


# ----------------------------------------------------------------------
# Hyper-parameter validation
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "param, value",
    [
        ("clip_norm", 0),
        ("clip_norm", -1.0),
        ("activation", "sigmoid"),
        ("cell", "transformer"),
        ("solver", "lbfgs"),
        ("alpha", -1),
        ("learning_rate_init", 0),
        ("hidden_layer_sizes", 0),
        ("max_iter", 0),
        ("batch_size", 0),
        ("validation_fraction", 1.0),
        ("momentum", 1.5),
        ("learning_rate", "optimal"),
    ],
)
def test_invalid_hyperparameter_raises(Est, param, value):
    X, _ = make_sign_data(30)
    est = Est(**{param: value})
    with pytest.raises(InvalidParameterError, match=param):
        est.fit(X, targets_for(Est, X))


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("sizes", [(0,), (-1,), (4, 0), ()])
def test_invalid_hidden_layer_sizes_raises(Est, sizes):
    # Like MLPClassifier, entries of a tuple are checked in fit: a ValueError
    # (not the InvalidParameterError subclass) naming the parameter.
    X, _ = make_sign_data(30)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Est(hidden_layer_sizes=sizes).fit(X, targets_for(Est, X))


def test_invalid_class_weight_raises():
    X, y = make_sign_data(30)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        RNNClassifier(class_weight="auto").fit(X, y)


# ----------------------------------------------------------------------
# scikit-learn integration (3-D input)
# ----------------------------------------------------------------------
def _half(X):
    return X * 0.5


def test_pipeline():
    X, y = make_sign_data(120)
    params = dict(hidden_layer_sizes=(8,), max_iter=30, batch_size=20, random_state=0)
    pipe = Pipeline(
        [("scale", FunctionTransformer(_half)), ("rnn", RNNClassifier(**params))]
    ).fit(X[:80], y[:80])
    manual = RNNClassifier(**params).fit(X[:80] * 0.5, y[:80])
    np.testing.assert_array_equal(
        pipe.predict_proba(X[80:]), manual.predict_proba(X[80:] * 0.5)
    )
    assert pipe.score(X[80:], y[80:]) > 0.7


def test_pipeline_with_transformer():
    X, y = make_sign_data(100)
    pipe = Pipeline(
        [
            (
                "rnn",
                RNNTransformer(hidden_layer_sizes=(6,), max_iter=20, random_state=0),
            ),
            ("lr", LogisticRegression()),
        ]
    ).fit(X, y)
    assert pipe.predict(X).shape == (100,)
    assert pipe.named_steps["lr"].coef_.shape == (1, 6)


def test_grid_search():
    X, y = make_sign_data(60)
    grid = GridSearchCV(
        RNNClassifier(max_iter=10, random_state=0),
        {"hidden_layer_sizes": [(4,), (8,)], "learning_rate_init": [0.01, 0.05]},
        cv=2,
    ).fit(X, y)
    assert set(grid.best_params_) == {"hidden_layer_sizes", "learning_rate_init"}
    assert grid.best_params_["hidden_layer_sizes"] in [(4,), (8,)]
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    best = grid.best_estimator_
    assert best.hidden_layer_sizes == grid.best_params_["hidden_layer_sizes"]
    assert best.coef_.shape[0] == best.hidden_layer_sizes[0]
    np.testing.assert_array_equal(grid.predict(X), best.predict(X))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_clone(Est):
    X, _ = make_sign_data(30)
    est = Est(
        hidden_layer_sizes=(3, 2), alpha=0.1, clip_norm=None, max_iter=2, random_state=5
    )
    est.fit(X, targets_for(Est, X))
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "coef_")
    assert not hasattr(cloned, "n_iter_")
    assert not hasattr(cloned, "n_features_in_")


def _roundtrip_pickle(est):
    return pickle.loads(pickle.dumps(est))


def _roundtrip_joblib(est):
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    return joblib.load(buf)


ROUNDTRIPS = {
    "pickle": _roundtrip_pickle,
    "joblib": _roundtrip_joblib,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("how", list(ROUNDTRIPS))
def test_persistence_roundtrip(Est, how):
    X, _ = make_sign_data(40)
    y = targets_for(Est, X)
    est = Est(cell="rnn", hidden_layer_sizes=(5, 3), max_iter=3, random_state=0).fit(
        X, y
    )
    expected = output_of(est, X)
    params_before = flat_params(est)
    loaded = ROUNDTRIPS[how](est)
    np.testing.assert_array_equal(output_of(loaded, X), expected)
    np.testing.assert_array_equal(flat_params(loaded), params_before)
    if Est is RNNClassifier:
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    # the loaded model keeps training, and its parameter attributes follow
    w_hh = loaded.recurrent_params_[0]["weight_hh"]
    coef = loaded.coef_
    w_hh_before = w_hh.copy()
    if y is None:
        loaded.partial_fit(X)
    else:
        loaded.partial_fit(X, y)
    assert loaded.recurrent_params_[0]["weight_hh"] is w_hh
    assert not np.array_equal(w_hh, w_hh_before)
    assert not np.array_equal(output_of(loaded, X), expected)
    if Est is not RNNTransformer:
        # the outputs are computed from exactly these attributes
        h = reference_last_state(loaded, X)
        ref = h @ coef + loaded.intercept_
        np.testing.assert_allclose(
            output_of(loaded, X),
            ref.reshape(output_of(loaded, X).shape),
            rtol=1e-10,
            atol=1e-12,
        )
    else:
        np.testing.assert_allclose(
            output_of(loaded, X),
            reference_last_state(loaded, X),
            rtol=1e-10,
            atol=1e-12,
        )


@pytest.mark.parametrize("how", list(ROUNDTRIPS))
def test_persistence_leaves_original_intact(how):
    """Pickling or copying a fitted model must not change the original."""
    X, y = make_sign_data(40)
    est = RNNClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    attrs_before = set(vars(est))
    ROUNDTRIPS[how](est)
    assert set(vars(est)) == attrs_before
    assert len(est.recurrent_params_) == 1
    assert est.coef_.shape == (5, 1)
    assert est.intercept_.shape == (1,)


def test_cross_val_score_parallel():
    X, y = make_sign_data(60)
    scores = cross_val_score(
        RNNClassifier(hidden_layer_sizes=(6,), max_iter=15, random_state=0),
        X,
        y,
        cv=3,
        n_jobs=2,
    )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert np.all((scores >= 0) & (scores <= 1))
    serial = cross_val_score(
        RNNClassifier(hidden_layer_sizes=(6,), max_iter=15, random_state=0),
        X,
        y,
        cv=3,
        n_jobs=1,
    )
    np.testing.assert_array_equal(scores, serial)


# ----------------------------------------------------------------------
# 2-D DataFrame input
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_dataframe_sets_feature_names(Est):
    pd = pytest.importorskip("pandas")
    X, _ = make_sign_data(40, n_timesteps=6, n_features=1)
    X2 = X[:, :, 0]
    columns = [f"t{i}" for i in range(6)]
    df = pd.DataFrame(X2, columns=columns)
    est = Est(**SMALL).fit(df, targets_for(Est, X2))
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    assert est.n_features_in_ == 6
    np.testing.assert_array_equal(
        output_of(est, df), output_of(Est(**SMALL).fit(X2, targets_for(Est, X2)), X2)
    )
    # a 2-D array of another column count is refused
    with pytest.raises(ValueError, match="5 features"):
        with pytest.warns(UserWarning, match="feature names"):
            output_of(est, X2[:, :5])
    # a DataFrame with other columns is refused
    with pytest.raises(ValueError, match="feature names"):
        output_of(est, df.iloc[:, :5])


def test_ndarray_2d_has_no_feature_names():
    X, y = make_sign_data(40, n_features=1)
    clf = RNNClassifier(**SMALL).fit(X[:, :, 0], y)
    assert not hasattr(clf, "feature_names_in_")
    assert clf.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :4, 0])
