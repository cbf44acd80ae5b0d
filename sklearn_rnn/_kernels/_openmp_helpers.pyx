"""How many OpenMP threads the kernels may use."""

import os


def _openmp_parallelism_enabled():
    """True when the kernels were compiled with OpenMP support."""
    return SKLEARN_RNN_OPENMP_PARALLELISM_ENABLED


cpdef int _openmp_effective_n_threads(n_threads=None, only_physical_cores=False):
    """Number of OpenMP threads the kernels should use.

    * ``n_threads=None``: ``omp_get_max_threads()``, which honours
      ``OMP_NUM_THREADS`` and threadpoolctl's limits, capped at the CPUs this
      process may run on (cgroup/affinity aware via ``os.sched_getaffinity``
      or ``os.process_cpu_count``);
    * ``n_threads < 0``: that many fewer than the CPU count, like joblib;
    * returns 1 when built without OpenMP.
    """
    if n_threads == 0:
        raise ValueError("n_threads = 0 is invalid")
    if not SKLEARN_RNN_OPENMP_PARALLELISM_ENABLED:
        return 1
    if hasattr(os, "sched_getaffinity"):
        n_cpus = len(os.sched_getaffinity(0))
    elif hasattr(os, "process_cpu_count"):
        n_cpus = os.process_cpu_count() or 1
    else:
        n_cpus = os.cpu_count() or 1
    if os.getenv("OMP_NUM_THREADS"):
        max_n_threads = omp_get_max_threads()
    else:
        max_n_threads = min(omp_get_max_threads(), n_cpus)
    if n_threads is None:
        return max(1, max_n_threads)
    if n_threads < 0:
        return max(1, n_cpus + n_threads + 1)
    return n_threads
