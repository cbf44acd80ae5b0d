"""Fail early, with a readable message, when the compiled kernels are missing."""

import os

INPLACE_MSG = """
It appears that you are importing sklearn_rnn from within its source tree
without having built the extensions. Either run `pip install -e .` (or
`pip install .`) in the source tree, or import the package from elsewhere."""

STANDARD_MSG = """
If you installed sklearn-rnn from source, make sure a C compiler with OpenMP
was available and that the build finished without errors (`pip install -v .`)."""


def raise_build_error(e):
    local_dir = os.path.split(__file__)[0]
    msg = STANDARD_MSG
    if local_dir == "sklearn_rnn/__check_build":
        msg = INPLACE_MSG
    dir_content = sorted(os.listdir(local_dir))
    raise ImportError(
        f"{e}\n___________________________________________________________________\n"
        f"Contents of {local_dir}:\n{dir_content}\n"
        "___________________________________________________________________\n"
        "sklearn_rnn's compiled kernels could not be imported."
        f"{msg}"
    ) from e


try:
    from ._check_build import check_build  # noqa: F401
except ImportError as e:
    raise_build_error(e)
