"""Recurrent-network estimators: one shared base, three thin public classes.

``BaseRecurrent`` owns everything the estimators share: parameter validation,
input checks, initialisation, the mini-batch training loop (shuffling, early
stopping, optimizer, clipping, L2 penalty), chunked inference and pickling.
The public classes only say what their targets are and how their outputs are
read: class probabilities (``RNNClassifier``), real values
(``RNNRegressor``) or the top layer's final hidden state (``RNNTransformer``).
"""

import contextlib
import math
import os
import threading
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)
from threadpoolctl import ThreadpoolController

from ._base import (
    LOSS_ACTIVATION,
    OUT_ACTIVATIONS,
    _row_weights,
    log_probabilities,
)
from ._compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _check_y,
    _fit_context,
    _safe_indexing,
)
from ._kernels import _rnn_fast
from ._kernels._openmp_helpers import _openmp_effective_n_threads
from ._kernels._output_fast import LOSSES, all_finite, loss_grad
from ._kernels._training_fast import gather_time_major, penalize
from ._network import CELLS, POOLINGS, RecurrentNetwork, Workspace
from ._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from ._validation import (
    _as_model_dtype,
    _check_state_complete,
    _check_state_version,
    _theta_checksum,
    _versioned_state,
    check_sequences,
)
from .exceptions import DivergenceWarning

_BLAS_CONTROLLER = None
_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_LIMITER = None


class _blas_single_threaded:
    """Context in which BLAS runs on one thread.

    The kernels parallelise with OpenMP; a multi-threaded BLAS whose idle
    threads spin next to the OpenMP threads slowed training 10x on a 2-core
    machine. One cached controller: a fresh ``threadpool_limits`` costs ~1 ms.

    The BLAS thread count is process-wide, so the limit is shared: the first
    of concurrent users (threads predicting at once) sets it, the last one
    restores it. Nested ``limit`` contexts exiting out of order would
    otherwise leave BLAS at one thread for the rest of the process.
    """

    def __enter__(self):
        global _BLAS_CONTROLLER, _BLAS_USERS, _BLAS_LIMITER
        with _BLAS_LOCK:
            if _BLAS_USERS == 0:
                if _BLAS_CONTROLLER is None:
                    _BLAS_CONTROLLER = ThreadpoolController()
                _BLAS_LIMITER = _BLAS_CONTROLLER.limit(limits=1, user_api="blas")
            _BLAS_USERS += 1
        return self

    def __exit__(self, *exc):
        global _BLAS_USERS
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()


# GNU libgomp cannot start threads in a process forked after the parent ran
# an OpenMP parallel region with several threads: the child hangs in its
# first one. Children forked after our kernels ran multi-threaded therefore
# run them on one thread (same results). 'spawn', 'forkserver' and joblib's
# loky workers are fresh processes and keep their full thread budget.
_OPENMP_THREADS_STARTED = False
_FORKED_AFTER_OPENMP = False


def _after_fork_in_child():
    global _FORKED_AFTER_OPENMP
    _FORKED_AFTER_OPENMP = _FORKED_AFTER_OPENMP or _OPENMP_THREADS_STARTED


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _kernel_n_threads():
    """OpenMP threads for the kernels: the process budget, 1 in an unsafe fork."""
    global _OPENMP_THREADS_STARTED
    if _FORKED_AFTER_OPENMP:
        return 1
    n_threads = _openmp_effective_n_threads()
    if n_threads > 1:
        _OPENMP_THREADS_STARTED = True
    return n_threads


#: The kernels' own rules for running on one thread (``_recurrent_common.pxd``):
#: calls of fewer multiply-adds, and sweeps of a single chunk of sequences.
KERNEL_PARALLEL_MIN_WORK = _rnn_fast.PARALLEL_MIN_WORK
KERNEL_CHUNK_ROWS = _rnn_fast.MIN_CHUNK_ROWS

#: OpenBLAS runs a GEMM of fewer multiply-adds than this on one thread
#: (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD): below it, limiting the
#: BLAS threads (~50 us a call) is skipped.
BLAS_SERIAL_WORK = 65536 * 4

#: ``penalize``'s ranges when only the gradient norm is wanted.
_NO_RANGES = np.empty((0, 2), dtype=np.intp)

#: Sequences per chunk in predict/transform: a multiple of PREDICT_CHUNK_MIN
#: (64: 8 of the kernels' 8-row chunks, which split evenly over 2, 4 or 8
#: threads), at most PREDICT_CHUNK, and between the two as many as fit in
#: PREDICT_CHUNK_BYTES of working memory (see ``BaseRecurrent._chunked``).
#: Chunks of a few MB are reused by malloc from one to the next and stay in
#: the L3 cache; one 1024-sequence chunk of an LSTM with H = 128 and T = 100
#: allocated 420 MB of fresh pages per call, and predict_proba ran 1.1-1.7x
#: slower.
PREDICT_CHUNK = 1024
PREDICT_CHUNK_MIN = 64
PREDICT_CHUNK_BYTES = 8 << 20

_VIEW_ATTRIBUTES = ("recurrent_params_", "coef_", "intercept_")


