"""Sequences of different lengths, many-to-many models and long sequences.

* Ragged equivalence, the core guarantee: every sequence of a ragged batch
  gets exactly the outputs (and, at the network level, the gradients) it
  gets when passed alone, for every cell x direction x pooling.
* Sequence lengths not seen in training; ragged lists through Pipeline,
  GridSearchCV, cross_val_score and train_test_split; NaN padding.
* Many-to-many (pooling='sequence'): per-step targets, predictions, scores.
* Gradient clipping and truncated BPTT on sequences long enough to explode.
* Dropout, and a digits-as-sequences task for every cell and direction.

Everything is small (tiny networks, few epochs) so the file runs in well
under a minute and a half on two cores.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._kernels._rnn_fast import ACTIVATIONS
from sklearn_rnn._network import CELLS as CELL_ADAPTERS
from sklearn_rnn._network import RecurrentNetwork
from sklearn_rnn.exceptions import DivergenceWarning

CELLS = ("rnn", "lstm", "gru")
POOLINGS = ("last", "mean", "max", "sequence")
ESTIMATORS = (RNNClassifier, RNNRegressor, RNNTransformer)
#: Lengths of the ragged test batches: the longest first, a single step in
#: the middle.
LENGTHS = (7, 3, 1, 5)
RTOL, ATOL = 1e-10, 1e-12


# ----------------------------------------------------------------------
# Data and helpers
# ----------------------------------------------------------------------
def ragged(lengths, n_features=2, seed=0):
    """A list of (T_i, n_features) float64 sequences."""
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(int(T), n_features)) for T in lengths]


def pad_time_major(seqs, fill=0.0):
    """(T_max, B, F) time-major batch padded with ``fill``, int32 lengths."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int32)
    X = np.full((lengths.max(), len(seqs), seqs[0].shape[1]), fill)
    for i, s in enumerate(seqs):
        X[: len(s), i] = s
    return X, lengths


def nan_padded(seqs):
    """The batch-first 3-D array of ``seqs`` with trailing all-NaN steps."""
    return np.ascontiguousarray(pad_time_major(seqs, fill=np.nan)[0].transpose(1, 0, 2))


def make_ragged_sign(n_samples, min_len=3, max_len=12, seed=0, margin=0.5):
    """Label = the sum of feature 0 over the (variable-length) sequence > 0.

    Sequences whose sum is within ``margin`` of 0 are dropped, so the task
    is learnable to high held-out accuracy.
    """
    rng = np.random.RandomState(seed)
    X, y = [], []
    while len(X) < n_samples:
        seq = rng.normal(size=(rng.randint(min_len, max_len + 1), 2))
        s = seq[:, 0].sum()
        if abs(s) > margin:
            X.append(seq)
            y.append(int(s > 0))
    return X, np.array(y)


