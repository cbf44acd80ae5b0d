"""Warnings raised by sklearn-rnn, public so that they can be caught or filtered.

Like :mod:`sklearn.exceptions`::

    import warnings
    from sklearn_rnn.exceptions import DivergenceWarning

    warnings.simplefilter("error", DivergenceWarning)  # make divergence fatal
"""

__all__ = ["DivergenceWarning", "InconsistentVersionWarning"]


class DivergenceWarning(UserWarning):
    """Training stopped because the loss or the weights became non-finite.

    Raised by ``fit`` when an epoch after the first one overflows (usually a
    learning rate that is too high, or unscaled input). Training stops at
    that epoch and the estimator keeps the weights of the finished epoch
    with the lowest training loss, so it stays usable; ``n_iter_`` counts the
    finished epochs. When the first epoch of a call already diverges there is
    nothing to keep: ``fit`` and ``partial_fit`` raise ``ValueError`` instead
    and leave the weights as they were before the call.

    Not a subclass of :class:`~sklearn.exceptions.ConvergenceWarning`, which
    is often silenced: a diverged fit deserves to be seen.
    """


class InconsistentVersionWarning(UserWarning):
    """A model is unpickled with another sklearn-rnn version than it was pickled with.

    Pickles carry the sklearn-rnn version that wrote them; loading one with
    a different version may break or give different results (the scikit-learn
    counterpart is :class:`sklearn.exceptions.InconsistentVersionWarning`).

    Parameters
    ----------
    estimator_name : str
        Class name of the unpickled estimator.

    current_version : str
        Version of sklearn-rnn doing the loading.

    original_version : str
        Version of sklearn-rnn that pickled the model ('unknown' when the
        pickle predates the version stamp).
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sklearn-rnn "
            f"version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or invalid "
            "results. Use at your own risk, or refit the model with this version."
        )