class BaseRecurrent(BaseEstimator, metaclass=ABCMeta):
    """Base class of the recurrent estimators. Not for direct use."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "cell": [StrOptions(set(CELLS))],
        "activation": [StrOptions({"tanh", "relu"})],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 1, None, closed="left"),
        ],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pooling": [StrOptions(set(POOLINGS))],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "nan_padding": ["boolean"],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        cell,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        clip_norm,
        bidirectional,
        dropout,
        pooling,
        bptt_steps,
        nan_padding,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cell = cell
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.pooling = pooling
        self.bptt_steps = bptt_steps
        self.nan_padding = nan_padding

    # ------------------------------------------------------------------
    # Hooks of the public classes
    # ------------------------------------------------------------------
    @abstractmethod
    def _encode_targets(self, X, lengths, y, first_pass, classes=None):
        """Validate ``y``; return (Y, loss name, head pooling).

        ``Y`` is a float array of the model's dtype, (n_samples, n_outputs)
        or, for per-step targets, (n_samples, T, n_outputs) with zeros on
        padded steps; ``None`` when the targets are the inputs' next steps.
        The head pooling is what the output layer reads (see
        ``RecurrentNetwork``).
        """

    @abstractmethod
    def _predict_rows(self, Z):
        """Predictions from raw outputs, one row per sequence (or step)."""

    def _validation_score(self, X, lengths, y, sample_weight):
        """Score on the held-out split (higher is better) for early stopping."""
        return self._score_arrays(X, lengths, y, sample_weight)

    def _score_arrays(self, X, lengths, y, sample_weight):
        """``self._metric`` of the predictions; per step, over valid steps only."""
        Z = self._raw_output(X, lengths)
        if Z.ndim == 3:
            Z = Z[_step_mask(Z.shape[1], lengths).T]
            y = _flatten_steps(y, lengths, X.shape[1])
            if sample_weight is not None:
                sample_weight = np.repeat(sample_weight, lengths)
        return self._metric(y, self._predict_rows(Z), sample_weight=sample_weight)

    def _score(self, X, y, sample_weight):
        X, lengths = self._check_predict_input(X)
        if self.pooling != "sequence":  # per-step targets are checked by the metric
            y = _check_y(y, multi_output=True, estimator=self)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            sample_weight = _as_model_dtype(sample_weight, X.dtype, "sample_weight")
        return self._score_arrays(X, lengths, y, sample_weight)

    def _rows_output(self, X, fn):
        """Validate X, run the network and map ``fn`` over the output rows.

        Per-step outputs come back as (n_samples, T, ...) when every
        sequence has T steps, else as a list of (T_i, ...) arrays.
        """
        X, lengths = self._check_predict_input(X)
        Z = self._raw_output(X, lengths)
        if Z.ndim == 2:
            return fn(Z)
        n, T, k = Z.shape
        res = fn(Z.reshape(n * T, k))
        return _format_steps(res.reshape((n, T) + res.shape[1:]), lengths)

    def _encode_supervised(self, X, lengths, y, first_pass, classes, kind):
        """Targets for class labels (kind='classes') or values ('values').

        With pooling='sequence', ``y`` has one target per step: an array
        (n_samples, T[, n_outputs]) or a list of (T_i[, n_outputs]) arrays;
        padded steps are left out of the loss.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        per_step = self.pooling == "sequence"
        if per_step:
            y = _flatten_steps(y, lengths, X.shape[1])
        if kind == "classes":
            Y, loss = self._encode_class_targets(y, first_pass, X.dtype, classes)
        else:
            Y, loss = self._encode_regression_targets(y, X.dtype, first_pass)
        if per_step:
            return _scatter_steps(Y, lengths, X.shape[1]), loss, "sequence"
        return Y, loss, self.pooling

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if len(sizes) == 0 or any(
            not isinstance(h, Integral) or isinstance(h, bool) or h <= 0 for h in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes!r}."
            )
        return tuple(int(h) for h in sizes)

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "_theta") or (
            not self.warm_start and not incremental
        )
        X, lengths = check_sequences(
            self, X, reset=first_pass, nan_padding=self.nan_padding
        )
        if not first_pass:
            X = _as_model_dtype(X, self._theta.dtype, "X")
        if y is not None:
            check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            sample_weight = _as_model_dtype(sample_weight, X.dtype, "sample_weight")
        Y, loss, head = self._encode_targets(X, lengths, y, first_pass, classes)
        sample_weight = self._target_sample_weight(y, sample_weight, X.dtype, incremental)
        if Y is None and lengths.max() < 2:
            raise ValueError(
                f"{type(self).__name__} without y learns to predict each step from "
                "the previous ones and needs sequences of at least 2 time steps; "
                f"got sequences of {int(lengths.max())} time step(s) "
                f"({X.shape[1]} feature(s) per step)."
            )
        n_outputs = X.shape[2] if Y is None else Y.shape[-1]
        net = RecurrentNetwork(
            X.shape[2],
            hidden_sizes,
            n_outputs,
            cell=self.cell,
            activation=self.activation,
            bidirectional=self.bidirectional,
            pooling=head,
        )
        # Read before the BLAS limit: with an OpenMP-threaded BLAS sharing our
        # libgomp, limiting BLAS would also limit omp_get_max_threads().
        self._n_threads = _kernel_n_threads()
        # BLAS on one thread for the orthogonal init's QRs and the kernels.
        with _blas_single_threaded():
            if first_pass:
                self._random_state = check_random_state(self.random_state)
                self._initialize(net, loss, X.dtype)
            elif net.config != self._net.config:
                raise ValueError(
                    "warm_start and partial_fit continue the fitted model, whose "
                    "hidden_layer_sizes, cell, activation, bidirectional, pooling "
                    "and outputs are fixed; these changed since the last fit. Fit "
                    "from scratch instead (warm_start=False)."
                )
            elif not self._theta.flags.writeable:  # joblib.load(..., mmap_mode="r")
                self._theta = self._theta.copy()
                self._set_param_views()
                if hasattr(self, "_optimizer"):  # its moments are memory-mapped too
                    for name, value in list(vars(self._optimizer).items()):
                        if isinstance(value, np.ndarray) and not value.flags.writeable:
                            setattr(self._optimizer, name, value.copy())
            # Overflow is detected after each mini-batch and reported by
            # _fit_stochastic; NumPy's own warnings would only add noise.
            with np.errstate(over="ignore", invalid="ignore"):
                self._fit_stochastic(X, lengths, Y, y, sample_weight, incremental)
        self._net.forget_views()
        if not np.isfinite(self._theta).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may "
                "contain large values and need to be preprocessed, or the "
                "learning rate may be too high (see also clip_norm)."
            )
        return self

    def _target_sample_weight(self, y, sample_weight, dtype, incremental):
        """Sample weights after the class weights (classifier only)."""
        return sample_weight

    def _initialize(self, net, loss, dtype):
        self.n_outputs_ = net.n_outputs
        self._loss = loss
        self.out_activation_ = LOSS_ACTIVATION[loss]
        self._net = net
        self._theta = self._net.init_params(self._random_state, dtype,
                                             self._n_threads)
        self._set_param_views()
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _set_param_views(self):
        """Expose the weights as views of the flat parameter vector."""
        _, coef, intercept = self._net.unpack(self._theta)
        self.recurrent_params_ = self._net.torch_layout(self._theta)
        self.coef_ = coef
        self.intercept_ = intercept

    def _make_optimizer(self):
        if self.solver == "sgd":
            return SGDOptimizer(
                self._theta,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return AdamOptimizer(
            self._theta, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _fit_stochastic(self, X, lengths, Y, y, sample_weight, incremental):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")

        n_samples = X.shape[0]
        idx_train = np.arange(n_samples, dtype=np.intp)
        if self.early_stopping:
            stratify = (
                y
                if self.pooling != "sequence" and self._is_single_output_classification()
                else None
            )
            idx_train, idx_val = train_test_split(
                idx_train,
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if idx_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            idx_train.sort()
            idx_val.sort()
            val = (
                X[idx_val],
                lengths[idx_val],
                _take(y, idx_val),
                None if sample_weight is None else sample_weight[idx_val],
            )
        n_train = idx_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if self.batch_size > n_train:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_train))

        # Mini-batches are gathered from X (and per-step Y) straight into the
        # kernels' time-major layout: no transposed copy of the training set.
        X = np.ascontiguousarray(X)
        per_step_Y = Y is not None and Y.ndim == 3
        if per_step_Y:
            Y = np.ascontiguousarray(Y)
        L_train = lengths[idx_train]
        Y_train = None if Y is None or per_step_Y else Y[idx_train]
        sw_train = None if sample_weight is None else sample_weight[idx_train]
        theta = self._theta
        grad = np.empty_like(theta)
        workspace = Workspace(theta.dtype)
        order = np.arange(n_train)
        # Weights to fall back on: those of the last finished epoch (kept on
        # KeyboardInterrupt) and of the finished epoch with the lowest loss
        # (kept when training diverges); both start as the current weights.
        last_theta = theta.copy()
        best_theta = theta.copy()
        best_epoch, best_epoch_loss = 0, np.inf
        # Fewer NumPy calls per batch (each costs 10-30 us right after a
        # kernel, on cold caches): without a validation split a batch's rows
        # of X are its positions, and with equal lengths every batch has
        # X.shape[1] steps and one shared lengths array.
        split = self.early_stopping
        equal_T = bool((L_train == X.shape[1]).all())
        if equal_T:
            L_equal = np.full(batch_size, X.shape[1], dtype=L_train.dtype)

        if not incremental:
            self.n_iter_ = 0
        n_iter_start = self.n_iter_
        try:
            for _ in range(self.max_iter):
                tic = time.perf_counter()
                if self.shuffle:
                    order = self._random_state.permutation(n_train)
                accumulated_loss = 0.0
                for start in range(0, n_train, batch_size):
                    batch = order[start : start + batch_size]
                    rows = idx_train[batch] if split else batch  # rows of X
                    if equal_T:
                        Lb, T_b = L_equal[: batch.shape[0]], X.shape[1]
                    else:
                        Lb = L_train[batch]
                        T_b = int(Lb.max())
                    Xb = workspace.empty("X", (T_b, rows.shape[0], X.shape[2]))
                    gather_time_major(X, rows, Xb, self._n_threads)
                    if per_step_Y:
                        Yb = workspace.empty("Y", (T_b, rows.shape[0], Y.shape[2]))
                        gather_time_major(Y, rows, Yb, self._n_threads)
                    else:
                        Yb = None if Y_train is None else Y_train[batch]
                    swb = None if sw_train is None else sw_train[batch]
                    batch_loss = self._loss_grad(theta, grad, Xb, Lb, Yb, swb, workspace)
                    accumulated_loss += batch_loss * batch.shape[0]
                    if not math.isfinite(accumulated_loss):
                        break
                    self._optimizer.update_params(theta, grad, self._n_threads)

                if not (math.isfinite(accumulated_loss) and np.isfinite(theta).all()):
                    theta[...] = best_theta
                    self._stop_diverged(best_epoch, first=self.n_iter_ == n_iter_start)
                    break
                last_theta[...] = theta
                if accumulated_loss < best_epoch_loss:
                    best_epoch, best_epoch_loss = self.n_iter_ + 1, accumulated_loss
                    best_theta[...] = theta
                self.n_iter_ += 1
                self.loss_ = accumulated_loss / n_train
                self.t_ += n_train
                self.loss_curve_.append(self.loss_)
                self._update_no_improvement_count(val if self.early_stopping else None)
                if self.verbose:
                    line = f"Epoch {self.n_iter_}, loss = {self.loss_:.8f}"
                    if self.early_stopping:
                        line += f", validation score = {self.validation_scores_[-1]:.6f}"
                    print(line + f", time = {time.perf_counter() - tic:.3f}s")
                self._optimizer.iteration_ends(self.t_)

                if self._no_improvement_count > self.n_iter_no_change:
                    if self.early_stopping:
                        msg = (
                            "Validation score did not improve more than tol=%f for "
                            "%d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f for %d "
                            "consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    if self._optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and "
                        "the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            # Unlike MLPClassifier, which keeps the weights of the interrupted
            # mini-batch, keep those of the last finished epoch (n_iter_).
            theta[...] = last_theta
            warnings.warn(
                "Training interrupted by user. The model keeps the weights of "
                f"the last finished epoch (n_iter_={self.n_iter_})."
            )

        if self.early_stopping and hasattr(self, "_best_theta"):
            theta[...] = self._best_theta
            del self._best_theta

    def _stop_diverged(self, best_epoch, first):
        """Report a non-finite loss or weights in epoch ``n_iter_ + 1``.

        The caller has put back the weights of ``best_epoch``, the finished
        epoch of this call with the lowest loss (DivergenceWarning), or, when
        none finished (``first``), those from before the call (ValueError).
        The optimizer restarts: its moments saw the overflow.
        """
        self._optimizer = self._make_optimizer()
        cause = (
            f"Training diverged in epoch {self.n_iter_ + 1}: the loss or the "
            "weights became non-finite (overflow). The learning rate may be too "
            f"high (learning_rate_init={self.learning_rate_init!r}; lower it, or "
            "set clip_norm), or the input may contain large values and need to "
            "be scaled (e.g. with SequenceScaler)."
        )
        if first:
            raise ValueError(
                "Solver produced non-finite parameter weights. " + cause
                + " The weights are left as they were before this call."
            )
        kept = (
            "the epoch with the best validation score"
            if self.early_stopping
            else f"epoch {best_epoch}, the one with the lowest training loss"
        )
        warnings.warn(
            f"{cause} Training stopped after {self.n_iter_} epochs; the model "
            f"keeps the weights of {kept}.",
            DivergenceWarning,
        )

    def _is_single_output_classification(self):
        return False

    def _loss_grad(self, theta, grad, X, lengths, Y, sample_weight, buffers=None):
        """Loss of one time-major mini-batch; fills ``grad`` in place.

        ``Y``: (B, n_outputs) targets, (T, B, n_outputs) per step, or None
        for next-step prediction (the target of step t is ``X[t + 1]``).
        ``buffers``: the fit's :class:`Workspace` (fresh arrays if None).
        """
        net = self._net
        if Y is None:
            loss_name = "squared_error"
            Y, w = _next_step_targets(X, lengths, sample_weight)
        elif Y.ndim == 3:
            loss_name = self._loss
            w = _step_weights(X.shape[0], lengths, sample_weight, X.dtype)
        else:
            loss_name = self._loss
            w = (None if sample_weight is None
                 else _row_weights(X.shape[1], sample_weight, X.dtype))  # fmt: skip
        loss = net.loss_grad(
            theta, grad, X, lengths, Y, w, loss_name, self._n_threads,
            dropout=self.dropout, random_state=self._random_state, buffers=buffers,
            bptt_steps=self.bptt_steps or 0,
        )  # fmt: skip
        # L2 penalty on the weights (not the biases), scaled like MLP's, and
        # the gradient norm for clipping: one compiled pass over theta.
        sw_sum = X.shape[1] if sample_weight is None else float(sample_weight.sum())
        scale = self.alpha / sw_sum if self.alpha > 0 and sw_sum > 0 else 0.0
        if scale > 0 or self.clip_norm is not None:
            # A diverging fit overflows here first; it is reported as the
            # ValueError about non-finite weights after the epoch.
            weight_sq, grad_sq = penalize(
                theta, grad, net.penalized_ranges if scale > 0 else _NO_RANGES,
                scale, self._n_threads,
            )  # fmt: skip
            loss += 0.5 * scale * weight_sq
            norm = math.sqrt(grad_sq)
            if self.clip_norm is not None and norm > self.clip_norm:
                grad *= grad.dtype.type(self.clip_norm / norm)
        return loss

    def _update_no_improvement_count(self, val):
        if val is not None:
            score = self._validation_score(*val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_theta = self._theta.copy()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def _check_predict_input(self, X):
        if not hasattr(self, "_theta"):  # cheaper than sklearn's attribute scan
            check_is_fitted(self)
        X, lengths = check_sequences(self, X, reset=False, nan_padding=self.nan_padding)
        return _as_model_dtype(X, self._theta.dtype, "X"), lengths

    def _chunked(self, X, lengths, fn):
        """Apply ``fn(X_time_major, lengths, n_threads)`` chunk by chunk.

        Per-sequence results (B, K) are stacked; per-step results (T, B, K)
        are made batch-first and padded to ``X.shape[1]`` steps.

        Working memory: one sequence needs about ``per_sequence = T * (F +
        sum over layers of (G + 4) * D * H_l) * itemsize`` bytes (T the
        longest sequence, F the features per step, G = 1, 4, 3 gate blocks
        for rnn, lstm, gru, D = 2 when bidirectional, itemsize 8 for float64
        and 4 for float32). The network runs on chunks of
        ``PREDICT_CHUNK_BYTES // per_sequence`` sequences, rounded down to a
        multiple of PREDICT_CHUNK_MIN and clipped to [PREDICT_CHUNK_MIN,
        PREDICT_CHUNK] (64 and 1024), so beyond the validated ``X`` and a
        few copies of the result, predict and transform use at most about
        ``max(8 MiB, 64 * per_sequence)`` bytes, however many sequences
        ``X`` holds (e.g. 5.4 MB for 1024 sequences of 10 steps of 2
        features, float64 LSTM with H = 8). Non-finite outputs of a finite
        ``X`` mean that the network overflowed: ValueError rather than NaN
        predictions.
        """
        n, T = X.shape[:2]
        n_threads = self._predict_threads(n, T)
        small = n * T * self._net.blas_weight_size < BLAS_SERIAL_WORK
        blas_limit = contextlib.nullcontext() if small else _blas_single_threaded()
        size = PREDICT_CHUNK_MIN
        if n > size:
            per_sequence = T * self._net.working_values_per_step * X.itemsize
            size = PREDICT_CHUNK_BYTES // max(per_sequence, 1)
            size -= size % PREDICT_CHUNK_MIN
            size = min(PREDICT_CHUNK, max(PREDICT_CHUNK_MIN, size))
        # (no np.errstate here: 2.8 us a call, and the network's only NumPy
        # arithmetic, mean and max pooling, sets its own)
        with blas_limit:
            if n <= size:  # no slicing and no concatenation
                return self._run_chunk(fn, X, lengths, n_threads, 0)
            out = [
                self._run_chunk(fn, X[start : start + size],
                                lengths[start : start + size], n_threads, start)
                for start in range(0, n, size)
            ]  # fmt: skip
        return np.concatenate(out, axis=0)

    def _predict_threads(self, n, T):
        """OpenMP threads for the kernels on ``n`` sequences of ``T`` steps.

        1 when every kernel call would run on one thread anyway (up to
        KERNEL_CHUNK_ROWS sequences sweep as one chunk; a call of fewer than
        KERNEL_PARALLEL_MIN_WORK multiply-adds stays on one thread), without
        asking ``_kernel_n_threads``, whose affinity syscall and environment
        lookup cost ~8 us, a tenth of predicting one short sequence. Results
        do not depend on the thread count either way.
        """
        net = self._net
        work = net.blas_weight_size  # per sequence step: input projection
        if n > KERNEL_CHUNK_ROWS:
            work += net.recurrent_work_per_step
        if n * T * work < KERNEL_PARALLEL_MIN_WORK:
            return 1
        return _kernel_n_threads()

    @staticmethod
    def _run_chunk(fn, X, lengths, n_threads, start):
        """``fn`` on sequences ``start:start + len(X)``, result batch-first."""
        # (one sequence: indexing costs 0.1 us, NumPy's max 2-3 us)
        T = int(lengths[0]) if len(lengths) == 1 else int(lengths.max())
        # One sequence, (1, T, F) C-contiguous: its time-major view already is.
        # Else the compiled copy, 3x faster than NumPy's transpose.
        Xc = X[:, :T].transpose(1, 0, 2)
        if not Xc.flags.c_contiguous:
            Xc = np.empty(Xc.shape, dtype=X.dtype)
            gather_time_major(np.ascontiguousarray(X), np.arange(X.shape[0]), Xc,
                              n_threads)
        res = fn(Xc, lengths, n_threads)
        if not all_finite(res.reshape(-1)):
            _raise_overflow(X, res, start)
        if res.ndim == 2:
            # a view (pooling='last') would keep the (T, B, H) states alive
            return res if res.base is None else res.copy()
        res = res.transpose(1, 0, 2)
        pad = X.shape[1] - T
        return np.pad(res, ((0, 0), (0, pad), (0, 0))) if pad else np.ascontiguousarray(res)

    def _raw_output(self, X, lengths):
        """Raw outputs of the output layer (logits or values), batch-first:
        (n_samples, n_outputs), or (n_samples, T, n_outputs) per step."""

        def run(Xc, Lc, n_threads):
            return self._net.forward(self._theta, Xc, Lc, n_threads)[0]

        return self._chunked(X, lengths, run)

    def _features(self, X, lengths):
        def run(Xc, Lc, n_threads):
            return self._net.features(self._theta, Xc, Lc, n_threads, self.pooling)

        return self._chunked(X, lengths, run)

    # ------------------------------------------------------------------
    # Targets shared by the classifier and the supervised transformer
    # ------------------------------------------------------------------
    def _encode_class_targets(self, y, first_pass, dtype, classes=None):
        if sp.issparse(y):
            y = y.toarray()
        y = _check_y(y, multi_output=True, estimator=self)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first_pass:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if classes is None else classes)
            self.classes_ = self._label_binarizer.classes_
            if classes is not None:
                self._check_known_labels(y)
            if self._label_binarizer.y_type_ != "multilabel-indicator" and len(
                self.classes_
            ) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"the data, but the data contains only one class: "
                    f"{self.classes_[0]!r}."
                )
        else:
            self._check_known_labels(y)
        Y = _binarize(self._label_binarizer, y, dtype)
        loss = (
            "log_loss" if self._label_binarizer.y_type_ == "multiclass" else "binary_log_loss"
        )
        return Y, loss

    def _check_known_labels(self, y):
        """Raise when y has labels (or label columns) the model does not know."""
        if type_of_target(y) == "multilabel-indicator" or (
            self._label_binarizer.y_type_ == "multilabel-indicator"
        ):
            if np.ndim(y) != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y has {np.shape(y)[1] if np.ndim(y) == 2 else 1} label "
                    f"columns, the model was fitted with {len(self.classes_)}."
                )
        elif not np.isin(unique_labels(y), self.classes_).all():
            raise ValueError(
                "`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {unique_labels(y)}."
            )

    def _encode_regression_targets(self, y, dtype, first_pass):
        y = _check_y(y, multi_output=True, y_numeric=True, estimator=self)
        if sp.issparse(y):
            y = y.toarray()
        y = _as_model_dtype(np.asarray(y), dtype, "y")
        if first_pass:
            self._y_1d = y.ndim == 1
        return (y.reshape(-1, 1) if y.ndim == 1 else y), "squared_error"

    def _predict_values(self, Z):
        return Z.ravel() if self._y_1d else Z

    def _predict_labels(self, Z):
        if self._loss == "log_loss":
            return self.classes_[np.argmax(Z, axis=1)]
        return self._label_binarizer.inverse_transform((Z > 0).astype(int))

    # ------------------------------------------------------------------
    # Persistence: the views are rebuilt, so a loaded model stays consistent
    # ------------------------------------------------------------------
    def __getstate__(self):
        # A copy: BaseEstimator returns the live __dict__ for third-party classes.
        state = dict(super().__getstate__())
        for name in _VIEW_ATTRIBUTES:
            state.pop(name, None)
        if "_theta" in state:
            state["_theta_crc32"] = _theta_checksum(state["_theta"])
        return _versioned_state(state)

    def __setstate__(self, state):
        state = _check_state_version(self, dict(state))
        self._check_pickled_state(state, state.pop("_theta_crc32", None))
        super().__setstate__(state)
        if "_theta" in self.__dict__:
            self._set_param_views()

    #: Fitted attributes that a pickled fitted model must carry.
    _fitted_state = (
        "_theta", "_net", "_loss", "out_activation_", "n_outputs_",
        "n_features_in_", "_n_step_features",
    )  # fmt: skip

    def _check_pickled_state(self, state, checksum):
        """ValueError when an unpickled fitted state is incomplete or corrupted."""
        if "_theta" not in state and "_net" not in state:
            return  # an unfitted estimator: hyper-parameters only
        _check_state_complete(self, state, self._fitted_state)
        what = f"Cannot load this {type(self).__name__}: the pickled model is "
        theta, net = state["_theta"], state["_net"]
        if not isinstance(net, RecurrentNetwork):
            raise ValueError(what + f"corrupted (_net is a {type(net).__name__}).")
        if (
            not isinstance(theta, np.ndarray)
            or theta.dtype.newbyteorder("=") not in (np.float32, np.float64)
            or theta.shape != (net.size,)
        ):
            raise ValueError(
                what + f"corrupted: its parameter vector has shape "
                f"{np.shape(theta)} and dtype {getattr(theta, 'dtype', type(theta))}, "
                f"its network needs shape ({net.size},), float32 or float64."
            )
        if checksum is not None and checksum != _theta_checksum(theta):
            raise ValueError(what + "corrupted: its parameters fail their checksum.")
        if not np.isfinite(theta).all():
            raise ValueError(what + "corrupted: its parameters are not all finite.")
        if not theta.dtype.isnative:  # pickled on a machine of other endianness
            state["_theta"] = theta.astype(theta.dtype.newbyteorder("="))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        return tags