def make_sign_data(n_samples, n_timesteps, seed=0, margin=0.5):
    """The same task with one length: a (n_samples, n_timesteps, 2) array."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(3 * n_samples, n_timesteps, 2))
    X = X[np.abs(X[:, :, 0].sum(axis=1)) > margin][:n_samples]
    assert X.shape[0] == n_samples
    return X, (X[:, :, 0].sum(axis=1) > 0).astype(np.int64)


def per_step_targets(seqs, kind, seed=0):
    """Per-step targets as a list of (T_i[, K]) arrays matching ``seqs``."""
    rng = np.random.RandomState(seed)
    if kind == "classes":
        # every class occurs (the longest sequence holds all three)
        return [np.arange(len(s)) % 3 for s in seqs]
    return [rng.normal(size=(len(s), 2)) for s in seqs]


def sequence_targets(Est, seqs, pooling, seed=0, bidirectional=False):
    """Targets for ``Est`` on ``seqs``: per sequence, or per step for 'sequence'.

    The transformer learns without y (next-step prediction) except when
    bidirectional, where that objective is refused: then it gets values.
    """
    if Est is RNNTransformer and not bidirectional:
        return None  # next-step prediction
    kind = "classes" if Est is RNNClassifier else "values"
    if pooling == "sequence":
        return per_step_targets(seqs, kind, seed)
    if kind == "classes":
        return np.arange(len(seqs)) % 3
    return np.random.RandomState(seed).normal(size=(len(seqs), 2))


def outputs_of(est):
    """The public outputs of a fitted estimator, by method name."""
    if isinstance(est, RNNClassifier):
        return {
            "decision_function": est.decision_function,
            "predict_proba": est.predict_proba,
            "predict_log_proba": est.predict_log_proba,
            "predict": est.predict,
        }
    if isinstance(est, RNNRegressor):
        return {"predict": est.predict}
    return {"transform": est.transform}


def randomize_weights(est, seed=0, scale=0.5):
    """Overwrite the fitted parameters in place with random ones (float64)."""
    rng = np.random.RandomState(seed)
    est._theta[...] = rng.normal(scale=scale, size=est._theta.shape)


def valid_steps(values, lengths):
    """Concatenate the valid steps of a (n, T, ...) array or list of arrays."""
    return np.concatenate([np.asarray(v)[:n] for v, n in zip(values, lengths)])


def layer_grads(net, grad):
    """Per layer and direction parameter gradients, PyTorch names."""
    return net.torch_layout(grad)


# ----------------------------------------------------------------------
# 1. Ragged equivalence: outputs
# ----------------------------------------------------------------------
@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_ragged_outputs_equal_sequences_alone(Est, cell, bidirectional, pooling):
    """Each sequence of a ragged batch gets the outputs it gets alone."""
    seqs = ragged(LENGTHS * 2, seed=1)
    est = Est(
        hidden_layer_sizes=(4, 3), cell=cell, bidirectional=bidirectional,
        pooling=pooling, max_iter=2, random_state=0,
    )  # fmt: skip
    est.fit(seqs, sequence_targets(Est, seqs, pooling, bidirectional=bidirectional))
    # random, larger weights than a 2-epoch fit: nothing is close to linear
    randomize_weights(est, seed=2)
    assert est._theta.dtype == np.float64
    for name, method in outputs_of(est).items():
        batch = method(seqs)
        assert len(batch) == len(seqs)
        if pooling == "sequence":
            # per-step outputs of a ragged batch: one array per sequence
            assert isinstance(batch, list), name
            assert [len(b) for b in batch] == [len(s) for s in seqs], name
        else:
            assert isinstance(batch, np.ndarray), name
        for i, seq in enumerate(seqs):
            alone = method([seq])
            alone_3d = method(seq[np.newaxis])
            if pooling == "sequence":
                # a single sequence has no padding: an (1, T_i, ...) array
                assert isinstance(alone, np.ndarray), name
                assert alone.shape[:2] == (1, len(seq)), name
            assert np.shape(batch[i]) == np.shape(alone[0]), name
            if name == "predict" and Est is RNNClassifier:  # labels: exact
                np.testing.assert_array_equal(batch[i], alone[0], err_msg=name)
                np.testing.assert_array_equal(batch[i], alone_3d[0], err_msg=name)
            else:
                np.testing.assert_allclose(
                    batch[i], alone[0], rtol=RTOL, atol=ATOL, err_msg=name
                )
                np.testing.assert_allclose(
                    batch[i], alone_3d[0], rtol=RTOL, atol=ATOL, err_msg=name
                )


# ----------------------------------------------------------------------
# 1. Ragged equivalence: gradients (network level)
# ----------------------------------------------------------------------
def _ragged_gradient_check(cell, activation, bidirectional, pooling, bptt_steps):
    """Gradient of L = sum_i sum(R_i * Z_i) on the padded batch vs the sum of
    the gradients of each sequence alone (same R_i, same parameters).

    The estimators' losses are means over the mini-batch, so this is done on
    the network: ``R`` is a random cotangent of the outputs, zero on padded
    steps for pooling='sequence' (those steps are not part of any sequence).
    """
    rng = np.random.RandomState(0)
    net = RecurrentNetwork(
        2, (4, 3), 3, cell=cell, activation=activation,
        bidirectional=bidirectional, pooling=pooling,
    )  # fmt: skip
    theta = rng.normal(scale=0.5, size=net.size)
    seqs = ragged(LENGTHS, seed=3)
    X, lengths = pad_time_major(seqs)
    Z, cache = net.forward(theta, X, lengths, 1)
    R = rng.normal(size=Z.shape)
    if pooling == "sequence":
        R *= (np.arange(X.shape[0])[:, None] < lengths[None, :])[:, :, None]
    grad_batch = np.full_like(theta, np.nan)
    net.backward(theta, cache, R, grad_batch, 1, bptt_steps=bptt_steps)

    grad_sum = np.zeros_like(theta)
    for i, seq in enumerate(seqs):
        Xi = np.ascontiguousarray(seq[:, np.newaxis, :])
        Li = lengths[i : i + 1].copy()
        Zi, cache_i = net.forward(theta, Xi, Li, 1)
        if pooling == "sequence":
            Ri = np.ascontiguousarray(R[: len(seq), i : i + 1])
            np.testing.assert_allclose(Zi[:, 0], Z[: len(seq), i], rtol=RTOL, atol=ATOL)
        else:
            Ri = R[i : i + 1].copy()
            np.testing.assert_allclose(Zi[0], Z[i], rtol=RTOL, atol=ATOL)
        grad_i = np.full_like(theta, np.nan)
        net.backward(theta, cache_i, Ri, grad_i, 1, bptt_steps=bptt_steps)
        grad_sum += grad_i
    assert np.all(np.isfinite(grad_batch))
    # per tensor, for a readable failure
    for layer, (gb, gs) in enumerate(
        zip(layer_grads(net, grad_batch), layer_grads(net, grad_sum))
    ):
        for name in gb:
            np.testing.assert_allclose(
                gb[name], gs[name], rtol=RTOL, atol=ATOL, err_msg=f"{layer}.{name}"
            )
    np.testing.assert_allclose(grad_batch, grad_sum, rtol=RTOL, atol=ATOL)


CELL_ACTIVATIONS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell, activation", CELL_ACTIVATIONS)
def test_ragged_gradients_equal_sum_of_sequences_alone(
    cell, activation, bidirectional, pooling
):
    _ragged_gradient_check(cell, activation, bidirectional, pooling, bptt_steps=0)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_ragged_truncated_gradients_equal_sum_of_sequences_alone(
    cell, bidirectional, pooling
):
    """Truncated BPTT windows are counted per sequence ("a sequence is
    truncated the same way alone or in a padded batch"): with bptt_steps=3
    and lengths 7, 3, 1, 5, window starts (t = 3, 6) fall on padded steps."""
    _ragged_gradient_check(cell, "tanh", bidirectional, pooling, bptt_steps=3)


@pytest.mark.parametrize("bptt_steps", [None, 3])
@pytest.mark.parametrize("cell", CELLS)
def test_estimator_ragged_batch_gradient_is_mean_of_sequence_gradients(
    cell, bptt_steps
):
    """What training sees: the estimator's mini-batch loss is the mean over
    its sequences (no L2 penalty, no clipping), so the gradient of a padded
    ragged mini-batch is the mean of the gradients of its sequences alone."""
    seqs = ragged(LENGTHS, seed=6)
    y = np.array([0, 1, 2, 1])
    clf = RNNClassifier(hidden_layer_sizes=(4,), cell=cell, alpha=0.0,
                        clip_norm=None, bptt_steps=bptt_steps, max_iter=1,
                        random_state=0).fit(seqs, y)  # fmt: skip
    randomize_weights(clf, seed=3)
    Y = clf._label_binarizer.transform(y).astype(np.float64)
    X, lengths = pad_time_major(seqs)
    g_batch = np.full_like(clf._theta, np.nan)
    loss = clf._loss_grad(clf._theta, g_batch, X, lengths, Y, None)
    g_mean = np.zeros_like(clf._theta)
    loss_mean = 0.0
    for i, seq in enumerate(seqs):
        g_i = np.full_like(clf._theta, np.nan)
        loss_mean += clf._loss_grad(
            clf._theta, g_i, np.ascontiguousarray(seq[:, np.newaxis]),
            lengths[i : i + 1].copy(), Y[i : i + 1], None,
        ) / len(seqs)  # fmt: skip
        g_mean += g_i / len(seqs)
    assert loss == pytest.approx(loss_mean, rel=1e-12)
    np.testing.assert_allclose(g_batch, g_mean, rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------
# 2. Sequence lengths never seen in training
# ----------------------------------------------------------------------
@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_lengths_not_seen_in_training(Est, pooling):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 5, 2))
    if Est is RNNTransformer:
        y = None
    elif pooling == "sequence":
        y = (X[:, :, 0] > 0).astype(int) if Est is RNNClassifier else X[:, :, 0]
    else:
        y = np.arange(24) % 2 if Est is RNNClassifier else X[:, :, 0].sum(axis=1)
    est = Est(hidden_layer_sizes=(5,), pooling=pooling, max_iter=3, random_state=0)
    est.fit(X, y)
    for name, method in outputs_of(est).items():
        if name in ("predict_proba", "predict_log_proba"):
            shape_tail = (2,)  # two classes
        elif name == "transform":
            shape_tail = (5,)  # hidden units
        else:
            shape_tail = ()
        for T in (9, 2):
            X_new = np.random.RandomState(T).normal(size=(6, T, 2))
            out = method(X_new)
            steps = (6, T) if pooling == "sequence" else (6,)
            expected = steps + shape_tail
            assert isinstance(out, np.ndarray), (name, T)
            assert out.shape == expected, (name, T)
            if name != "predict" or Est is RNNRegressor:
                assert np.all(np.isfinite(out)), (name, T)
            # the same as the sequences one by one
            for i in range(6):
                np.testing.assert_allclose(
                    np.asarray(out[i], dtype=float),
                    np.asarray(method(X_new[i : i + 1])[0], dtype=float),
                    rtol=RTOL, atol=ATOL,
                )  # fmt: skip
        seqs = ragged((9, 2, 5, 1), seed=5)
        out = method(seqs)
        assert len(out) == 4
        for i, seq in enumerate(seqs):
            if pooling == "sequence":
                assert np.shape(out[i]) == (len(seq),) + shape_tail
            else:
                assert np.shape(out[i]) == shape_tail
            np.testing.assert_allclose(
                np.asarray(out[i], dtype=float),
                np.asarray(method([seq])[0], dtype=float),
                rtol=RTOL, atol=ATOL,
            )  # fmt: skip


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_learned_task_generalises_to_other_lengths(pooling):
    """Trained on T=5 only; the sign of the sum is still found at T=9 and 2."""
    X, y = make_sign_data(300, 5, seed=0)
    clf = RNNClassifier(
        cell="rnn", hidden_layer_sizes=(8,), pooling=pooling, max_iter=40,
        batch_size=30, random_state=0,
    )  # fmt: skip
    clf.fit(X, y)
    for T in (9, 2):
        X_new, y_new = make_sign_data(200, T, seed=100 + T)
        assert clf.score(X_new, y_new) > 0.85, T
    X_rag, y_rag = make_ragged_sign(200, min_len=1, max_len=10, seed=7)
    assert clf.score(X_rag, y_rag) > 0.85


# ----------------------------------------------------------------------
# 3. Ragged X through scikit-learn, without padding by the user
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ragged_sign_split():
    X, y = make_ragged_sign(300, seed=0)
    assert len({len(s) for s in X}) == 10  # lengths 3..12
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=100, random_state=0, stratify=y
    )
    return X, y, X_train, X_test, y_train, y_test


def test_train_test_split_on_list_of_sequences(ragged_sign_split):
    X, y, X_train, X_test, y_train, y_test = ragged_sign_split
    assert isinstance(X_train, list) and isinstance(X_test, list)
    assert len(X_train) == 200 and len(X_test) == 100
    assert len(y_train) == 200 and len(y_test) == 100
    # the split moves whole sequences, their labels with them
    by_id = {id(s): label for s, label in zip(X, y)}
    for part, labels in ((X_train, y_train), (X_test, y_test)):
        assert all(isinstance(s, np.ndarray) and s.ndim == 2 for s in part)
        assert [by_id[id(s)] for s in part] == list(labels)
    assert len({id(s) for s in X_train} | {id(s) for s in X_test}) == 300


def test_pipeline_on_ragged_sequences(ragged_sign_split):
    _, _, X_train, X_test, y_train, y_test = ragged_sign_split
    pipe = make_pipeline(
        RNNTransformer(hidden_layer_sizes=(8,), max_iter=40, batch_size=20,
                       random_state=0),
        LogisticRegression(),
    )  # fmt: skip
    pipe.fit(X_train, y_train)
    assert pipe[0].n_features_in_ == 2
    assert pipe[0].transform(X_test).shape == (100, 8)
    assert pipe.predict(X_test).shape == (100,)
    assert pipe.score(X_test, y_test) > 0.85


def test_grid_search_over_cell_on_ragged_sequences(ragged_sign_split):
    _, _, X_train, X_test, y_train, y_test = ragged_sign_split
    grid = GridSearchCV(
        RNNClassifier(hidden_layer_sizes=(8,), max_iter=25, batch_size=20,
                      random_state=0),
        {"cell": list(CELLS)},
        cv=2,
    ).fit(X_train, y_train)  # fmt: skip
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 3
    assert np.all(scores > 0.75), scores
    assert grid.best_params_["cell"] in CELLS
    assert grid.best_estimator_.cell == grid.best_params_["cell"]
    np.testing.assert_array_equal(
        grid.predict(X_test), grid.best_estimator_.predict(X_test)
    )
    assert grid.score(X_test, y_test) > 0.85


def test_cross_val_score_on_ragged_sequences(ragged_sign_split):
    X, y = ragged_sign_split[:2]
    scores = cross_val_score(
        RNNClassifier(hidden_layer_sizes=(8,), cell="gru", max_iter=25,
                      batch_size=20, random_state=0),
        X, y, cv=3,
    )  # fmt: skip
    assert scores.shape == (3,)
    assert np.all(scores > 0.85), scores


# ----------------------------------------------------------------------
# 4. NaN padding
# ----------------------------------------------------------------------
@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_nan_padding_equals_ragged_list(Est, pooling):
    seqs = ragged(LENGTHS * 2, seed=4)
    X_nan = nan_padded(seqs)
    assert X_nan.shape == (8, 7, 2)
    y = sequence_targets(Est, seqs, pooling)
    y_nan = y
    if pooling == "sequence" and y is not None:
        # per-step targets as an array, NaN on the padded steps
        y_nan = np.full((8, 7) + np.shape(y[0])[1:], np.nan)
        for i, yi in enumerate(y):
            y_nan[i, : len(yi)] = yi
        if Est is RNNClassifier:
            y_nan = np.where(np.isnan(y_nan), 0, y_nan).astype(int)
    params = dict(hidden_layer_sizes=(4, 3), pooling=pooling, max_iter=3,
                  random_state=0)  # fmt: skip
    from_nan = Est(nan_padding=True, **params).fit(X_nan, y_nan)
    from_list = Est(**params).fit(seqs, y)
    # the same training data: the same model
    np.testing.assert_array_equal(from_nan._theta, from_list._theta)
    for name, method in outputs_of(from_nan).items():
        a = method(X_nan)
        b = method(seqs)
        c = getattr(from_list, name)(seqs)
        assert type(a) is type(b), name
        assert len(a) == len(b) == len(c) == 8
        for ai, bi, ci in zip(a, b, c):
            assert np.shape(ai) == np.shape(bi), name
            np.testing.assert_array_equal(ai, bi, err_msg=name)
            np.testing.assert_array_equal(ai, ci, err_msg=name)


def test_nan_padding_full_length_array_is_unchanged():
    X = np.random.RandomState(0).normal(size=(10, 4, 2))
    y = np.arange(10) % 2
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    a = RNNClassifier(nan_padding=True, **params).fit(X, y)
    b = RNNClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(a._theta, b._theta)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_nan_without_nan_padding_raises(Est):
    seqs = ragged(LENGTHS, seed=0)
    X_nan = nan_padded(seqs)
    y = sequence_targets(Est, seqs, "last")
    with pytest.raises(ValueError, match="NaN"):
        Est(max_iter=2).fit(X_nan, y)
    fitted = Est(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(seqs, y)
    for method in outputs_of(fitted).values():
        with pytest.raises(ValueError, match="NaN"):
            method(X_nan)


@pytest.mark.parametrize(
    "where",
    [
        "whole step in the middle",
        "one feature in the middle",
        "one feature of the last step",
        "one feature of the first step",
    ],
)
def test_nan_inside_a_sequence_raises_even_with_nan_padding(where):
    seqs = ragged(LENGTHS, seed=0)
    X_nan = nan_padded(seqs)
    clf = RNNClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0,
                        nan_padding=True).fit(X_nan, [0, 1, 0, 1])  # fmt: skip
    bad = X_nan.copy()
    if where == "whole step in the middle":
        bad[0, 3, :] = np.nan  # sequence 0 has 7 valid steps
    elif where == "one feature in the middle":
        bad[3, 2, 1] = np.nan
    elif where == "one feature of the last step":
        bad[0, 6, 0] = np.nan
    else:
        bad[1, 0, 0] = np.nan
    match = "NaN may only fill whole time steps at the end"
    with pytest.raises(ValueError, match=match):
        clf.predict(bad)
    with pytest.raises(ValueError, match=match):
        RNNClassifier(max_iter=2, nan_padding=True).fit(bad, [0, 1, 0, 1])


def test_all_nan_sequence_raises():
    seqs = ragged(LENGTHS, seed=0)
    X_nan = nan_padded(seqs)
    X_nan[2] = np.nan
    with pytest.raises(ValueError, match=r"X\[2\] is empty"):
        RNNRegressor(max_iter=2, nan_padding=True).fit(X_nan, [0.0, 1.0, 2.0, 3.0])
    reg = RNNRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0,
                       nan_padding=True).fit(seqs, [0.0, 1.0, 2.0, 3.0])  # fmt: skip
    with pytest.raises(ValueError, match=r"X\[2\] is empty"):
        reg.predict(X_nan)


# ----------------------------------------------------------------------
# 5. Many-to-many (pooling='sequence')
# ----------------------------------------------------------------------
def test_sequence_regressor_target_and_prediction_shapes():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 6, 2))
    seqs = ragged(LENGTHS * 3, seed=1)
    params = dict(hidden_layer_sizes=(4,), pooling="sequence", max_iter=2,
                  random_state=0)  # fmt: skip

    reg = RNNRegressor(**params).fit(X, rng.normal(size=(12, 6)))
    assert reg.n_outputs_ == 1
    assert reg.predict(X).shape == (12, 6)
    assert reg.predict(X[:, :4]).shape == (12, 4)
    out = reg.predict(seqs)
    assert isinstance(out, list)
    assert [o.shape for o in out] == [(len(s),) for s in seqs]

    reg = RNNRegressor(**params).fit(X, rng.normal(size=(12, 6, 3)))
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (12, 6, 3)
    out = reg.predict(seqs)
    assert [o.shape for o in out] == [(len(s), 3) for s in seqs]

    y_list = [rng.normal(size=len(s)) for s in seqs]
    reg = RNNRegressor(**params).fit(seqs, y_list)
    assert reg.n_outputs_ == 1
    out = reg.predict(seqs)
    assert isinstance(out, list)
    assert [o.shape for o in out] == [(len(s),) for s in seqs]
    assert reg.predict(X).shape == (12, 6)  # all of one length: an array

    y_list = [rng.normal(size=(len(s), 2)) for s in seqs]
    reg = RNNRegressor(**params).fit(seqs, y_list)
    assert reg.n_outputs_ == 2
    assert [o.shape for o in reg.predict(seqs)] == [(len(s), 2) for s in seqs]
    assert reg.predict(X).shape == (12, 6, 2)


def _cumsum_targets(seqs, scale=0.3):
    return [scale * np.cumsum(s[:, 0]) for s in seqs]


def _cumsum_3d(n_samples=300, T=8):
    X = np.random.RandomState(0).normal(size=(n_samples, T, 1))
    return X, 0.3 * np.cumsum(X[:, :, 0], axis=1)


SEQ_REG = dict(hidden_layer_sizes=(12,), pooling="sequence", max_iter=60,
               batch_size=25, random_state=0)  # fmt: skip


def test_sequence_regressor_learns_cumulative_sum():
    """y_t = 0.3 * (x_0 + ... + x_t), targets (n, T)."""
    X, y = _cumsum_3d()
    reg = RNNRegressor(**SEQ_REG).fit(X[:200], y[:200])
    pred = reg.predict(X[200:])
    assert pred.shape == (100, 8)
    assert r2_score(y[200:].ravel(), pred.ravel()) > 0.9
    assert reg.score(X[200:], y[200:]) > 0.9


def test_sequence_regressor_learns_cumulative_sum_multioutput():
    """The same task with two outputs per step, targets (n, T, 2)."""
    X, y = _cumsum_3d()
    Y = np.stack([y, -0.5 * y], axis=2)
    reg = RNNRegressor(**SEQ_REG).fit(X[:200], Y[:200])
    assert reg.n_outputs_ == 2
    pred = reg.predict(X[200:])
    assert pred.shape == (100, 8, 2)
    manual = r2_score(Y[200:].reshape(-1, 2), pred.reshape(-1, 2))
    assert manual > 0.9
    assert reg.score(X[200:], Y[200:]) > 0.9


def test_sequence_regressor_score_on_ragged_sequences():
    """score is the R^2 over the valid steps (padding excluded)."""
    rng = np.random.RandomState(0)
    seqs = [rng.normal(size=(T, 1)) for T in rng.randint(2, 11, size=300)]
    y = _cumsum_targets(seqs)
    reg = RNNRegressor(
        hidden_layer_sizes=(12,), pooling="sequence", max_iter=60, batch_size=25,
        random_state=0,
    ).fit(seqs[:200], y[:200])  # fmt: skip
    pred = reg.predict(seqs[200:])
    assert isinstance(pred, list)
    lengths = [len(s) for s in seqs[200:]]
    manual = r2_score(valid_steps(y[200:], lengths), valid_steps(pred, lengths))
    assert manual > 0.9
    assert reg.score(seqs[200:], y[200:]) == pytest.approx(manual, rel=1e-12)
    # a NaN-padded array with NaN targets on the padded steps: same score
    reg_nan = RNNRegressor(
        hidden_layer_sizes=(12,), pooling="sequence", max_iter=60, batch_size=25,
        random_state=0, nan_padding=True,
    )  # fmt: skip
    X_nan = nan_padded(seqs[:200])
    y_nan = np.full(X_nan.shape[:2], np.nan)
    for i, yi in enumerate(y[:200]):
        y_nan[i, : len(yi)] = yi
    reg_nan.fit(X_nan, y_nan)
    np.testing.assert_array_equal(reg_nan._theta, reg._theta)
    X_test_nan = nan_padded(seqs[200:])
    y_test_nan = np.full(X_test_nan.shape[:2], np.nan)
    for i, yi in enumerate(y[200:]):
        y_test_nan[i, : len(yi)] = yi
    assert reg_nan.score(X_test_nan, y_test_nan) == pytest.approx(manual, rel=1e-12)


def _step_labels(seqs):
    """'pos'/'neg'/'zero' per step: the sign of the running sum of feature 0."""
    labels = []
    for s in seqs:
        c = np.cumsum(s[:, 0])
        labels.append(np.where(c > 0.5, "pos", np.where(c < -0.5, "neg", "zero")))
    return labels


def test_sequence_classifier_string_labels_per_step():
    rng = np.random.RandomState(0)
    seqs = [rng.normal(size=(T, 2)) for T in rng.randint(1, 10, size=300)]
    y = _step_labels(seqs)
    clf = RNNClassifier(
        hidden_layer_sizes=(12,), pooling="sequence", max_iter=40, batch_size=25,
        random_state=0,
    ).fit(seqs[:200], y[:200])  # fmt: skip
    np.testing.assert_array_equal(clf.classes_, ["neg", "pos", "zero"])
    assert clf.n_outputs_ == 3
    test, y_test = seqs[200:], y[200:]
    lengths = [len(s) for s in test]
    pred = clf.predict(test)
    proba = clf.predict_proba(test)
    log_proba = clf.predict_log_proba(test)
    dec = clf.decision_function(test)
    for out in (pred, proba, log_proba, dec):
        assert isinstance(out, list)
        assert len(out) == 100
    for p, pr, lp, d, n in zip(pred, proba, log_proba, dec, lengths):
        assert p.shape == (n,)
        assert set(p) <= {"neg", "pos", "zero"}
        assert pr.shape == lp.shape == d.shape == (n, 3)
        assert np.all((pr >= 0) & (pr <= 1))
        np.testing.assert_allclose(pr.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(lp, np.log(pr), rtol=1e-9)
        np.testing.assert_array_equal(p, clf.classes_[np.argmax(pr, axis=1)])
    manual = accuracy_score(valid_steps(y_test, lengths), valid_steps(pred, lengths))
    assert manual > 0.85
    # score: accuracy over the valid steps only
    assert clf.score(test, y_test) == pytest.approx(manual, rel=1e-12)


def test_sequence_classifier_score_excludes_padding():
    """Per-step accuracy on a NaN-padded batch: padded steps carry junk
    labels and predictions and must not count."""
    rng = np.random.RandomState(1)
    seqs = [rng.normal(size=(T, 2)) for T in rng.randint(1, 9, size=120)]
    y = [(np.cumsum(s[:, 0]) > 0).astype(int) for s in seqs]
    X_nan = nan_padded(seqs)
    y_arr = np.zeros(X_nan.shape[:2], dtype=int)  # 0 on the padded steps
    for i, yi in enumerate(y):
        y_arr[i, : len(yi)] = yi
    clf = RNNClassifier(
        hidden_layer_sizes=(6,), pooling="sequence", max_iter=5, random_state=0,
        nan_padding=True,
    ).fit(X_nan, y_arr)  # fmt: skip
    lengths = [len(s) for s in seqs]
    pred = clf.predict(X_nan)
    assert isinstance(pred, list)
    manual = accuracy_score(valid_steps(y, lengths), valid_steps(pred, lengths))
    padded_too = accuracy_score(
        y_arr.ravel(), np.concatenate(
            [np.pad(p, (0, X_nan.shape[1] - len(p)), constant_values=1) for p in pred]
        )
    )  # fmt: skip
    assert manual != pytest.approx(padded_too)
    assert clf.score(X_nan, y_arr) == pytest.approx(manual, rel=1e-12)
    assert clf.score(seqs, y) == pytest.approx(manual, rel=1e-12)


def test_sequence_classifier_score_is_per_step_accuracy_on_3d_array():
    """All sequences of one length, binary per-step labels (n, T): score is
    the fraction of correct steps, not of correct whole sequences."""
    rng = np.random.RandomState(2)
    X = rng.normal(size=(60, 6, 2))
    y = (np.cumsum(X[:, :, 0], axis=1) > 0).astype(int)
    clf = RNNClassifier(hidden_layer_sizes=(6,), pooling="sequence", max_iter=5,
                        random_state=0).fit(X, y)  # fmt: skip
    pred = clf.predict(X)
    assert pred.shape == (60, 6)
    manual = float((pred == y).mean())
    assert clf.score(X, y) == pytest.approx(manual, rel=1e-12)


def test_sequence_targets_must_match_steps():
    seqs = ragged(LENGTHS, seed=0)
    X3 = np.random.RandomState(0).normal(size=(4, 5, 2))
    for Est, make in [
        (RNNRegressor, lambda n: np.zeros(n)),
        (RNNClassifier, lambda n: np.arange(n) % 2),
    ]:
        est = Est(pooling="sequence", max_iter=2)
        # one sequence's targets too short / too long
        bad = [make(len(s)) for s in seqs]
        bad[1] = make(len(seqs[1]) - 1)
        with pytest.raises(ValueError, match=r"y\[1\] needs one target per step"):
            est.fit(seqs, bad)
        bad[1] = make(len(seqs[1]) + 1)
        with pytest.raises(ValueError, match=r"y\[1\] needs one target per step"):
            est.fit(seqs, bad)
        # targets for fewer sequences than X has
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            est.fit(seqs, [make(len(s)) for s in seqs[:3]])
        # an array of the wrong number of steps, or one target per sequence
        with pytest.raises(ValueError, match="one target per time step"):
            est.fit(X3, np.stack([make(4)] * 4))
        with pytest.raises(ValueError, match="one target per time step"):
            est.fit(X3, make(4))


def test_sequence_classifier_rejects_class_weight():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 4, 2))
    y = (X[:, :, 0] > 0).astype(int)
    for class_weight in ("balanced", {0: 1.0, 1: 2.0}):
        clf = RNNClassifier(pooling="sequence", class_weight=class_weight, max_iter=2)
        with pytest.raises(ValueError, match="class_weight"):
            clf.fit(X, y)


def test_sequence_transformer_feeds_sequence_regressor_in_pipeline():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 8, 1))
    y = 0.3 * np.cumsum(X[:, :, 0], axis=1)
    tr_params = dict(hidden_layer_sizes=(10,), pooling="sequence", max_iter=40,
                     batch_size=25, random_state=0)  # fmt: skip
    reg_params = dict(hidden_layer_sizes=(6,), pooling="sequence", max_iter=20,
                      batch_size=25, random_state=0)  # fmt: skip
    pipe = make_pipeline(RNNTransformer(**tr_params), RNNRegressor(**reg_params))
    pipe.fit(X[:150], y[:150])
    # the transformer's output: the hidden-state sequence
    H = pipe[0].transform(X[150:])
    assert H.shape == (50, 8, 10)
    assert pipe[1].n_features_in_ == 10
    pred = pipe.predict(X[150:])
    assert pred.shape == (50, 8)
    # the same as chaining by hand
    tr = RNNTransformer(**tr_params).fit(X[:150], y[:150])
    reg = RNNRegressor(**reg_params).fit(tr.transform(X[:150]), y[:150])
    np.testing.assert_array_equal(pred, reg.predict(tr.transform(X[150:])))
    assert pipe.score(X[150:], y[150:]) > 0.8


def test_sequence_transformer_pipeline_on_ragged_sequences():
    rng = np.random.RandomState(0)
    seqs = [rng.normal(size=(T, 1)) for T in rng.randint(2, 11, size=200)]
    y = _cumsum_targets(seqs)
    tr = RNNTransformer(hidden_layer_sizes=(10,), pooling="sequence", max_iter=3,
                        random_state=0)  # fmt: skip
    # unsupervised: the hidden-state sequences, one array per sequence
    H = tr.fit(seqs).transform(seqs)
    assert isinstance(H, list)
    assert [h.shape for h in H] == [(len(s), 10) for s in seqs]
    # supervised per-step fit on ragged targets, then a library regressor on top
    pipe = make_pipeline(
        RNNTransformer(hidden_layer_sizes=(10,), pooling="sequence", max_iter=40,
                       batch_size=25, random_state=0),
        RNNRegressor(hidden_layer_sizes=(6,), pooling="sequence", max_iter=20,
                     batch_size=25, random_state=0),
    )  # fmt: skip
    pipe.fit(seqs[:150], y[:150])
    pred = pipe.predict(seqs[150:])
    assert isinstance(pred, list)
    assert [p.shape for p in pred] == [(len(s),) for s in seqs[150:]]
    lengths = [len(s) for s in seqs[150:]]
    assert r2_score(valid_steps(y[150:], lengths), valid_steps(pred, lengths)) > 0.8


@pytest.mark.parametrize("labels", ["int", "str"])
def test_sequence_transformer_per_step_class_labels(labels):
    """Per-step class labels train the transformer as a classifier (log-loss),
    as per-sequence labels do; three classes, given as (n, T) labels."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5, 2))
    y = np.digitize(np.cumsum(X[:, :, 0], axis=1), [-0.5, 0.5])  # 0, 1, 2
    if labels == "str":
        y = np.array(["a", "b", "c"])[y]
    tr = RNNTransformer(hidden_layer_sizes=(4,), pooling="sequence", max_iter=2,
                        random_state=0).fit(X, y)  # fmt: skip
    assert tr.out_activation_ == "softmax"
    assert tr.n_outputs_ == 3
    np.testing.assert_array_equal(tr.classes_, np.unique(y))
    assert tr.transform(X).shape == (30, 5, 4)


# ----------------------------------------------------------------------
# 6. Gradient clipping and truncated BPTT on long sequences
# ----------------------------------------------------------------------
def _long_regression_data(n_samples=40, T=200, scale=10.0):
    rng = np.random.RandomState(0)
    X = scale * rng.normal(size=(n_samples, T, 2))
    # the target depends on the first steps: gradients must cross ~200 steps
    y = X[:, :10, 0].mean(axis=1) / scale
    return X, y


EXPLODING = dict(
    hidden_layer_sizes=(8,), cell="rnn", activation="relu", solver="sgd",
    learning_rate_init=0.01, batch_size=10, max_iter=10, random_state=0,
)  # fmt: skip


def test_unprotected_training_explodes_on_long_sequences():
    """relu RNN, T=200, inputs of scale 10, plain SGD: without clipping or
    truncation the loss becomes non-finite (in epoch 9) and fit says so (a
    DivergenceWarning, and no stray NumPy warning on the way: warnings are
    errors here), keeping the weights of the epoch with the lowest loss."""
    X, y = _long_regression_data()
    reg = RNNRegressor(clip_norm=None, bptt_steps=None, **EXPLODING)
    with pytest.warns(DivergenceWarning, match="non-finite"):
        reg.fit(X, y)
    assert reg.n_iter_ < EXPLODING["max_iter"]
    assert np.all(np.isfinite(reg._theta))
    assert np.all(np.isfinite(reg.predict(X)))


def test_clip_norm_keeps_long_sequence_training_finite():
    X, y = _long_regression_data()
    reg = RNNRegressor(clip_norm=1.0, bptt_steps=None, **EXPLODING).fit(X, y)
    assert reg.n_iter_ == 10
    assert np.all(np.isfinite(reg.loss_curve_))
    assert np.isfinite(reg.loss_)
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert np.all(np.isfinite(reg._theta))
    assert np.all(np.isfinite(reg.predict(X)))


def _chaotic_tanh_regressor(X, y, gain=3.0):
    """An Elman tanh RNN whose recurrent weights are ``gain`` times the
    (orthogonal) initial ones: the states stay in [-1, 1] but the recurrence
    is chaotic, so the full-BPTT gradient grows exponentially with T.

    (A relu RNN with gain > 1 overflows already in the forward pass, which no
    truncation can fix; the chaotic tanh regime is where BPTT alone explodes.)
    """
    reg = RNNRegressor(
        hidden_layer_sizes=(16,), cell="rnn", activation="tanh", clip_norm=None,
        alpha=0.0, max_iter=1, learning_rate_init=1e-12, random_state=0,
    ).fit(X[:2], y[:2])  # fmt: skip
    reg._theta[...] = reg._net.init_params(np.random.RandomState(0), np.float64)
    reg.recurrent_params_[0]["weight_hh"][...] *= gain
    return reg


def _loss_and_grad_norm(est, X, y, bptt_steps):
    est.bptt_steps = bptt_steps
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    lengths = np.full(X.shape[0], X.shape[1], dtype=np.int32)
    grad = np.full_like(est._theta, np.nan)
    loss = est._loss_grad(est._theta, grad, X_tm, lengths, y.reshape(-1, 1), None)
    return loss, grad


def test_truncated_bptt_bounds_exploding_gradient():
    X, y = _long_regression_data(n_samples=20, scale=1.0)
    reg = _chaotic_tanh_regressor(X, y)
    loss_full, g_full = _loss_and_grad_norm(reg, X, y, None)
    loss_trunc, g_trunc = _loss_and_grad_norm(reg, X, y, 10)
    # the forward pass (and so the loss) is the same; only the gradient differs
    assert loss_full == loss_trunc
    assert np.isfinite(loss_full)
    assert np.all(np.isfinite(g_full)) and np.all(np.isfinite(g_trunc))
    norm_full, norm_trunc = np.linalg.norm(g_full), np.linalg.norm(g_trunc)
    assert norm_full > 1e10
    assert norm_trunc < 1e3
    assert norm_full / norm_trunc > 1e8
    # the output layer's gradient does not backpropagate through time at all
    _, coef_full, icpt_full = reg._net.unpack(g_full)
    _, coef_trunc, icpt_trunc = reg._net.unpack(g_trunc)
    np.testing.assert_array_equal(coef_full, coef_trunc)
    np.testing.assert_array_equal(icpt_full, icpt_trunc)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_bptt_steps_at_least_T_is_full_bptt(cell, bidirectional):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5, 6, 2))
    y = rng.normal(size=5)
    reg = RNNRegressor(hidden_layer_sizes=(4, 3), cell=cell,
                       bidirectional=bidirectional, max_iter=2, clip_norm=None,
                       random_state=0).fit(X, y)  # fmt: skip
    randomize_weights(reg, seed=1)
    loss_full, g_full = _loss_and_grad_norm(reg, X, y, None)
    for k in (6, 7, 100):
        loss_k, g_k = _loss_and_grad_norm(reg, X, y, k)
        assert loss_k == loss_full
        np.testing.assert_array_equal(g_k, g_full, err_msg=str(k))
    # and a real truncation does change it (the test is not vacuous)
    _, g_5 = _loss_and_grad_norm(reg, X, y, 5)
    assert not np.allclose(g_5, g_full)
    # fitting with bptt_steps >= T is fitting with full BPTT, bit for bit
    params = dict(hidden_layer_sizes=(4,), cell=cell, bidirectional=bidirectional,
                  max_iter=3, random_state=0)  # fmt: skip
    full = RNNRegressor(**params).fit(X, y)
    trunc = RNNRegressor(bptt_steps=6, **params).fit(X, y)
    np.testing.assert_array_equal(full._theta, trunc._theta)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_truncated_gradient_equals_last_window_alone(cell, bidirectional):
    """Many-to-one ('last'), one layer, T=13, bptt_steps=5.

    Windows of the forward direction: [0, 5), [5, 10), [10, 13). The loss
    L = sum(R * Z) reads only the final state, so the truncated gradient of
    the recurrent layer is the *full* BPTT gradient of the last window
    X[10:13] run alone from the carried state (h_9, and c_9 for the LSTM,
    taken from the forward pass of the whole sequence). For the reverse
    direction (bidirectional), windows count from the last step: [12..8],
    [7..3], [2..0]; the last window X[0:3] runs backwards from the state at
    step 3. Compared: every parameter gradient of the layer (via the cell
    adapters, which take an initial state) and the output layer's.
    """
    T, k, B, F, H = 13, 5, 3, 2, 4
    rng = np.random.RandomState(0)
    net = RecurrentNetwork(F, (H,), 2, cell=cell, activation="tanh",
                           bidirectional=bidirectional, pooling="last")  # fmt: skip
    theta = rng.normal(scale=0.5, size=net.size)
    X = rng.normal(size=(T, B, F))
    lengths = np.full(B, T, dtype=np.int32)
    Z, cache = net.forward(theta, X, lengths, 1)
    R = rng.normal(size=Z.shape)
    grad = np.full_like(theta, np.nan)
    net.backward(theta, cache, R, grad, 1, bptt_steps=k)

    layers, coef, _ = net.unpack(theta)
    glayers, gcoef, gintercept = net.unpack(grad)
    out = cache["outputs"][0]  # (T, B, D*H)
    dfeatures = R @ coef.T  # dL/d(pooled features), (B, D*H)
    adapter = CELL_ADAPTERS[cell]
    act = ACTIVATIONS["tanh"]
    windows = {0: (10, 13, 9), 1: (0, 3, 3)}  # direction: (start, stop, carried)
    for d in range(net.n_directions):
        start, stop, carried = windows[d]
        p = layers[0][d]
        h0 = np.ascontiguousarray(out[carried, :, d * H : (d + 1) * H])
        states0 = (h0,)
        if cell == "lstm":
            cells = cache["caches"][0][0][d][1]  # (T, B, H) cell states
            states0 = (h0, np.ascontiguousarray(cells[carried]))
        Xw = np.ascontiguousarray(X[start:stop])
        Tw = stop - start
        Lw = np.full(B, Tw, dtype=np.int32)
        out_w = np.empty((Tw, B, H))
        cache_w = adapter.forward(p, Xw, Lw, out_w, 0, states0, d == 1, act, 1)
        # the window alone reproduces the states of the full run
        np.testing.assert_allclose(
            out_w, out[start:stop, :, d * H : (d + 1) * H], rtol=RTOL, atol=ATOL
        )
        delta = np.zeros((Tw, B, H))
        if d == 0:
            delta[Tw - 1] = dfeatures[:, :H]
        else:
            delta[0] = dfeatures[:, H:]
        g_w = {name: np.full_like(v, np.nan) for name, v in p.items()}
        grad_states0 = tuple(np.empty((B, H)) for _ in states0)
        adapter.backward(p, g_w, Xw, Lw, out_w, 0, cache_w, states0, delta,
                         grad_states0, np.empty((0, 0, 0)), False, d == 1, act,
                         0, 1)  # fmt: skip
        for name in p:
            np.testing.assert_allclose(
                glayers[0][d][name], g_w[name], rtol=1e-9, atol=ATOL,
                err_msg=f"direction {d} {name}",
            )  # fmt: skip
    # the output layer reads the same final states
    features = net._pool(out, lengths, "last")
    np.testing.assert_allclose(gcoef, features.T @ R, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gintercept, R.sum(axis=0), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------
# 7. Dropout
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dropout_data():
    return make_ragged_sign(120, min_len=3, max_len=8, seed=3)


DROPOUT_PARAMS = dict(hidden_layer_sizes=(6, 5), max_iter=5, batch_size=20)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_dropout_same_random_state_identical(Est, dropout_data):
    X, y = dropout_data
    y = None if Est is RNNTransformer else (y if Est is RNNClassifier else y * 1.0)
    a = Est(dropout=0.3, random_state=7, **DROPOUT_PARAMS).fit(X, y)
    b = Est(dropout=0.3, random_state=7, **DROPOUT_PARAMS).fit(X, y)
    np.testing.assert_array_equal(a._theta, b._theta)
    assert a.loss_curve_ == b.loss_curve_
    for name, method in outputs_of(a).items():
        np.testing.assert_array_equal(method(X), getattr(b, name)(X), err_msg=name)
    # another seed, another model
    c = Est(dropout=0.3, random_state=8, **DROPOUT_PARAMS).fit(X, y)
    assert not np.allclose(a._theta, c._theta)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_dropout_changes_two_layer_model(Est, dropout_data):
    X, y = dropout_data
    y = None if Est is RNNTransformer else (y if Est is RNNClassifier else y * 1.0)
    plain = Est(dropout=0.0, random_state=0, **DROPOUT_PARAMS).fit(X, y)
    dropped = Est(dropout=0.3, random_state=0, **DROPOUT_PARAMS).fit(X, y)
    assert not np.allclose(plain._theta, dropped._theta)
    assert plain.loss_curve_ != dropped.loss_curve_
    out_plain = next(iter(outputs_of(plain).values()))(X)
    out_dropped = next(iter(outputs_of(dropped).values()))(X)
    assert not np.allclose(out_plain, out_dropped)


def test_dropout_has_no_effect_with_one_layer(dropout_data):
    X, y = dropout_data
    params = dict(hidden_layer_sizes=(6,), max_iter=5, batch_size=20, random_state=0)
    plain = RNNClassifier(dropout=0.0, **params).fit(X, y)
    dropped = RNNClassifier(dropout=0.5, **params).fit(X, y)
    np.testing.assert_array_equal(plain._theta, dropped._theta)


@pytest.mark.parametrize("pooling", ["last", "sequence"])
def test_no_dropout_at_inference(pooling, dropout_data):
    X, y = dropout_data
    if pooling == "sequence":
        y = [(np.cumsum(s[:, 0]) > 0).astype(int) for s in X]
    clf = RNNClassifier(dropout=0.5, pooling=pooling, random_state=0,
                        **DROPOUT_PARAMS).fit(X, y)  # fmt: skip
    first = clf.decision_function(X)
    second = clf.decision_function(X)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        np.concatenate([np.ravel(p) for p in clf.predict(X)]),
        np.concatenate([np.ravel(p) for p in clf.predict(X)]),
    )
    # exactly the network without dropout (no mask, no rescaling)
    X_tm, lengths = pad_time_major(X)
    Z, _ = clf._net.forward(clf._theta, X_tm, lengths, 1)
    if pooling == "sequence":
        expected = [Z[: n, i, 0] for i, n in enumerate(lengths)]
    else:
        expected = list(Z[:, 0])
    for a, e in zip(first, expected):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)
    # while a training-mode forward pass (dropout on) differs
    Z_drop, _ = clf._net.forward(clf._theta, X_tm, lengths, 1, dropout=0.5,
                                 random_state=np.random.RandomState(0))  # fmt: skip
    assert not np.allclose(Z_drop, Z)


