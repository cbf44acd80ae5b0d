"""Persistence: version stamps, corrupted and truncated pickles, joblib files.

A pickled model carries the sklearn-rnn version that wrote it (and a CRC-32
of its parameter vector); loading it with another version warns
(``InconsistentVersionWarning``), and a state that is incomplete, has a
parameter vector of the wrong shape or fails its checksum raises a
``ValueError`` naming the problem instead of giving a model that predicts
garbage.
"""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sklearn_rnn
import sklearn_rnn._validation as validation_module
from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer, SequenceScaler
from sklearn_rnn.exceptions import InconsistentVersionWarning

X = np.random.RandomState(0).normal(size=(30, 6, 2))
X_LIST = [X[i, : 2 + i % 5] for i in range(30)]
Y = {
    RNNClassifier: np.arange(30) % 3,
    RNNRegressor: X[:, :, 0].sum(axis=1),
    RNNTransformer: None,
}
ESTIMATORS = [RNNClassifier, RNNRegressor, RNNTransformer]


def fitted(Est, **params):
    params = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if Est is SequenceScaler:
            return SequenceScaler().fit(X_LIST)
        return Est(**params).fit(X_LIST, Y[Est])


def outputs(est, X=X_LIST):
    """Everything a fitted estimator computes from X."""
    if isinstance(est, RNNClassifier):
        return [est.predict_proba(X), est.predict(X)]
    if isinstance(est, RNNRegressor):
        return [est.predict(X)]
    return est.transform(X)


def assert_same_outputs(a, b):
    for u, v in zip(outputs(a), outputs(b), strict=True):
        np.testing.assert_array_equal(u, v)


ALL = ESTIMATORS + [SequenceScaler]


# ----------------------------------------------------------------------
# Version stamp
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ALL)
def test_pickle_stores_the_library_version(Est):
    est = fitted(Est)
    state = est.__getstate__()
    assert state["_sklearn_rnn_version"] == sklearn_rnn.__version__
    # the stamp is not an attribute of the live or the loaded estimator
    loaded = pickle.loads(pickle.dumps(est))  # same version: no warning
    assert not hasattr(est, "_sklearn_rnn_version")
    assert not hasattr(loaded, "_sklearn_rnn_version")
    assert not hasattr(loaded, "_theta_crc32")
    assert_same_outputs(loaded, est)


@pytest.mark.parametrize("Est", ALL)
def test_loading_another_version_warns(Est, monkeypatch):
    est = fitted(Est)
    monkeypatch.setattr(validation_module, "__version__", "0.0.1")
    data = pickle.dumps(est)  # written by "0.0.1"
    monkeypatch.undo()
    with pytest.warns(
        InconsistentVersionWarning, match="from sklearn-rnn version 0.0.1"
    ) as rec:
        loaded = pickle.loads(data)
    w = rec[0].message
    assert w.estimator_name == Est.__name__
    assert w.original_version == "0.0.1"
    assert w.current_version == sklearn_rnn.__version__
    assert_same_outputs(loaded, est)


def test_pickle_without_version_stamp_warns_unknown():
    est = fitted(RNNRegressor)
    state = est.__getstate__()
    del state["_sklearn_rnn_version"]
    new = RNNRegressor.__new__(RNNRegressor)
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        new.__setstate__(state)
    assert_same_outputs(new, est)


def test_unfitted_estimator_roundtrips_without_checks():
    est = RNNClassifier(hidden_layer_sizes=(3,), cell="lstm")
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert not hasattr(loaded, "_theta")


# ----------------------------------------------------------------------
# Corrupted and truncated pickles
# ----------------------------------------------------------------------
def _setstate(Est, state):
    new = Est.__new__(Est)
    new.__setstate__(state)
    return new


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("key", ["_theta", "_net", "n_outputs_", "_n_step_features"])
def test_state_missing_a_fitted_attribute_raises(Est, key):
    state = fitted(Est).__getstate__()
    del state[key]
    with pytest.raises(ValueError, match=f"incomplete \\(missing {key}\\)"):
        _setstate(Est, state)


@pytest.mark.parametrize(
    "Est, key",
    [(RNNClassifier, "classes_"), (RNNClassifier, "_label_binarizer"),
     (RNNRegressor, "_y_1d"), (RNNTransformer, "_target_kind")],
)  # fmt: skip
def test_state_missing_an_estimator_specific_attribute_raises(Est, key):
    state = fitted(Est).__getstate__()
    del state[key]
    with pytest.raises(ValueError, match=f"missing {key}"):
        _setstate(Est, state)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda t: t[:-1], r"shape \(110,\) and dtype float64, .*needs shape \(111,\)"),
        (lambda t: t.reshape(1, -1), r"shape \(1, 111\) and dtype float64"),
        (lambda t: t.astype(np.int64), r"shape \(111,\) and dtype int64"),
        (lambda t: list(t), r"shape \(111,\) and dtype <class 'list'>"),
    ],
    ids=["short", "2d", "int", "list"],
)
def test_state_with_wrong_parameter_vector_raises(corrupt, message):
    state = fitted(RNNClassifier).__getstate__()
    state["_theta"] = corrupt(state["_theta"])
    with pytest.raises(
        ValueError, match="corrupted: its parameter vector has " + message
    ):
        _setstate(RNNClassifier, state)


