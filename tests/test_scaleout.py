"""Scale-out: hyper-parameter search on a dask cluster, and persistence.

* ``GridSearchCV`` and ``RandomizedSearchCV`` under
  ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of two worker
  processes on loopback give exactly the results of the serial search.
  Skipped when ``distributed`` is not installed (``.ci/run`` installs it).
* A fitted estimator pickles small: its parameter vector once, the
  optimizer's state and plain data, but no compiled kernel, function or
  closure. A restricted unpickler that knows only NumPy, sklearn-rnn's
  classes and a few builtins loads it.
* A pickled estimator loaded in a fresh Python process predicts exactly what
  the original predicts, bit for bit.

The cluster starts once for the module (about 5-10 s on 2 cores); all tests
together run in well under 40 s.
"""

import io
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from sklearn_rnn import RNNClassifier, RNNRegressor, RNNTransformer
from sklearn_rnn._kernels._openmp_helpers import _openmp_effective_n_threads


def make_data(n_samples=90, n_timesteps=6, n_features=3, seed=0):
    """Three classes from the sign pattern of the per-sequence feature sums."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    s = X.sum(axis=1)
    y = (s[:, 0] > 0).astype(int) + (s[:, 1] > 0).astype(int)
    return X, y


# ----------------------------------------------------------------------
# Distributed search
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # No dashboard (it would need bokeh, and warns when its port is taken).
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _search_results(search):
    """Everything in a fitted search except the timings, for comparison."""
    results = {
        key: value
        for key, value in search.cv_results_.items()
        if not key.endswith("_time")
    }
    return results, search.best_params_, search.best_index_, search.best_score_


def _assert_same_search(serial, parallel, X):
    res_s, best_s, index_s, score_s = _search_results(serial)
    res_p, best_p, index_p, score_p = _search_results(parallel)
    assert res_s.keys() == res_p.keys()
    for key in res_s:
        if key == "params":
            assert res_s[key] == res_p[key]
        elif key.startswith("param_"):
            assert list(res_s[key]) == list(res_p[key]), key
        else:  # scores and ranks: exactly equal, not approximately
            assert np.array_equal(res_s[key], res_p[key]), key
    assert best_s == best_p
    assert index_s == index_p
    assert score_s == score_p
    assert np.array_equal(
        serial.best_estimator_.predict_proba(X),
        parallel.best_estimator_.predict_proba(X),
    )


def _run_search(search, X, y, backend=None, **backend_params):
    # max_iter is tiny on purpose: silence the ConvergenceWarning of each fit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        if backend is None:
            return search.fit(X, y)
        with joblib.parallel_backend(backend, **backend_params):
            return search.fit(X, y)


def _on_dask(client, search, X, y, **backend_params):
    """Fit ``search`` under the dask backend; return the workers that ran tasks."""
    from distributed import get_task_stream

    with get_task_stream(client) as stream:
        _run_search(search, X, y, backend="dask", **backend_params)
    workers = {task["worker"] for task in stream.data}
    assert workers, "no task ran on the dask workers"
    assert workers <= set(client.scheduler_info()["workers"])
    return workers


def test_dask_workers_run_one_thread(dask_client):
    # The nanny starts each worker with OMP_NUM_THREADS=1 (distributed's
    # default 'pre-spawn-environ'), so with threads_per_worker=1 a worker
    # uses one core: the kernels run on one OpenMP thread, and BLAS is
    # limited to one thread inside fit/predict anyway. docs/scaling_out.rst
    # describes this.
    env = dask_client.run(os.getenv, "OMP_NUM_THREADS")
    assert set(env.values()) == {"1"}
    n_threads = dask_client.run(_openmp_effective_n_threads)
    assert set(n_threads.values()) == {1}


def test_grid_search_on_dask_equals_serial(dask_client):
    X, y = make_data()
    estimator = RNNClassifier(max_iter=4, batch_size=30, random_state=0)
    grid = {"cell": ["rnn", "gru"], "hidden_layer_sizes": [(4,), (8,)]}

    serial = _run_search(GridSearchCV(estimator, grid, cv=3), X, y)
    parallel = GridSearchCV(estimator, grid, cv=3, n_jobs=-1)
    _on_dask(dask_client, parallel, X, y)
    _assert_same_search(serial, parallel, X)


def test_randomized_search_on_dask_equals_serial(dask_client):
    # Sequences of different lengths, as a list. joblib scatters large
    # arrays to the workers by itself, but not lists (they cannot be weakly
    # referenced), so the list goes out once through scatter=[X, y], as
    # docs/scaling_out.rst recommends.
    rng = np.random.RandomState(1)
    X = [rng.normal(size=(n, 3)) for n in rng.randint(2, 9, size=90)]
    y = np.array([int(x[:, 0].sum() > 0) + int(x[:, 1].sum() > 0) for x in X])
    estimator = RNNClassifier(max_iter=4, batch_size=30, random_state=0)
    distributions = {
        "cell": ["rnn", "lstm", "gru"],
        "hidden_layer_sizes": [(4,), (6,), (8,)],
        "learning_rate_init": [0.003, 0.01, 0.03],
    }

    def search(n_jobs):
        return RandomizedSearchCV(
            estimator, distributions, n_iter=4, cv=2, random_state=0, n_jobs=n_jobs
        )

    serial = _run_search(search(None), X, y)
    parallel = search(-1)
    _on_dask(dask_client, parallel, X, y, scatter=[X, y])
    _assert_same_search(serial, parallel, X)


# ----------------------------------------------------------------------
# Persistence: small pickles of plain data
# ----------------------------------------------------------------------
def _fitted(kind):
    X, y = make_data()
    if kind == "classifier-lstm-bidirectional":
        est = RNNClassifier(
            hidden_layer_sizes=(16, 8), cell="lstm", bidirectional=True, max_iter=3
        )
    elif kind == "classifier-gru-float32":
        est = RNNClassifier(hidden_layer_sizes=(32,), max_iter=3)
        X = X.astype(np.float32)
    elif kind == "regressor-rnn-sgd":
        est = RNNRegressor(
            hidden_layer_sizes=(32,), cell="rnn", solver="sgd", max_iter=3
        )
        y = X[:, :, 0].mean(axis=1)
    elif kind == "regressor-sequence-early-stopping":
        est = RNNRegressor(
            hidden_layer_sizes=(16,), pooling="sequence", early_stopping=True,
            max_iter=3,
        )  # fmt: skip
        y = np.cumsum(X[:, :, 0], axis=1)
    else:  # transformer, unsupervised
        est = RNNTransformer(hidden_layer_sizes=(24,), max_iter=3)
        y = None
    est.set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        est.fit(X, y)
    return est, X


KINDS = [
    "classifier-lstm-bidirectional",
    "classifier-gru-float32",
    "regressor-rnn-sgd",
    "regressor-sequence-early-stopping",
    "transformer",
]

# What a pickle of a fitted estimator may reference: NumPy's array and
# RandomState reconstructors, our estimator, network and optimizer classes
# (never the compiled kernels in sklearn_rnn._kernels), scikit-learn's
# LabelBinarizer (fitted classes of the classifier) and the builtins that
# pickle uses for plain containers.
_ALLOWED_GLOBALS = {
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),  # pickle protocol 5
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("sklearn_rnn._recurrent", "RNNClassifier"),
    ("sklearn_rnn._recurrent", "RNNRegressor"),
    ("sklearn_rnn._recurrent", "RNNTransformer"),
    ("sklearn_rnn._network", "RecurrentNetwork"),
    ("sklearn_rnn._stochastic_optimizers", "AdamOptimizer"),
    ("sklearn_rnn._stochastic_optimizers", "SGDOptimizer"),
    ("sklearn.preprocessing._label", "LabelBinarizer"),
    ("builtins", "slice"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Loads only the globals in ``_ALLOWED_GLOBALS``.

    ``arrays`` collects the arrays stored in a protocol-5 pickle, which NumPy
    rebuilds with ``_frombuffer``.
    """

    def __init__(self, file):
        super().__init__(file)
        self.arrays = []

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"pickle references {module}.{name}")
        found = super().find_class(module, name)
        if name != "_frombuffer":
            return found

        def frombuffer(*args):
            self.arrays.append(found(*args))
            return self.arrays[-1]

        return frombuffer


