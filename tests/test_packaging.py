"""Packaging: one version string, show_versions, the wheel build configuration."""

import importlib.util
import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pytest
import scipy
import sklearn
from threadpoolctl import threadpool_info

import sklearn_rnn
from sklearn_rnn import show_versions
from sklearn_rnn._kernels._openmp_helpers import _openmp_parallelism_enabled

# pyproject.toml next to tests/: the source tree, or the copy cibuildwheel and
# tools/check_wheel.sh put beside the tests they run against a wheel.
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
WHEEL_PYTHONS = ("cp310", "cp311", "cp312", "cp313")


def _pyproject():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    if not PYPROJECT.is_file():
        pytest.skip(f"no pyproject.toml at {PYPROJECT}")
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_show_versions(capsys):
    show_versions()
    out = capsys.readouterr().out

    assert f"sklearn-rnn: {sklearn_rnn.__version__}" in out
    assert f"numpy: {np.__version__}" in out
    assert f"scipy: {scipy.__version__}" in out
    assert f"scikit-learn: {sklearn.__version__}" in out
    assert f"threadpoolctl: {version('threadpoolctl')}" in out
    assert f"Built with OpenMP: {_openmp_parallelism_enabled()}" in out

    # Every BLAS/OpenMP pool of the process is listed with its details.
    pools = threadpool_info()
    if _openmp_parallelism_enabled():
        assert any(pool["user_api"] == "openmp" for pool in pools)
    if pools:
        assert "threadpoolctl info:" in out
    for pool in pools:
        assert f"internal_api: {pool['internal_api']}" in out
        assert f"num_threads: {pool['num_threads']}" in out
        assert f"filepath: {pool['filepath']}" in out


@pytest.mark.skipif(
    os.environ.get("SKLEARN_RNN_EXPECT_OPENMP") != "1",
    reason="only wheel builds (SKLEARN_RNN_EXPECT_OPENMP=1) must have OpenMP",
)
def test_wheel_built_with_openmp():
    assert _openmp_parallelism_enabled()


def test_version_matches_distribution_metadata():
    try:
        dist_version = version("sklearn-rnn")
    except PackageNotFoundError:
        pytest.skip("sklearn-rnn is not installed: no distribution metadata")
    assert sklearn_rnn.__version__ == dist_version


def test_version_defined_once():
    config = _pyproject()
    assert "version" not in config["project"]
    assert "version" in config["project"]["dynamic"]
    attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "sklearn_rnn._version.__version__"


def test_cibuildwheel_config():
    cibw = _pyproject()["tool"]["cibuildwheel"]

    assert sorted(cibw["build"]) == [f"{py}-*" for py in WHEEL_PYTHONS]
    assert "*-musllinux_*" in cibw["skip"]
    # PyPy and free-threaded builds exist only when enabled.
    assert not cibw.get("enable")
    assert set(cibw["linux"]["archs"]) == {"x86_64", "aarch64"}
    assert set(cibw["macos"]["archs"]) == {"x86_64", "arm64"}
    assert cibw["windows"]["archs"] == ["AMD64"]

    # The suite runs against each wheel, from copies of tests/ and pyproject.toml.
    assert {"tests", "pyproject.toml"} <= set(cibw["test-sources"])
    assert "pytest tests" in cibw["test-command"]

    # Each platform's repair tool vendors the OpenMP runtime, then the wheel
    # contents are checked.
    for platform, tool in [
        ("linux", "auditwheel repair"),
        ("macos", "delocate-wheel"),
        ("windows", "delvewheel repair"),
    ]:
        command = cibw[platform]["repair-wheel-command"]
        assert command.startswith(tool)
        assert "build_tools/wheels/check_wheel_contents.py" in command

    targets = {
        override["select"]: override["environment"]["MACOSX_DEPLOYMENT_TARGET"]
        for override in cibw["overrides"]
    }
    assert targets == {"*-macosx_x86_64": "10.13", "*-macosx_arm64": "12.0"}


def _cibuildwheel_command():
    executable = shutil.which("cibuildwheel")
    if executable is not None:
        return [executable]
    if importlib.util.find_spec("cibuildwheel") is not None:
        return [sys.executable, "-m", "cibuildwheel"]
    pytest.skip("cibuildwheel is not installed")


def test_cibuildwheel_build_identifiers():
    if not PYPROJECT.is_file():
        pytest.skip(f"no pyproject.toml at {PYPROJECT}")
    command = _cibuildwheel_command() + [
        "--print-build-identifiers",
        "--platform",
        "linux",
        str(PYPROJECT.parent),
    ]
    # CIBW_* variables (set in CI) would override the configuration under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=PYPROJECT.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = [
        f"{py}-manylinux_{arch}"
        for arch in ("x86_64", "aarch64")
        for py in WHEEL_PYTHONS
    ]
    assert sorted(result.stdout.split()) == sorted(expected)
