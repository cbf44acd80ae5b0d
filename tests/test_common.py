"""scikit-learn's own estimator checks, run on all three estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer, SequenceScaler

# Small networks and enough epochs to pass the checks' accuracy thresholds
# (check_classifiers_train needs > 0.83, check_regressors_train R2 > 0.5).
COMMON = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
# check_sample_weight_equivalence compares a weighted fit with a fit on
# repeated rows: equal up to rounding, but a rounding-level difference can flip
# the tol-based stopping decision and end the two fits at different epochs.
# These instances therefore train for exactly max_iter epochs, at a step size
# small enough that training on the check's random data stays non-chaotic
# (at 0.01 an LSTM amplified 1e-16 differences to 0.8 in 100 epochs).
FIXED_EPOCHS = dict(COMMON, n_iter_no_change=1000, learning_rate_init=0.005,
                    max_iter=60)  # fmt: skip
ESTIMATORS = [
    RNNClassifier(cell="rnn", **COMMON),
    RNNRegressor(cell="rnn", **COMMON),
    RNNTransformer(cell="rnn", **COMMON),
    RNNClassifier(**FIXED_EPOCHS),  # the default cell, GRU
    RNNRegressor(**dict(FIXED_EPOCHS, max_iter=200)),
    RNNTransformer(**FIXED_EPOCHS),
    RNNClassifier(cell="lstm", bidirectional=True, **FIXED_EPOCHS),
    RNNRegressor(cell="gru", pooling="mean", **dict(FIXED_EPOCHS, max_iter=200)),
    # dropout masks depend on the batch layout, so weighting differs from
    # repeating rows by design: dropout has its own tests (test_sequences.py).
    RNNTransformer(cell="gru", **dict(FIXED_EPOCHS, hidden_layer_sizes=(8, 8))),
    SequenceScaler(),
]


def expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