def _arrays(obj, found=None, seen=None):
    """All ndarrays reachable from ``obj`` through containers and __dict__."""
    found = [] if found is None else found
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return found
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        found.append(obj)
    elif isinstance(obj, dict):
        for value in obj.values():
            _arrays(value, found, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            _arrays(value, found, seen)
    elif hasattr(obj, "__dict__"):
        _arrays(vars(obj), found, seen)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_is_small_and_plain_data(kind):
    est, _ = _fitted(kind)
    data = pickle.dumps(est, protocol=5)

    unpickler = _RestrictedUnpickler(io.BytesIO(data))
    loaded = unpickler.load()
    assert type(loaded) is type(est)

    # Size: the parameter vector once, plus the optimizer's state vectors
    # (Adam: two moments; SGD: the velocity), which partial_fit and
    # warm_start continue from; everything else is a few kB. The views
    # recurrent_params_, coef_ and intercept_ are not stored.
    theta = est._theta
    opt = est._optimizer
    n_state = 2 if hasattr(opt, "ms") else 1
    assert len(data) < (1 + n_state) * theta.nbytes + 20_000, (
        f"{len(data)} bytes for theta of {theta.nbytes} bytes"
    )
    # The pickle stores theta and the optimizer's state as its only large
    # arrays: no scratch buffers, no training data, and not the views, which
    # are rebuilt on load and share memory with the loaded theta.
    large = sorted(a.nbytes for a in unpickler.arrays if a.nbytes > 4096)
    assert large == [theta.nbytes] * (1 + n_state)
    views = [loaded.recurrent_params_, loaded.coef_, loaded.intercept_]
    for view in _arrays(views):
        assert np.shares_memory(view, loaded._theta)


@pytest.mark.parametrize("kind", ["classifier-gru-float32", "regressor-rnn-sgd"])
def test_pickle_keeps_what_partial_fit_continues_from(kind):
    # Why the optimizer's state is in the pickle: training continues after a
    # round trip exactly as without it.
    est, X = _fitted(kind)
    y = X[:, :, 0].mean(axis=1) if kind.startswith("regressor") else make_data()[1]
    loaded = pickle.loads(pickle.dumps(est, protocol=5))
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert loaded._theta.tobytes() == est._theta.tobytes()


def test_restricted_unpickler_refuses_kernels_and_functions():
    # The check above is not vacuous: a pickle that references a compiled
    # kernel or any function is refused.
    from sklearn_rnn._kernels import _gru_fast

    for obj in (_gru_fast.gru_forward, np.sum, {"fn": os.getenv}):
        data = pickle.dumps(obj, protocol=5)
        with pytest.raises(pickle.UnpicklingError, match="pickle references"):
            _RestrictedUnpickler(io.BytesIO(data)).load()


# A fresh interpreter: loads each model, predicts, writes the result. -W error
# turns any warning on load (e.g. a version mismatch) into a failure.
_LOAD_AND_PREDICT = textwrap.dedent(
    """
    import pickle, sys
    import joblib
    import numpy as np

    for job in sys.argv[1:]:
        model_path, X_path, out_path, method, loader = job.split("|")
        if loader == "joblib":
            model = joblib.load(model_path)
        else:
            with open(model_path, "rb") as f:
                model = pickle.load(f)
        np.save(out_path, getattr(model, method)(np.load(X_path)))
    """
)

FRESH_PROCESS_CASES = [
    ("classifier-lstm-bidirectional", "predict_proba", "pickle"),
    ("classifier-gru-float32", "predict_proba", "joblib"),
    ("regressor-rnn-sgd", "predict", "pickle"),
    ("regressor-sequence-early-stopping", "predict", "pickle"),
    ("transformer", "transform", "joblib"),
]


def test_load_in_fresh_process_predicts_identically(tmp_path):
    # One child process for all the models: starting Python and importing
    # sklearn-rnn is most of the cost.
    jobs, expected = [], []
    for i, (kind, method, loader) in enumerate(FRESH_PROCESS_CASES):
        est, X = _fitted(kind)
        X_new = np.random.RandomState(i).normal(size=(25, 9, X.shape[2]))
        X_new = X_new.astype(X.dtype)
        expected.append(getattr(est, method)(X_new))
        model_path = tmp_path / f"model{i}.pkl"
        if loader == "joblib":
            joblib.dump(est, model_path)
        else:
            model_path.write_bytes(pickle.dumps(est))
        np.save(tmp_path / f"X{i}.npy", X_new)
        jobs.append(
            f"{model_path}|{tmp_path / f'X{i}.npy'}|{tmp_path / f'out{i}.npy'}"
            f"|{method}|{loader}"
        )
    # One OpenMP thread in the child, whatever the parent uses: the results
    # do not depend on the thread count.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, "-W", "error", "-c", _LOAD_AND_PREDICT, *jobs],
        check=True, env=env, timeout=120,
        cwd=tmp_path,  # not the repository root, which `-c` puts on sys.path
    )  # fmt: skip
    for i, (kind, _, _) in enumerate(FRESH_PROCESS_CASES):
        result = np.load(tmp_path / f"out{i}.npy")
        assert result.dtype == expected[i].dtype, kind
        assert result.shape == expected[i].shape, kind
        assert result.tobytes() == expected[i].tobytes(), kind