def _binarize(label_binarizer, y, dtype):
    """``label_binarizer.transform(y)`` as ``dtype``, for labels it knows.

    Binary and multiclass labels are one-hot encoded here (LabelBinarizer's
    input checks cost ~2 ms a call, as much as an epoch of a small fit);
    multilabel indicators go through the binarizer.
    """
    y_type = label_binarizer.y_type_
    if y_type not in ("binary", "multiclass") or np.ndim(y) != 1:
        return label_binarizer.transform(y).astype(dtype)
    codes = np.searchsorted(label_binarizer.classes_, y)
    if y_type == "binary":
        return (codes == 1).astype(dtype)[:, None]
    Y = np.zeros((codes.shape[0], label_binarizer.classes_.shape[0]), dtype=dtype)
    Y[np.arange(codes.shape[0]), codes] = 1
    return Y


def _raise_overflow(X, res, start):
    """ValueError for non-finite outputs ``res`` of the chunk ``X`` (the
    sequences from ``start``)."""
    finite = np.isfinite(res)
    # per-step results (T, B, K) are still time-major here
    ok = finite.all(axis=(0, 2)) if res.ndim == 3 else finite.all(axis=1)
    j = int(np.flatnonzero(~ok)[0])
    raise ValueError(
        f"The network's output for sequence X[{start + j}] is not finite: its values "
        f"(largest magnitude {float(np.abs(X[j]).max()):.3g}) overflow the model. "
        "Scale the input (e.g. with SequenceScaler)."
    )


