#!/usr/bin/env bash
# cibuildwheel `before-all` on macOS: install LLVM's OpenMP runtime for both
# architectures, where [tool.cibuildwheel.macos] points the compiler:
#
#   $SKLEARN_RNN_OPENMP_ROOT/osx-64      x86_64 wheels (MACOSX_DEPLOYMENT_TARGET=10.13)
#   $SKLEARN_RNN_OPENMP_ROOT/osx-arm64   arm64 wheels  (MACOSX_DEPLOYMENT_TARGET=12.0)
#
# (default root: ~/.sklearn-rnn-openmp). Apple clang compiles OpenMP with
# `-Xpreprocessor -fopenmp` but ships no runtime; delocate copies this
# libomp.dylib into the wheel. Homebrew's libomp is built for the runner's own
# macOS version, so delocate would refuse it for older deployment targets; the
# conda-forge llvm-openmp build pinned here targets macOS 10.13 (osx-64) and
# 11.0 (osx-arm64), no newer than our targets (later llvm-openmp builds need
# 11.0 on x86_64). The script prints the minimum macOS of each libomp.dylib and
# fails when it is newer than the target.
set -euo pipefail

ROOT="${SKLEARN_RNN_OPENMP_ROOT:-$HOME/.sklearn-rnn-openmp}"
VERSION="${LLVM_OPENMP_VERSION:-18.1.8}"
mkdir -p "$ROOT"

# micromamba: one static binary, no base environment.
case "$(uname -m)" in
    arm64) HOST_SUBDIR=osx-arm64 ;;
    x86_64) HOST_SUBDIR=osx-64 ;;
    *) echo "install_macos_openmp.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
MICROMAMBA="$ROOT/bin/micromamba"
if [[ ! -x "$MICROMAMBA" ]]; then
    curl -fsSL "https://micro.mamba.pm/api/micromamba/$HOST_SUBDIR/latest" |
        tar -xj -C "$ROOT" bin/micromamba
fi
export MAMBA_ROOT_PREFIX="$ROOT/mamba"

# Version comparison "a <= b" for dotted macOS versions.
version_le() {
    [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -t. -k1,1n -k2,2n | head -n1)" == "$1" ]]
}

for pair in osx-64:10.13 osx-arm64:12.0; do
    subdir="${pair%%:*}"
    target="${pair##*:}"
    prefix="$ROOT/$subdir"
    "$MICROMAMBA" create --yes --quiet --prefix "$prefix" --platform "$subdir" \
        --channel conda-forge --override-channels "llvm-openmp=$VERSION"
    lib="$prefix/lib/libomp.dylib"
    # LC_BUILD_VERSION (minos) or, for old binaries, LC_VERSION_MIN_MACOSX (version).
    minos="$(otool -l "$lib" | awk '/LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX/ {f=1} f && ($1=="minos" || $1=="version") {print $2; exit}')"
    echo "llvm-openmp $VERSION ($subdir): $lib, minimum macOS $minos, wheel target $target"
    if ! version_le "$minos" "$target"; then
        echo "install_macos_openmp.sh: $lib needs macOS $minos, newer than the wheel target $target" >&2
        exit 1
    fi
done