def test_state_with_wrong_network_object_raises():
    state = fitted(RNNClassifier).__getstate__()
    state["_net"] = {"size": state["_theta"].size}
    with pytest.raises(ValueError, match="corrupted \\(_net is a dict\\)"):
        _setstate(RNNClassifier, state)


def test_flipped_parameter_bytes_fail_the_checksum():
    est = fitted(RNNRegressor)
    data = bytearray(pickle.dumps(est))
    payload = est._theta.tobytes()
    start = bytes(data).find(payload)
    assert start > 0  # the parameters are stored verbatim in the pickle
    data[start + len(payload) // 2] ^= 0x10  # one flipped bit in one weight
    with pytest.raises(
        ValueError, match="corrupted: its parameters fail their checksum"
    ):
        pickle.loads(bytes(data))


def test_state_from_a_machine_of_other_endianness_loads():
    """A big-endian parameter vector (pickled on such a machine) passes its
    checksum and comes back in native byte order, which the kernels need."""
    est = fitted(RNNRegressor)
    state = est.__getstate__()
    swapped = state["_theta"].astype(state["_theta"].dtype.newbyteorder("S"))
    state["_theta"] = swapped
    state["_theta_crc32"] = validation_module._theta_checksum(swapped)
    loaded = _setstate(RNNRegressor, state)
    assert loaded._theta.dtype.isnative
    assert_same_outputs(loaded, est)


def test_non_finite_parameters_without_checksum_raise():
    state = fitted(RNNRegressor).__getstate__()
    del state["_theta_crc32"]  # e.g. a pickle from before the checksum
    state["_theta"] = state["_theta"].copy()
    state["_theta"][3] = np.nan
    with pytest.raises(ValueError, match="not all finite"):
        _setstate(RNNRegressor, state)


def test_scaler_state_checks():
    state = fitted(SequenceScaler).__getstate__()
    broken = dict(state)
    del broken["scale_"]
    with pytest.raises(ValueError, match="missing scale_"):
        _setstate(SequenceScaler, broken)
    broken = dict(state, mean_=np.zeros(5))
    with pytest.raises(ValueError, match=r"mean_ has shape \(5,\), expected \(2,\)"):
        _setstate(SequenceScaler, broken)


def test_truncated_pickle_raises_clear_error():
    """Every truncation of a pickle raises pickle's own clear error (data
    truncated / ran out of input); none gives a half-loaded model."""
    data = pickle.dumps(fitted(RNNClassifier))
    for n in range(0, len(data), 7):
        with pytest.raises((pickle.UnpicklingError, EOFError)):
            pickle.loads(data[:n])


def test_truncated_joblib_file_raises(tmp_path):
    """joblib files cut short raise (joblib's own errors, some terse, e.g.
    EOFError or 'EOF: reading array data') and never load a model."""
    path = tmp_path / "model.joblib"
    joblib.dump(fitted(RNNClassifier), path)
    data = path.read_bytes()
    for n in range(0, len(data), 37):
        path.write_bytes(data[:n])
        with pytest.raises(Exception):  # noqa: B017 - any error, but an error
            joblib.load(path)


# ----------------------------------------------------------------------
# joblib files
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", ALL)
@pytest.mark.parametrize("how", ["plain", "compress", "mmap"])
def test_joblib_dump_load_gives_identical_predictions(Est, how, tmp_path):
    est = fitted(Est)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path, compress=3 if how == "compress" else 0)
    loaded = joblib.load(path, mmap_mode="r" if how == "mmap" else None)
    assert type(loaded) is Est
    assert_same_outputs(loaded, est)
    np.testing.assert_array_equal(
        outputs(loaded, X_LIST[:1])[0], outputs(est, X_LIST[:1])[0]
    )
    if Est is not SequenceScaler:
        # the loaded model keeps training like the original (a memory-mapped
        # one on a writable copy of its parameters)
        y = Y[Est]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.partial_fit(X_LIST) if y is None else est.partial_fit(X_LIST, y)
            loaded.partial_fit(X_LIST) if y is None else loaded.partial_fit(X_LIST, y)
        assert_same_outputs(loaded, est)