def _take(y, idx):
    """Rows ``idx`` of y by position (a pandas Series keeps its own index)."""
    return None if y is None else _safe_indexing(y, idx)


def _flatten_steps(y, lengths, T):
    """Per-step targets of the valid steps, concatenated: (sum(lengths), ...).

    ``y`` is an array (n_samples, T[, n_outputs]) (padded steps ignored, NaN
    allowed there) or a list of per-sequence arrays (T_i[, n_outputs]).
    """
    if isinstance(y, (list, tuple)) or (
        isinstance(y, np.ndarray) and y.dtype == object and y.ndim == 1
    ):
        if len(y) != len(lengths):
            raise ValueError(
                f"y has {len(y)} sequences of targets, X has {len(lengths)} sequences."
            )
        items = [np.asarray(v) for v in y]
        for i, (item, n) in enumerate(zip(items, lengths)):
            if item.ndim == 0 or item.shape[0] != n:
                raise ValueError(
                    f"With pooling='sequence', y[{i}] needs one target per step of "
                    f"X[{i}] ({n} steps); got shape {item.shape}."
                )
        return np.concatenate(items)
    arr = np.asarray(y)
    if arr.ndim < 2 or arr.shape[1] != T:
        raise ValueError(
            "With pooling='sequence', y needs one target per time step: an array "
            f"of shape (n_samples, {T}) or (n_samples, {T}, n_outputs), or a list "
            f"of per-sequence arrays; got shape {arr.shape}."
        )
    return arr[_step_mask(T, lengths).T]


