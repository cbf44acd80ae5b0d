"""Preprocessing of sequences."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._compat import _fit_context
from ._validation import (
    _check_state_complete,
    _check_state_version,
    _is_sequence_list,
    _versioned_state,
    check_sequences,
)


class SequenceScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize each feature over all time steps of all sequences.

    The mean and standard deviation of a feature are taken over every valid
    step of every sequence (padding excluded), so that
    ``make_pipeline(SequenceScaler(), RNNClassifier())`` is the natural way to
    feed raw sequences to a recurrent network. Input and output have the same
    form: a 3-D array, a 2-D array of univariate sequences (one mean and
    scale for all its values), or a list of 2-D arrays of different lengths.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the mean.

    with_std : bool, default=True
        Divide by the standard deviation (features with zero variance are
        left unscaled).

    nan_padding : bool, default=False
        Read trailing all-NaN steps of a 3-D ``X`` as padding; they are left
        out of the statistics and stay NaN in the output.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each feature per step (n_features is 1 for 2-D input).

    var_ : ndarray of shape (n_features,)
        Variance of each feature per step.

    scale_ : ndarray of shape (n_features,)
        Divisor applied to each feature (1 where the variance is 0 or
        ``with_std=False``).

    n_samples_seen_ : int
        Number of valid time steps the statistics were computed from.

    n_features_in_ : int
        Features per time step for 3-D and list input; the number of columns
        for 2-D input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for tabular data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import SequenceScaler
    >>> X = [np.array([[1.0], [3.0]]), np.array([[5.0], [7.0], [9.0]])]
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_
    array([5.])
    >>> [x.ravel().round(3) for x in scaler.transform(X)]
    [array([-1.414, -0.707]), array([0.   , 0.707, 1.414])]
    """

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "nan_padding": ["boolean"],
    }

    def __init__(self, *, with_mean=True, with_std=True, nan_padding=False):
        self.with_mean = with_mean
        self.with_std = with_std
        self.nan_padding = nan_padding

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the per-feature mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        X3, lengths = check_sequences(self, X, reset=True, nan_padding=self.nan_padding)
        steps = X3[np.arange(X3.shape[1])[None, :] < lengths[:, None]]
        # Statistics in float64 whatever the input dtype, as StandardScaler.
        steps = steps.astype(np.float64)
        self.n_samples_seen_ = int(steps.shape[0])
        self.mean_ = steps.mean(axis=0)
        self.var_ = steps.var(axis=0)
        scale = np.sqrt(self.var_)
        scale[scale < 10 * np.finfo(np.float64).eps * np.maximum(1, np.abs(self.mean_))] = 1.0
        self.scale_ = scale if self.with_std else np.ones_like(scale)
        return self

    def transform(self, X):
        """Standardize ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences.

        Returns
        -------
        X_new : ndarray or list of ndarray
            Standardized sequences, in the form and dtype of ``X``.
        """
        return self._apply(X, lambda Z, mean, scale: (Z - mean) / scale)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Standardized sequences.

        Returns
        -------
        X_original : ndarray or list of ndarray
            Sequences in the original units, in the form of ``X``.
        """
        return self._apply(X, lambda Z, mean, scale: Z * scale + mean)

    def _apply(self, X, fn):
        check_is_fitted(self)
        is_list = _is_sequence_list(X)
        X3, lengths = check_sequences(self, X, reset=False, nan_padding=self.nan_padding)
        mean = (self.mean_ if self.with_mean else np.zeros_like(self.mean_)).astype(
            X3.dtype
        )
        out = fn(X3, mean, self.scale_.astype(X3.dtype))
        if is_list:
            return [out[i, :n] for i, n in enumerate(lengths)]
        if self.nan_padding and X3.ndim == 3 and getattr(X, "ndim", 3) == 3:
            out[np.arange(out.shape[1])[None, :] >= lengths[:, None]] = np.nan
        if getattr(X, "ndim", None) == 2 or (
            not hasattr(X, "ndim") and np.asarray(X).ndim == 2
        ):
            return out[:, :, 0]
        return out

    def __getstate__(self):
        return _versioned_state(super().__getstate__())

    def __setstate__(self, state):
        state = _check_state_version(self, dict(state))
        if "mean_" in state:
            _check_state_complete(self, state, ("mean_", "scale_", "_n_step_features"))
            n = state["_n_step_features"]
            for k in ("mean_", "scale_"):
                if np.shape(state[k]) != (n,):
                    raise ValueError(
                        "Cannot load this SequenceScaler: the pickled model is "
                        f"corrupted ({k} has shape {np.shape(state[k])}, expected "
                        f"({n},))."
                    )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags
