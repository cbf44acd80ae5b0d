"""Property-based tests (hypothesis) over shapes, lengths, dtypes and layouts.

Every property draws a small network (cell, activation, stacked and
bidirectional layers, pooling) and a batch of sequences (3-D, univariate 2-D
or ragged; float32 or float64; C, Fortran, strided or read-only memory):

* outputs are finite and have the documented shapes and dtypes, and odd
  memory layouts give exactly the results of a C-contiguous array;
* each sequence of a ragged batch gets the outputs it gets alone;
* a float32 model with the weights of a float64 one agrees with it within
  float32 precision;
* SequenceScaler round-trips and ignores padding.

The profile is deterministic (``derandomize=True``) with a fixed number of
examples per test (``N_EXAMPLES``), so CI runs the same cases every time.
"""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_rnn import (  # noqa: E402
    RNNClassifier,
    RNNRegressor,
    RNNTransformer,
    SequenceScaler,
)

N_EXAMPLES = {"outputs": 40, "ragged": 30, "dtypes": 30, "scaler": 50}


def profile(name):
    return settings(
        max_examples=N_EXAMPLES[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ESTIMATORS = {"classifier": RNNClassifier, "regressor": RNNRegressor,
              "transformer": RNNTransformer}  # fmt: skip


@st.composite
def networks(draw, poolings=("last", "mean", "max", "sequence")):
    return dict(
        cell=draw(st.sampled_from(["rnn", "lstm", "gru"])),
        activation=draw(st.sampled_from(["tanh", "relu"])),
        hidden_layer_sizes=tuple(
            draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
        ),
        bidirectional=draw(st.booleans()),
        pooling=draw(st.sampled_from(poolings)),
    )


@st.composite
def batches(draw, forms=("3d", "2d", "ragged")):
    """(X, lengths): a 3-D array, a univariate 2-D array or a ragged list."""
    form = draw(st.sampled_from(forms))
    n = draw(st.integers(2, 6))
    F = 1 if form == "2d" else draw(st.integers(1, 3))
    scale = draw(st.sampled_from([0.01, 1.0, 5.0]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    if form == "ragged":
        lengths = draw(st.lists(st.integers(1, 7), min_size=n, max_size=n))
        return [scale * rng.normal(size=(T, F)) for T in lengths], np.array(lengths)
    T = draw(st.integers(1, 7))
    X = scale * rng.normal(size=(n, T, F))
    return (X[:, :, 0] if form == "2d" else X), np.full(n, T)


def targets(kind, lengths, pooling, seed=0):
    """Targets for a kind of estimator; per-step ones for pooling='sequence'."""
    rng = np.random.RandomState(seed)
    if kind == "transformer":
        return None
    if pooling != "sequence":
        n = len(lengths)
        return np.arange(n) % 2 if kind == "classifier" else rng.normal(size=n)
    if kind == "classifier":
        return [(np.arange(T) + i) % 2 for i, T in enumerate(lengths)]
    return [rng.normal(size=T) for T in lengths]


def fit(kind, params, X, lengths, **extra):
    """A fitted estimator; the transformer learns next steps where it can."""
    y = targets(kind, lengths, params["pooling"])
    if kind == "transformer" and (params["bidirectional"] or lengths.max() < 2):
        y = targets("regressor", lengths, params["pooling"])  # supervised instead
    est = ESTIMATORS[kind](max_iter=1, random_state=0, **params, **extra)
    if kind == "classifier" and params["pooling"] == "sequence" and lengths.sum() < 2:
        y = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y) if y is not None else est.fit(X)


def outputs(est, X):
    """The real-valued outputs of a fitted estimator, by method name."""
    if isinstance(est, RNNClassifier):
        return {"decision_function": est.decision_function(X),
                "predict_proba": est.predict_proba(X)}  # fmt: skip
    if isinstance(est, RNNRegressor):
        return {"predict": est.predict(X)}
    return {"transform": est.transform(X)}


def as_dtype(X, dtype):
    return [x.astype(dtype) for x in X] if isinstance(X, list) else X.astype(dtype)


def _strided(a):
    big = np.zeros((a.shape[0], 2 * a.shape[1]) + a.shape[2:], dtype=a.dtype)
    big[:, ::2] = a
    return big[:, ::2]


def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


LAYOUTS = {"C": np.ascontiguousarray, "F": np.asfortranarray, "strided": _strided,
           "readonly": _readonly}  # fmt: skip


def expected_width(est, kind):
    D = 2 if est.bidirectional else 1
    if kind == "transformer":
        return D * est.hidden_layer_sizes[-1]
    return est.n_outputs_


@profile("outputs")
@given(
    kind=st.sampled_from(sorted(ESTIMATORS)),
    params=networks(),
    batch=batches(),
    dtype=st.sampled_from([np.float32, np.float64]),
    layout=st.sampled_from(sorted(LAYOUTS)),
)
def test_outputs_are_finite_and_well_shaped(kind, params, batch, dtype, layout):
    X, lengths = batch
    X = as_dtype(X, dtype)
    if kind == "classifier" and params["pooling"] == "sequence" and lengths.sum() < 2:
        return  # a single step has a single class
    est = fit(kind, params, X, lengths)
    n = len(lengths)
    ragged = isinstance(X, list) and len(set(lengths)) > 1
    for name, out in outputs(est, X).items():
        if params["pooling"] == "sequence" and ragged:
            assert isinstance(out, list) and len(out) == n, name
            assert [len(o) for o in out] == list(lengths), name
            rows = np.concatenate([np.asarray(o).reshape(len(o), -1) for o in out])
        else:
            assert isinstance(out, np.ndarray), name
            lead = (n, lengths[0]) if params["pooling"] == "sequence" else (n,)
            assert out.shape[: len(lead)] == lead, name
            rows = out.reshape(int(np.prod(lead)), -1)
        assert np.all(np.isfinite(rows)), name
        assert rows.dtype == dtype, name
        width = expected_width(est, kind)
        if name == "predict_proba":
            width = max(2, width)
            np.testing.assert_allclose(rows.sum(axis=1), 1, rtol=1e-5)
        assert rows.shape[1] == width or (width == 1 and rows.shape[1] == 1), name
    # odd memory layouts: exactly the results of C-contiguous arrays
    odd = [LAYOUTS[layout](x) for x in X] if isinstance(X, list) else LAYOUTS[layout](X)
    for name, out in outputs(est, odd).items():
        ref = outputs(est, X)[name]
        if isinstance(ref, list):
            assert all(np.array_equal(a, b) for a, b in zip(out, ref)), name
        else:
            np.testing.assert_array_equal(out, ref, err_msg=name)


@profile("ragged")
@given(
    kind=st.sampled_from(sorted(ESTIMATORS)),
    params=networks(),
    batch=batches(forms=("ragged",)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_ragged_batch_equals_sequences_alone(kind, params, batch, dtype):
    X, lengths = batch
    X = as_dtype(X, dtype)
    if kind == "classifier" and params["pooling"] == "sequence" and lengths.sum() < 2:
        return
    est = fit(kind, params, X, lengths)
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-5, 1e-6)
    for name, batch_out in outputs(est, X).items():
        for i, seq in enumerate(X):
            alone = outputs(est, [seq])[name][0]
            np.testing.assert_allclose(
                np.asarray(batch_out[i]), alone, rtol=rtol, atol=atol, err_msg=name
            )


@profile("dtypes")
@given(
    kind=st.sampled_from(sorted(ESTIMATORS)),
    params=networks(),
    batch=batches(),
)
def test_float32_model_agrees_with_float64_model(kind, params, batch):
    """Same weights, float32 vs float64 arithmetic: within float32 precision."""
    X, lengths = batch
    if kind == "classifier" and params["pooling"] == "sequence" and lengths.sum() < 2:
        return
    est64 = fit(kind, params, X, lengths)
    est32 = fit(kind, params, as_dtype(X, np.float32), lengths)
    # copy the float64 weights into the float32 model through its public views
    for p32, p64 in zip(est32.recurrent_params_, est64.recurrent_params_):
        for k in p32:
            p32[k][...] = p64[k]
    est32.coef_[...] = est64.coef_
    est32.intercept_[...] = est64.intercept_
    out32, out64 = outputs(est32, as_dtype(X, np.float32)), outputs(est64, X)
    for name in out64:
        a, b = out32[name], out64[name]
        if isinstance(b, list):
            a, b = np.concatenate(a), np.concatenate(b)
        assert a.dtype == np.float32 and b.dtype == np.float64
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale, err_msg=name)


@profile("scaler")
@given(
    batch=batches(),
    dtype=st.sampled_from([np.float32, np.float64]),
    with_mean=st.booleans(),
    with_std=st.booleans(),
)
def test_scaler_roundtrip_and_padding(batch, dtype, with_mean, with_std):
    X, lengths = batch
    X = as_dtype(X, dtype)
    scaler = SequenceScaler(with_mean=with_mean, with_std=with_std).fit(X)
    Z = scaler.transform(X)
    back = scaler.inverse_transform(Z)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    if isinstance(X, list):
        assert isinstance(Z, list) and [len(z) for z in Z] == list(lengths)
        steps, Z_steps = np.concatenate(X), np.concatenate(Z)
        for x, b in zip(X, back):
            np.testing.assert_allclose(b, x, rtol=rtol, atol=rtol)
    else:
        assert Z.shape == X.shape
        steps, Z_steps = X.reshape(-1, 1 if X.ndim == 2 else X.shape[2]), Z
        np.testing.assert_allclose(back, X, rtol=rtol, atol=rtol)
    assert Z_steps.dtype == dtype and np.all(np.isfinite(Z_steps))
    Z_steps = np.asarray(Z_steps).reshape(steps.shape)
    if with_mean:  # every valid step counts, padding does not
        np.testing.assert_allclose(
            Z_steps.mean(axis=0), 0, atol=1e-3 if dtype == np.float32 else 1e-9
        )
    if isinstance(X, list) and len(set(lengths)) > 1:
        # the same sequences as a NaN-padded 3-D array: same statistics
        padded = np.full((len(X), lengths.max(), X[0].shape[1]), np.nan, dtype=dtype)
        for i, x in enumerate(X):
            padded[i, : len(x)] = x
        other = SequenceScaler(with_mean=with_mean, with_std=with_std, nan_padding=True)
        other.fit(padded)
        np.testing.assert_allclose(other.mean_, scaler.mean_, rtol=1e-12)
        np.testing.assert_allclose(other.scale_, scaler.scale_, rtol=1e-12)