def _scatter_steps(Y, lengths, T):
    """(sum(lengths), K) rows back to (n_samples, T, K), zeros on padding."""
    out = np.zeros((len(lengths), T, Y.shape[1]), dtype=Y.dtype)
    out[_step_mask(T, lengths).T] = Y
    return out


def _format_steps(values, lengths):
    """Per-step results: the array when no sequence is padded, else a list."""
    if np.all(lengths == values.shape[1]):
        return values
    return [values[i, :n] for i, n in enumerate(lengths)]


def _step_mask(T, lengths):
    """(T, B) boolean mask of the valid steps."""
    return np.arange(T)[:, None] < lengths[None, :]


def _step_weights(steps, lengths, sample_weight, dtype):
    """Row weights of per-step outputs, (steps * B,) time-major.

    Each valid step (``t < lengths[b]``) has the weight of its sequence,
    normalised to sum to one over the valid steps; padded steps get 0 (no
    loss, no gradient).
    """
    w = _step_mask(steps, lengths).astype(dtype)
    if sample_weight is not None:
        w *= sample_weight
    total = w.sum(dtype=np.float64)
    if total > 0:
        w /= total
    else:
        w[...] = 0
    return w.reshape(-1)


def _next_step_targets(X, lengths, sample_weight):
    """Targets and row weights of next-step prediction on time-major ``X``:
    the target of step t is ``X[t + 1]``, and only pairs of valid steps
    (``t + 1 < lengths[b]``) count."""
    return X[1:], _step_weights(X.shape[0] - 1, lengths - 1, sample_weight, X.dtype)


# ----------------------------------------------------------------------
# Public estimators
# ----------------------------------------------------------------------
_SHARED_PARAMETERS = """
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Hidden units of each recurrent layer; more than one entry stacks
        layers, the first reading the input sequence and each next one the
        state sequence of the layer below.

    cell : {'rnn', 'lstm', 'gru'}, default='gru'
        Recurrent cell, with PyTorch's formulas and gate orders: 'rnn' is the
        Elman cell ``h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``;
        'lstm' has gates (i, f, g, o), 'gru' gates (r, z, n) with
        ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. The default 'gru'
        was the best compromise measured on scikit-learn's digits (first
        half train, second half test, other parameters at their defaults)
        read row by row (8 steps of 8; mean of random_state 0 and 1: rnn
        0.940, lstm 0.880, gru 0.927) and pixel by pixel (64 steps of 1;
        random_state=0, max_iter=100: rnn 0.741, lstm 0.867, gru 0.841):
        the vanilla cell loses long-range information, the LSTM trains
        slower.

    activation : {'tanh', 'relu'}, default='tanh'
        Non-linearity ``f`` of the 'rnn' cell (the gated cells use sigmoid
        gates and tanh).

    solver : {'adam', 'sgd'}, default='adam'
        Optimizer, as in :class:`~sklearn.neural_network.MLPClassifier`.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights (not the biases).

    batch_size : int or 'auto', default='auto'
        Sequences per mini-batch; 'auto' is ``min(200, n_samples)``.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of ``solver='sgd'``.

    learning_rate_init : float, default=0.01
        Initial step size.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs.

    shuffle : bool, default=True
        Shuffle the sequences before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout masks and the
        early-stopping split.
        An int gives bit-identical models on the same data and machine.

    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.

    verbose : bool, default=False
        Print one line per epoch: loss, validation score and seconds.

    warm_start : bool, default=False
        Continue from the previous fit instead of starting anew.

    momentum : float, default=0.9
        Momentum of ``solver='sgd'``.

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver='sgd'``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for
        single-output classification), stop when its score stops improving,
        and restore the best weights.

    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.

    beta_1 : float, default=0.9
        Adam's decay of the first moment.

    beta_2 : float, default=0.999
        Adam's decay of the second moment.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.

    clip_norm : float or None, default=5.0
        Rescale the gradient of each mini-batch to this global L2 norm when
        it is larger (against exploding gradients); None turns clipping off.

    bidirectional : bool, default=False
        Run every layer forwards and backwards in time and concatenate the
        two state sequences (as ``torch.nn.RNN(bidirectional=True)``).

    dropout : float, default=0.0
        Probability of dropping each input of the layers above the first
        during training (no effect with one layer), seeded by
        ``random_state``.

    pooling : {'last', 'mean', 'max', 'sequence'}, default='last'
        What the output layer (and ``transform``) reads from the top layer:
        the final state (for the reverse direction, its state after reading
        the whole sequence, at step 0), the mean or maximum over the valid
        steps, or every step ('sequence': many-to-many, one output per step).

    bptt_steps : int or None, default=None
        Truncated backpropagation through time: gradients flow back through
        at most this many steps (windows taken in order, the state carried
        forward). Windows are counted from each sequence's own first step
        (forward direction) or last valid step (reverse direction); the
        forward values are exact. None backpropagates through whole
        sequences.

    nan_padding : bool, default=False
        Read trailing all-NaN steps of a 3-D ``X`` as padding, so a padded
        array is a batch of sequences of different lengths. Off by default,
        so that NaN in data raises.

"""

_SHARED_ATTRIBUTES = """
    loss_ : float
        Training loss of the last epoch (with the L2 penalty).

    loss_curve_ : list of float
        Training loss of each epoch.

    best_loss_ : float or None
        Lowest training loss; None when ``early_stopping=True``.

    validation_scores_ : list of float or None
        Held-out score of each epoch; None unless ``early_stopping=True``.

    best_validation_score_ : float or None
        Best held-out score; None unless ``early_stopping=True``.

    n_iter_ : int
        Epochs run by the last ``fit`` (summed over ``partial_fit`` calls).

    t_ : int
        Sequences seen during training, summed over epochs.

    n_features_in_ : int
        Features per time step for 3-D and list input; the number of columns
        (time steps) for 2-D input, which is checked at predict time.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    n_outputs_ : int
        Units of the output layer.

    out_activation_ : str
        Output activation: 'identity', 'logistic' or 'softmax'.

    recurrent_params_ : list of dict
        One dict per layer with PyTorch's names and shapes, so weights can be
        copied into ``torch.nn.RNN/LSTM/GRU``: ``weight_ih`` (G*H, F_in),
        ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), with
        G = 1, 4, 3 for rnn, lstm, gru, and ``weight_ih_reverse`` etc. for
        the backward direction. Views of the model's parameters.

    coef_ : ndarray of shape (D * H_last, `n_outputs_`)
        Weights of the output layer (``output = pooled @ coef_ + intercept_``,
        D = 2 when bidirectional).

    intercept_ : ndarray of shape (`n_outputs_`,)
        Bias of the output layer.

"""