def test_dropout_model_still_learns(ragged_sign_split):
    _, _, X_train, X_test, y_train, y_test = ragged_sign_split
    clf = RNNClassifier(hidden_layer_sizes=(8, 8), dropout=0.2, max_iter=30,
                        batch_size=20, random_state=0)  # fmt: skip
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.85


# ----------------------------------------------------------------------
# 8. Digits as sequences: every cell and direction
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_sequences():
    digits = load_digits()
    X = digits.images / 16.0  # (n, 8, 8): 8 rows of 8 pixels
    idx = np.random.RandomState(0).permutation(len(X))
    train, test = idx[:600], idx[600:900]
    return X[train], digits.target[train], X[test], digits.target[test]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_digits_as_sequences(cell, bidirectional, digits_sequences):
    X_train, y_train, X_test, y_test = digits_sequences
    clf = RNNClassifier(
        hidden_layer_sizes=(32,), cell=cell, bidirectional=bidirectional,
        max_iter=30, batch_size=50, random_state=0,
    ).fit(X_train, y_train)  # fmt: skip
    assert clf.n_features_in_ == 8
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    proba = clf.predict_proba(X_test)
    assert proba.shape == (300, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert clf.score(X_test, y_test) > 0.85


def test_bidirectional_next_step_objective_is_refused():
    """The reverse direction has already read the step it would predict."""
    with pytest.raises(ValueError, match="bidirectional"):
        RNNTransformer(bidirectional=True, max_iter=2).fit(ragged(LENGTHS))


@pytest.mark.parametrize("Est", [RNNClassifier, RNNTransformer])
def test_early_stopping_with_per_step_labels(Est):
    """The validation split is not stratified on per-step labels."""
    seqs = ragged(LENGTHS * 10, seed=3)
    y = per_step_targets(seqs, "classes", seed=0)
    est = Est(hidden_layer_sizes=(4,), pooling="sequence", early_stopping=True,
              max_iter=5, random_state=0)  # fmt: skip
    est.fit(seqs, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert 0 <= est.best_validation_score_ <= 1


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_workspace_reuse_equals_fresh_buffers(cell, pooling, bidirectional):
    """fit reuses one Workspace for every mini-batch (and gives the 'last'
    pooling gradient buffer back zeroed instead of refilling it): batch after
    batch of different lengths and sizes, loss and gradient equal those
    computed with fresh arrays."""
    from sklearn_rnn._network import Workspace

    clf = RNNClassifier(hidden_layer_sizes=(5, 4), cell=cell, pooling=pooling,
                        bidirectional=bidirectional, dropout=0.0, max_iter=1,
                        random_state=0).fit(ragged(LENGTHS, seed=2),
                                            [0, 1, 2, 1])  # fmt: skip
    randomize_weights(clf, seed=4)
    workspace = Workspace(clf._theta.dtype)
    # T=2, B=5 then T=3, B=3: the second batch fits in the buffer the first
    # gave back, and the first's last step lies under the second's step 1.
    # Shapes come back after the buffers grew (kept views must follow).
    batches = [(2, 2, 2, 2, 2), (3, 3, 3), (7, 3, 5, 2), (2, 4), (9, 9, 1), (3, 5, 2, 6),
               (2, 2, 2, 2, 2), (3, 3, 3), (3, 3, 3)]
    for step, lengths in enumerate(batches):
        seqs = ragged(list(lengths), seed=10 + step)
        X, L = pad_time_major(seqs)
        Y = np.eye(3)[np.arange(len(seqs)) % 3]
        g_ws, g_fresh = np.full_like(clf._theta, np.nan), np.full_like(clf._theta, np.nan)
        loss_ws = clf._loss_grad(clf._theta, g_ws, X, L, Y, None, workspace)
        loss_fresh = clf._loss_grad(clf._theta, g_fresh, X, L, Y, None)
        assert loss_ws == loss_fresh
        np.testing.assert_array_equal(g_ws, g_fresh)


def test_workspace_views_follow_their_buffer():
    """A kept view is handed out again for the same (key, shape), but not
    once its buffer has been replaced by a larger one."""
    from sklearn_rnn._network import Workspace

    ws = Workspace(np.float64)
    small = ws.empty("k", (2, 3))
    assert ws.empty("k", (2, 3)) is small
    small[...] = 7
    big = ws.empty("k", (4, 4))  # grows: a new buffer
    again = ws.empty("k", (2, 3))
    assert again is not small and np.shares_memory(again, big)
    big[...] = 5
    zero = ws.zeros("k", (2, 3))
    assert np.shares_memory(zero, big) and not zero.any()
    ws.zeroed("k", 6)
    big_again = ws.empty("k", (4, 4))
    assert big_again is big and big_again.base is big.base


def test_sequence_loss_needs_per_step_targets():
    """The network's training loss with pooling='sequence' reads the first
    steps of the targets: targets without a time axis, or with more steps
    than the batch, are refused instead of silently misread."""
    net = RecurrentNetwork(2, (3,), 1, cell="rnn", activation="tanh",
                           bidirectional=False, pooling="sequence")  # fmt: skip
    theta = np.random.RandomState(0).normal(size=net.size)
    X = np.zeros((4, 5, 2))
    lengths = np.full(5, 4, dtype=np.int32)
    grad = np.empty_like(theta)
    for Y in (np.zeros((5, 1)), np.zeros((6, 5, 1))):
        with pytest.raises(ValueError, match="pooling='sequence' needs targets"):
            net.loss_grad(theta, grad, X, lengths, Y, None, "squared_error", 1)
    loss = net.loss_grad(theta, grad, X, lengths, np.zeros((3, 5, 1)), None,
                         "squared_error", 1)  # fmt: skip
    assert np.isfinite(loss) and np.isfinite(grad).all()
