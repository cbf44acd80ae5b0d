"""System, dependency and thread-pool information for bug reports.

Modelled on :func:`sklearn.show_versions`. Versions of the dependencies are
read from the installed distributions' metadata, so nothing is imported just
to print its version.
"""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from threadpoolctl import threadpool_info

from ._kernels._openmp_helpers import (
    _openmp_effective_n_threads,
    _openmp_parallelism_enabled,
)
from ._version import __version__

# Distribution names, in the order they are printed.
_DEPENDENCIES = (
    "pip",
    "setuptools",
    "numpy",
    "scipy",
    "scikit-learn",
    "joblib",
    "threadpoolctl",
    "Cython",
    "pandas",
)


def _get_sys_info():
    """Python and platform information.

    Returns
    -------
    sys_info : dict
        Python version, interpreter path and platform string.
    """
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _get_deps_info():
    """Versions of sklearn-rnn and of its main dependencies.

    Returns
    -------
    deps_info : dict
        Distribution name to version string, or None when not installed.
    """
    deps_info = {"sklearn-rnn": __version__}
    for name in _DEPENDENCIES:
        try:
            deps_info[name] = version(name)
        except PackageNotFoundError:
            deps_info[name] = None
    return deps_info


def show_versions():
    """Print system, dependency and thread-pool information.

    Prints the Python and platform versions, the versions of sklearn-rnn,
    NumPy, SciPy, scikit-learn, threadpoolctl and a few build and test
    tools, whether the compiled kernels were built with OpenMP and how many
    OpenMP threads they would use, and every BLAS and OpenMP thread pool
    loaded in the process as reported by :func:`threadpoolctl.threadpool_info`
    (library, version, number of threads, file path). Include this output in
    bug reports.

    .. versionadded:: 0.1

    See Also
    --------
    sklearn.show_versions : The same report for scikit-learn.

    Examples
    --------
    >>> from sklearn_rnn import show_versions
    >>> show_versions()  # doctest: +SKIP
    """
    print("\nSystem:")
    for key, value in _get_sys_info().items():
        print(f"{key:>10}: {value}")

    print("\nPython dependencies:")
    for key, value in _get_deps_info().items():
        print(f"{key:>13}: {value}")

    print(f"\nBuilt with OpenMP: {_openmp_parallelism_enabled()}")
    print(f"OpenMP threads used by the kernels: {_openmp_effective_n_threads()}")

    # The BLAS (NumPy's and SciPy's OpenBLAS) and OpenMP runtimes loaded now;
    # importing sklearn_rnn has loaded the kernels and SciPy's BLAS.
    pools = threadpool_info()
    if pools:
        print("\nthreadpoolctl info:")
        for i, pool in enumerate(pools):
            if i:
                print()
            for key, value in pool.items():
                print(f"{key:>15}: {value}")
