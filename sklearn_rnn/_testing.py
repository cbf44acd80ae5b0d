"""Helpers shared by the test modules (installed with the package so that the
tests also run against an installed wheel, from outside the source tree)."""

from ._recurrent import RNNClassifier, RNNRegressor


def output_of(est, X):
    """The real-valued output of a fitted estimator: logits for a classifier,
    predictions for a regressor, features for a transformer."""
    if isinstance(est, RNNClassifier):
        return est.decision_function(X)
    if isinstance(est, RNNRegressor):
        return est.predict(X)
    return est.transform(X)