def _fill_doc(cls):
    """Insert the shared parameter and attribute sections into a docstring."""
    cls.__doc__ = (
        cls.__doc__.replace("    {shared_parameters}\n", _SHARED_PARAMETERS.lstrip("\n"))
        .replace("    {shared_attributes}\n", _SHARED_ATTRIBUTES.lstrip("\n"))
    )
    return cls


@_fill_doc
class RNNClassifier(ClassifierMixin, BaseRecurrent):
    """Recurrent-network classifier of sequences.

    The recurrent layers read each sequence; the pooled states of the top
    layer (see ``pooling``) feed a dense output layer with a softmax
    (multiclass) or logistic (binary, multilabel) output, trained on the
    log-loss by backpropagation through time. With ``pooling='sequence'``
    the output layer reads every step: one label per step (many-to-many).

    Parameters
    ----------
    {shared_parameters}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``; 'balanced'
        uses ``n_samples / (n_classes * np.bincount(y))``. Not supported
        with ``pooling='sequence'`` (ValueError).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    {shared_attributes}
    See Also
    --------
    RNNRegressor : The same network for real-valued targets.
    RNNTransformer : The final hidden state as features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 5, 2))
    >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    >>> clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(64,),
        cell="gru",
        activation="tanh",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.01,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        clip_norm=5.0,
        bidirectional=False,
        dropout=0.0,
        pooling="last",
        bptt_steps=None,
        nan_padding=False,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            cell=cell,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            bidirectional=bidirectional,
            dropout=dropout,
            pooling=pooling,
            bptt_steps=bptt_steps,
            nan_padding=nan_padding,
        )
        self.class_weight = class_weight

    _metric = staticmethod(accuracy_score)
    _fitted_state = BaseRecurrent._fitted_state + ("classes_", "_label_binarizer")

    def _encode_targets(self, X, lengths, y, first_pass, classes=None):
        return self._encode_supervised(X, lengths, y, first_pass, classes, "classes")

    def _predict_rows(self, Z):
        return self._predict_labels(Z)

    def _target_sample_weight(self, y, sample_weight, dtype, incremental):
        if self.class_weight is None:
            return sample_weight
        if self.pooling == "sequence":
            raise ValueError(
                "class_weight is not supported with pooling='sequence' (labels "
                "per step); pass per-sequence sample_weight instead."
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one batch at a time; compute the weights on the whole data "
                "(sklearn.utils.class_weight.compute_class_weight) and pass a dict."
            )
        weights = compute_sample_weight(self.class_weight, y).astype(dtype)
        return weights if sample_weight is None else sample_weight * weights

    def _is_single_output_classification(self):
        return self._label_binarizer.y_type_ != "multilabel-indicator"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or a label-indicator matrix for multilabel.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Run one epoch over ``X``, ``y``, continuing the current model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        classes : array-like of shape (n_classes,), default=None
            All classes that can appear; required on the first call.

        Returns
        -------
        self : object
            The updated classifier.
        """
        _check_partial_fit_first_call(self, classes)
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        With ``pooling='sequence'`` the score is taken over every valid time
        step (padding excluded), each step weighted by its sequence's weight.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences.

        y : array-like
            True labels, as given to ``fit``.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence.

        Returns
        -------
        score : float
            Accuracy.
        """
        return self._score(X, y, sample_weight)

    def decision_function(self, X):
        """Raw outputs (logits) of the output layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Logit of the positive class for binary problems, one logit per
            class (multiclass) or label (multilabel) otherwise.
            With ``pooling='sequence'``: one row per step, (n_samples,
            n_timesteps, ...), or a list of (n_timesteps_i, ...) arrays when
            the sequences differ in length.
        """
        return self._rows_output(X, lambda Z: Z.ravel() if Z.shape[1] == 1 else Z)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (a label-indicator matrix for multilabel).
            With ``pooling='sequence'``: one row per step, (n_samples,
            n_timesteps, ...), or a list of (n_timesteps_i, ...) arrays when
            the sequences differ in length.
        """
        return self._rows_output(X, self._predict_labels)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``; for
            multilabel, the probability of each label.
            With ``pooling='sequence'``: one row per step, (n_samples,
            n_timesteps, ...), or a list of (n_timesteps_i, ...) arrays when
            the sequences differ in length.
        """
        return self._rows_output(X, self._proba_rows)

    def _proba_rows(self, Z):
        """Probabilities from the logits ``Z`` (overwritten by a softmax)."""
        P = OUT_ACTIVATIONS[self.out_activation_](Z)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([1 - P, P])
        return P

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, finite even where ``predict_proba`` is 0.
            With ``pooling='sequence'``: one row per step, (n_samples,
            n_timesteps, ...), or a list of (n_timesteps_i, ...) arrays when
            the sequences differ in length.
        """
        return self._rows_output(X, self._log_proba_rows)

    def _log_proba_rows(self, Z):
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack(
                [log_probabilities(-Z, "logistic"), log_probabilities(Z, "logistic")]
            )
        return log_probabilities(Z, self.out_activation_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@_fill_doc
class RNNRegressor(RegressorMixin, BaseRecurrent):
    """Recurrent-network regressor of sequences.

    The pooled states of the top recurrent layer (see ``pooling``) feed a
    linear output layer, trained on the squared error by backpropagation
    through time. With ``pooling='sequence'`` the output layer reads every
    step: one target per step (many-to-many).

    Parameters
    ----------
    {shared_parameters}
    Attributes
    ----------
    {shared_attributes}
    See Also
    --------
    RNNClassifier : The same network for class labels.
    RNNTransformer : The final hidden state as features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 5, 2))
    >>> y = X[:, :, 0].mean(axis=1)
    >>> reg = RNNRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes=(64,),
        cell="gru",
        activation="tanh",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.01,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        clip_norm=5.0,
        bidirectional=False,
        dropout=0.0,
        pooling="last",
        bptt_steps=None,
        nan_padding=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            cell=cell,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            bidirectional=bidirectional,
            dropout=dropout,
            pooling=pooling,
            bptt_steps=bptt_steps,
            nan_padding=nan_padding,
        )

    _metric = staticmethod(r2_score)
    _fitted_state = BaseRecurrent._fitted_state + ("_y_1d",)

    def _encode_targets(self, X, lengths, y, first_pass, classes=None):
        return self._encode_supervised(X, lengths, y, first_pass, classes, "values")

    def _predict_rows(self, Z):
        return self._predict_values(Z)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real-valued targets.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over ``X``, ``y``, continuing the current model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real-valued targets.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The updated regressor.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of ``predict(X)``.

        With ``pooling='sequence'`` the score is taken over every valid time
        step (padding excluded), each step weighted by its sequence's weight.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences.

        y : array-like
            True targets, as given to ``fit``.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence.

        Returns
        -------
        score : float
            R^2 (averaged uniformly over outputs).
        """
        return self._score(X, y, sample_weight)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values; 1-D when the model was fitted on 1-D ``y``.
            With ``pooling='sequence'``: one row per step, (n_samples,
            n_timesteps, ...), or a list of (n_timesteps_i, ...) arrays when
            the sequences differ in length.
        """
        return self._rows_output(X, self._predict_values)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


@_fill_doc
class RNNTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseRecurrent):
    """Recurrent-network features: the pooled hidden states of each sequence.

    Without ``y``, the network learns to predict each step of a sequence from
    the steps before it (squared error on the next step), which needs
    sequences of at least two steps. With ``y``, it trains supervised: a
    log-loss for class labels (binary, multiclass or multilabel, as decided
    by :func:`~sklearn.utils.multiclass.type_of_target`) and a squared error
    otherwise. Either way, ``transform`` returns the top recurrent layer's
    states pooled as ``pooling`` says, ``(n_samples, D * hidden_layer_sizes[-1])``
    with D = 2 when bidirectional; with ``pooling='sequence'`` the whole state
    sequence, ``(n_samples, n_timesteps, D * H)`` or a list of
    ``(n_timesteps_i, D * H)`` arrays for sequences of different lengths.

    Parameters
    ----------
    {shared_parameters}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, when fitted on class targets; not set otherwise.

    {shared_attributes}
    See Also
    --------
    RNNClassifier, RNNRegressor : The supervised estimators.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import RNNTransformer
    >>> X = np.random.RandomState(0).normal(size=(40, 6, 3))
    >>> rnn = RNNTransformer(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    >>> rnn.fit_transform(X).shape
    (40, 4)
    >>> rnn.get_feature_names_out()[:2]
    array(['rnntransformer0', 'rnntransformer1'], dtype=object)
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes=(64,),
        cell="gru",
        activation="tanh",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.01,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        clip_norm=5.0,
        bidirectional=False,
        dropout=0.0,
        pooling="last",
        bptt_steps=None,
        nan_padding=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            cell=cell,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            bidirectional=bidirectional,
            dropout=dropout,
            pooling=pooling,
            bptt_steps=bptt_steps,
            nan_padding=nan_padding,
        )

    _fitted_state = BaseRecurrent._fitted_state + ("_target_kind",)

    def _encode_targets(self, X, lengths, y, first_pass, classes=None):
        y_checked = None
        if y is not None:
            # Per-step targets are checked as the rows of their valid steps.
            y_checked = _check_y(
                _flatten_steps(y, lengths, X.shape[1])
                if self.pooling == "sequence"
                else y,
                multi_output=True,
                estimator=self,
            )
            if self.pooling != "sequence":
                y = y_checked
        if first_pass:
            if y is None:
                self._target_kind = "next_step"
            elif type_of_target(y_checked) in ("binary", "multiclass", "multilabel-indicator"):
                self._target_kind = "classes"
            else:
                self._target_kind = "values"
        if (y is None) != (self._target_kind == "next_step"):
            raise ValueError(
                "This RNNTransformer was fitted "
                + ("without" if self._target_kind == "next_step" else "with")
                + " y; partial_fit and warm_start must keep that."
            )
        if self._target_kind == "next_step":
            if self.bidirectional:
                raise ValueError(
                    "RNNTransformer without y learns to predict each step from the "
                    "steps before it, but with bidirectional=True the reverse "
                    "direction has already read the step to predict. Fit with y, "
                    "or use bidirectional=False."
                )
            return None, "squared_error", "sequence"
        return self._encode_supervised(
            X, lengths, y, first_pass, classes, self._target_kind
        )

    def _predict_rows(self, Z):
        if self._target_kind == "classes":
            return self._predict_labels(Z)
        return self._predict_values(Z)

    def _metric(self, y, y_pred, sample_weight=None):
        if self._target_kind == "classes":
            return accuracy_score(y, y_pred, sample_weight=sample_weight)
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def _is_single_output_classification(self):
        return (
            self._target_kind == "classes"
            and self._label_binarizer.y_type_ != "multilabel-indicator"
        )

    def _validation_score(self, X, lengths, y, sample_weight):
        if self._target_kind != "next_step":
            return self._score_arrays(X, lengths, y, sample_weight)
        X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
        Z, _ = self._net.forward(self._theta, X_tm, lengths, self._n_threads)
        Y, w = _next_step_targets(X_tm, lengths, sample_weight)
        F = X_tm.shape[2]
        # the training loss's compiled pass (it overwrites Z with dL/dZ)
        return -loss_grad(Z[:-1].reshape(-1, F), Y.reshape(-1, F), w,
                          LOSSES["squared_error"])  # fmt: skip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the network, without labels (next-step prediction) or with.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Optional targets; see the class description.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None, classes=None):
        """Run one epoch over ``X`` (and ``y``), continuing the current model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Optional targets, as given to the first fit.
            With ``pooling='sequence'``: one target per step, an array
            (n_samples, n_timesteps[, n_outputs]) or a list of
            (n_timesteps_i[, n_outputs]) arrays.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss.

        classes : array-like of shape (n_classes,), default=None
            All classes, on the first call with class labels.

        Returns
        -------
        self : object
            The updated transformer.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def transform(self, X):
        """The final hidden state of the top layer for each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of (n_timesteps_i, n_features) arrays
            Sequences: 3-D, univariate 2-D, or a list of sequences of
            different lengths.

        Returns
        -------
        X_new : ndarray of shape (n_samples, D * hidden_layer_sizes[-1])
            Features, in the dtype of the fitted model (D = 2 when
            bidirectional). With ``pooling='sequence'``: (n_samples,
            n_timesteps, D * H), or a list of (n_timesteps_i, D * H) arrays
            when the sequences differ in length.
        """
        X, lengths = self._check_predict_input(X)
        features = self._features(X, lengths)
        return features if features.ndim == 2 else _format_steps(features, lengths)

    @property
    def _n_features_out(self):
        return self._net.n_hidden_out
