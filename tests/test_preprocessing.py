"""SequenceScaler: per-feature standardisation over all valid steps."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNClassifier, SequenceScaler


def ragged(seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(loc=[5, -3], scale=[2, 0.5], size=(n, 2)) for n in (4, 1, 7)]


def test_statistics_over_valid_steps_only():
    X = ragged()
    scaler = SequenceScaler().fit(X)
    steps = np.concatenate(X)
    assert_allclose(scaler.mean_, steps.mean(axis=0))
    assert_allclose(scaler.scale_, steps.std(axis=0))
    assert scaler.n_samples_seen_ == 12
    out = scaler.transform(X)
    assert isinstance(out, list) and [o.shape for o in out] == [(4, 2), (1, 2), (7, 2)]
    assert_allclose(np.concatenate(out).mean(axis=0), 0, atol=1e-12)
    assert_allclose(np.concatenate(out).std(axis=0), 1)
    back = scaler.inverse_transform(out)
    for a, b in zip(back, X):
        assert_allclose(a, b)


def test_3d_and_nan_padding_match_ragged():
    X = ragged()
    padded = np.full((3, 7, 2), np.nan)
    for i, seq in enumerate(X):
        padded[i, : len(seq)] = seq
    scaler = SequenceScaler(nan_padding=True).fit(padded)
    reference = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, reference.mean_)
    out = scaler.transform(padded)
    assert out.shape == padded.shape
    assert_array_equal(np.isnan(out), np.isnan(padded))
    for i, seq in enumerate(reference.transform(X)):
        assert_allclose(out[i, : len(seq)], seq)
    assert_allclose(scaler.inverse_transform(out), padded)
    with pytest.raises(ValueError, match="NaN"):
        SequenceScaler().fit(padded)


def test_2d_univariate_and_dtype():
    X = np.random.RandomState(0).normal(3, 2, size=(10, 6)).astype(np.float32)
    scaler = SequenceScaler().fit(X)
    assert scaler.mean_.shape == (1,)
    out = scaler.transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert_allclose(out.mean(), 0, atol=1e-5)
    assert_allclose(scaler.inverse_transform(out), X, rtol=1e-5)
    with pytest.raises(ValueError, match="features"):
        scaler.transform(X[:, :4])


def test_constant_feature_and_options():
    X = np.ones((4, 3, 2))
    X[:, :, 1] = np.arange(12).reshape(4, 3)
    scaler = SequenceScaler().fit(X)
    assert scaler.scale_[0] == 1.0  # zero variance: left unscaled
    assert_allclose(SequenceScaler(with_mean=False).fit(X).transform(X)[..., 1],
                    X[..., 1] / X[..., 1].std())  # fmt: skip
    assert_allclose(SequenceScaler(with_std=False).fit(X).transform(X)[..., 1],
                    X[..., 1] - X[..., 1].mean())  # fmt: skip


def test_pipeline_with_raw_sequences():
    rng = np.random.RandomState(0)
    X = [rng.normal(loc=100, scale=50, size=(rng.randint(3, 9), 2)) for _ in range(120)]
    y = np.array([int(x[:, 0].mean() > 100) for x in X])
    model = make_pipeline(
        SequenceScaler(), RNNClassifier(hidden_layer_sizes=(8,), max_iter=60,
                                        random_state=0)
    )  # fmt: skip
    model.fit(X[:80], y[:80])
    assert model.score(X[80:], y[80:]) > 0.8
