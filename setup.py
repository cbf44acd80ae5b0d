"""Build script for the compiled kernels of sklearn-rnn.

Metadata lives in ``pyproject.toml``; this file only declares the Cython
extensions and how to compile them:

* every extension comes from one table (``EXTENSIONS``);
* OpenMP is added per compiler by ``build_ext_openmp``: ``-fopenmp`` for gcc
  and clang, ``/openmp`` for MSVC, and on macOS whatever ``CPPFLAGS``/``LDFLAGS``
  already carry (``-Xpreprocessor -fopenmp`` with libomp);
* a small test program checks that OpenMP really compiles and links; when it
  does not, the build stops with a message naming the opt-out
  ``SKLEARN_RNN_NO_OPENMP=1`` (serial kernels, same results);
* ``SKLEARN_RNN_CYTHON_CHECKS=1`` re-enables bounds/wraparound checks for
  debugging, ``SKLEARN_RNN_DEBUG_SYMBOLS=1`` keeps ``-g`` and the symbol
  table, which release builds strip at link time (``-s``; ``-Wl,-S,-x`` with
  Apple's linker);
* no ``-march=native`` (wheels must run on any CPU of the target arch) and no
  ``-ffast-math`` (it flips flush-to-zero for the whole Python process).
"""

import os
import shlex
import sys
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Extension table: (module path, sources). Every module uses numpy headers.
EXTENSIONS = [
    ("sklearn_rnn.__check_build._check_build", ["sklearn_rnn/__check_build/_check_build.pyx"]),
    ("sklearn_rnn._kernels._openmp_helpers", ["sklearn_rnn/_kernels/_openmp_helpers.pyx"]),
    ("sklearn_rnn._kernels._cython_blas", ["sklearn_rnn/_kernels/_cython_blas.pyx"]),
    ("sklearn_rnn._kernels._rnn_fast", ["sklearn_rnn/_kernels/_rnn_fast.pyx"]),
    ("sklearn_rnn._kernels._lstm_fast", ["sklearn_rnn/_kernels/_lstm_fast.pyx"]),
    ("sklearn_rnn._kernels._gru_fast", ["sklearn_rnn/_kernels/_gru_fast.pyx"]),
    ("sklearn_rnn._kernels._training_fast", ["sklearn_rnn/_kernels/_training_fast.pyx"]),
    ("sklearn_rnn._kernels._output_fast", ["sklearn_rnn/_kernels/_output_fast.pyx"]),
]


def _env_flag(name):
    return os.environ.get(name, "0").lower() not in ("", "0", "false", "no")


def get_openmp_flag(compiler_type):
    """The compiler flag that enables OpenMP, as a list."""
    if compiler_type == "msvc":
        return ["/openmp"]
    if sys.platform == "darwin" and "openmp" in os.getenv("CPPFLAGS", ""):
        # Apple clang: the user put "-Xpreprocessor -fopenmp" in CPPFLAGS and
        # "-lomp" in LDFLAGS (see docs/install); adding -fopenmp would fail.
        return []
    return ["-fopenmp"]


def get_strip_flags(compiler_type):
    """Linker flags that drop debug info and the symbol table, as a list."""
    if compiler_type == "msvc":
        return []  # release links write no debug information without /DEBUG
    if sys.platform == "darwin":
        return ["-Wl,-S", "-Wl,-x"]  # ld64 ignores -s: no debug info, no locals
    return ["-s"]


def _ldflags_for_executables():
    """The library flags of ``LDFLAGS`` (``-L``, ``-l``, ``-Wl,...``).

    distutils adds ``LDFLAGS`` when linking extensions but not executables,
    so the OpenMP test program would miss ``-L<libomp prefix>/lib -lomp`` on
    macOS without them.
    """
    flags = shlex.split(os.getenv("LDFLAGS", ""))
    return [f for f in flags if f.startswith(("-L", "-l", "-Wl,"))]


OPENMP_TEST_PROGRAM = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d", n > 0);
        return 0;
    }
    """
)


def check_openmp_support(compiler):
    """Compile and link a tiny OpenMP program; return True when it works."""
    flags = get_openmp_flag(compiler.compiler_type)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "test_openmp.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST_PROGRAM)
        try:
            objects = compiler.compile([src], output_dir=tmp, extra_postargs=flags)
            link_flags = list(flags)
            if compiler.compiler_type != "msvc":
                link_flags += _ldflags_for_executables()
            compiler.link_executable(
                objects, "test_openmp", output_dir=tmp, extra_postargs=link_flags
            )
        except Exception:  # CompileError, LinkError: any failure means "no"
            return False
    return True


class build_ext_openmp(build_ext):
    """build_ext that adds optimisation and OpenMP flags per compiler."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            # Build parallelism from the environment, as scikit-learn does.
            n = os.environ.get("SKLEARN_RNN_BUILD_PARALLEL")
            self.parallel = int(n) if n else None

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            opt = ["/O2"]
        else:
            # -fno-trapping-math lets gcc if-convert the clamps of the
            # exp/tanh (into compare-and-blend), so the gate loops
            # vectorise; -fno-math-errno lets it vectorise sqrt (Adam's
            # step: 11 ns an element without it). Results are unchanged (no
            # reassociation, unlike -ffast-math), only floating-point
            # exception flags and errno are.
            opt = ["-O3", "-fno-strict-aliasing", "-fno-trapping-math", "-fno-math-errno"]
            if not _env_flag("SKLEARN_RNN_DEBUG_SYMBOLS"):
                opt.append("-g0")
        strip = [] if _env_flag("SKLEARN_RNN_DEBUG_SYMBOLS") else get_strip_flags(ctype)
        openmp = []
        if _env_flag("SKLEARN_RNN_NO_OPENMP"):
            print("SKLEARN_RNN_NO_OPENMP is set: building serial kernels.")
        elif check_openmp_support(self.compiler):
            openmp = get_openmp_flag(ctype)
        else:
            raise RuntimeError(
                "sklearn-rnn: the C compiler cannot build OpenMP code "
                f"(compiler type {ctype!r}). Install OpenMP support (gcc: "
                "libgomp; macOS: 'brew install libomp' and set CPPFLAGS="
                "'-Xpreprocessor -fopenmp' and LDFLAGS='-lomp'), or set "
                "SKLEARN_RNN_NO_OPENMP=1 to build serial kernels."
            )
        for ext in self.extensions:
            ext.extra_compile_args = opt + openmp + list(ext.extra_compile_args)
            ext.extra_link_args = openmp + strip + list(ext.extra_link_args)
        super().build_extensions()


def _cythonize_extensions():
    import numpy as np
    from Cython.Build import cythonize

    checks = _env_flag("SKLEARN_RNN_CYTHON_CHECKS")
    directives = {
        "language_level": 3,
        "boundscheck": checks,
        "wraparound": checks,
        "initializedcheck": checks,
        "nonecheck": False,
        "cdivision": True,
        "embedsignature": True,
    }
    extensions = [
        Extension(
            name,
            sources,
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for name, sources in EXTENSIONS
    ]
    return cythonize(
        extensions,
        compiler_directives=directives,
        nthreads=os.cpu_count() or 1,
    )


def _needs_cython(argv):
    """No cythonization for sdist or --help: generated C never ships."""
    skip = {"sdist", "egg_info", "--help", "-h", "--version", "clean"}
    return not any(arg in skip for arg in argv[1:])


setup(
    ext_modules=_cythonize_extensions() if _needs_cython(sys.argv) else [],
    cmdclass={"build_ext": build_ext_openmp},
)
