# Never cimport openmp directly elsewhere: this header compiles with and
# without OpenMP, so the package builds serially when OpenMP is missing.
cdef extern from *:
    """
    #ifdef _OPENMP
        #include <omp.h>
        #define SKLEARN_RNN_OPENMP_PARALLELISM_ENABLED 1
    #else
        #define SKLEARN_RNN_OPENMP_PARALLELISM_ENABLED 0
        #define omp_get_max_threads() 1
        #define omp_get_thread_num() 0
    #endif
    """
    bint SKLEARN_RNN_OPENMP_PARALLELISM_ENABLED

    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
