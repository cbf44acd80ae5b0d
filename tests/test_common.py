"""scikit-learn's own estimator checks, run on all three estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer

# Small networks and enough epochs to pass the checks' accuracy thresholds
# (check_classifiers_train needs > 0.83, check_regressors_train R2 > 0.5).
COMMON = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
ESTIMATORS = [
    RNNClassifier(**COMMON),
    RNNRegressor(**COMMON),
    RNNTransformer(**COMMON),
]


def expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
