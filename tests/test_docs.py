"""The documentation builds with no warnings, example gallery included.

Runs ``sphinx-build -W --keep-going`` (warnings are errors) on a copy of
``docs/``, ``examples/`` and ``benchmarks/`` in a temporary directory, so the
build never writes into the source tree (sphinx-gallery writes its pages next
to the sources). The gallery runs every ``examples/plot_*.py`` script.

Skipped when the documentation tools are not installed (``pip install
".[docs]"``) or when the documentation sources are not next to the tests, as
in the test run of an installed wheel. On an otherwise idle 2-core machine the
build takes about a minute, most of it running the examples.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sklearn_rnn
import sklearn_rnn.exceptions

REPO = Path(__file__).resolve().parents[1]
# What the documentation reads: its sources, the gallery scripts, and the
# benchmark table that benchmarks.rst includes.
DOC_SOURCES = ("docs", "examples", "benchmarks")
BUILD_LEFTOVERS = ("_build", "generated", "auto_examples", "__pycache__")


def _script_output(rst):
    """The printed output of an example, from its sphinx-gallery page source."""
    out, inside = [], False
    for line in rst.splitlines():
        if "sphx-glr-script-out" in line:
            inside = True
        elif inside and line and not line[0].isspace():
            inside = False
        elif inside:
            out.append(line)
    return "\n".join(out)


def test_docs_build_without_warnings(tmp_path):
    for module in (
        "sphinx",
        "sphinx_gallery",
        "numpydoc",
        "pydata_sphinx_theme",
        "matplotlib",
    ):
        pytest.importorskip(module)
    if not all((REPO / name).is_dir() for name in DOC_SOURCES):
        pytest.skip("the documentation sources are not next to the tests")

    src = tmp_path / "src"
    for name in DOC_SOURCES:
        shutil.copytree(
            REPO / name, src / name, ignore=shutil.ignore_patterns(*BUILD_LEFTOVERS)
        )
    out = tmp_path / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    tic = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(src / "docs"), str(out)],
        check=False, capture_output=True, text=True, env=env, timeout=900,
        cwd=tmp_path,  # not the repository root, which `-m` puts on sys.path
    )  # fmt: skip
    elapsed = time.perf_counter() - tic
    log = proc.stdout + proc.stderr
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    print(f"docs build: {elapsed:.1f} s, {len(warnings)} warnings")
    print("\n".join(re.findall(r".*plot_\w+\.py:\s+[\d.]+ sec.*", log)))
    assert proc.returncode == 0, log[-5000:]
    assert warnings == []
    assert "build succeeded" in log

    # Every example ran and drew at least one figure, and printed no warning
    # (a ConvergenceWarning or worse would show up in the rendered page).
    examples = sorted(p.stem for p in (REPO / "examples").glob("plot_*.py"))
    assert len(examples) >= 5
    gallery = src / "docs" / "auto_examples"
    for name in examples:
        assert (gallery / "images" / f"sphx_glr_{name}_001.png").is_file(), name
        assert (out / "_images" / f"sphx_glr_{name}_001.png").is_file(), name
        rst = (gallery / f"{name}.rst").read_text()
        assert "Warning" not in _script_output(rst), name

    # The API reference has a page for every public name.
    public = [name for name in sklearn_rnn.__all__ if name != "__version__"]
    public += [f"exceptions.{name}" for name in sklearn_rnn.exceptions.__all__]
    for name in public:
        assert (out / "generated" / f"sklearn_rnn.{name}.html").is_file(), name
