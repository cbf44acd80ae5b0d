#!/usr/bin/env bash
# Debug builds of sklearn-rnn: the test suite on bounds-checked kernels, and a
# small workout of every kernel under valgrind memcheck and AddressSanitizer.
#
#  1. export the working tree as git sees it (tracked files with their edits,
#     plus new untracked files; ignored build outputs such as .c and .so stay
#     out) to $DEBUG_BUILD_DIR/checked, and build it in place with
#     SKLEARN_RNN_CYTHON_CHECKS=1 (Cython's boundscheck, wraparound and
#     initializedcheck back on) and SKLEARN_RNN_DEBUG_SYMBOLS=1 (keeps -g);
#     the generated C must contain bounds checks;
#  2. "tests": run the whole test suite against that copy (PYTHONPATH, after
#     checking that `import sklearn_rnn` finds it and not an installed copy);
#     an out-of-bounds memoryview index raises IndexError and fails a test;
#  3. "valgrind": run $DEBUG_BUILD_DIR/small_case.py (every cell, stacked and
#     bidirectional layers, dropout, truncated BPTT, ragged batches, float32
#     and float64, batches large enough for several OpenMP threads) on the
#     checked build under valgrind memcheck with PYTHONMALLOC=malloc. Fails
#     when an error's stack reaches sklearn-rnn's code; errors wholly inside
#     CPython or other packages (valgrind reports some without CPython's
#     suppression file) are counted, not fatal;
#  4. "asan": a second copy built with CC="gcc -fsanitize=address" and the
#     release directives (checks off: what users run), and the same workout
#     with libasan preloaded (PYTHONMALLOC=malloc, leak detection off: CPython
#     frees nothing at exit). Any AddressSanitizer report fails.
#  Before 3 and 4 a canary, a throw-away extension writing one int past a
#  malloc'd block, must be reported, so a silent tool cannot pass.
#
# Usage: tools/debug_build.sh [tests] [valgrind] [asan]   (default: all three)
# Exits non-zero on any failure; logs stay in the work directory.
# Environment:
#   PYTHON            interpreter (default: python3)
#   DEBUG_BUILD_DIR   work directory (default: /tmp/sklearn-rnn-debug)
#   PYTEST_ARGS       extra pytest arguments (default: -x)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')"  # no shim
WORK="${DEBUG_BUILD_DIR:-/tmp/sklearn-rnn-debug}"
STEPS=("$@")
[[ ${#STEPS[@]} -eq 0 ]] && STEPS=(tests valgrind asan)
START=$SECONDS

step() { printf '\n== [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
fail() { echo "debug_build.sh: FAILED: $*" >&2; exit 1; }
wants() { [[ " ${STEPS[*]} " == *" $1 "* ]]; }
unset PYTHONPATH PYTHONHOME

# shellcheck source=tools/_export_tree.sh
source "$REPO/tools/_export_tree.sh"

build() {  # build DEST LOG [VAR=value...]: build_ext --inplace, quietly
    local dest=$1 log=$2
    shift 2
    (cd "$dest" && env SKLEARN_RNN_BUILD_PARALLEL="$(nproc)" "$@" \
        "$PY" setup.py build_ext --inplace >"$log" 2>&1) ||
        { tail -30 "$log"; fail "build of $dest (log: $log)"; }
}

check_import() {  # check_import DEST [VAR=value...]: sklearn_rnn must come from DEST
    local dest=$1
    shift
    # from DEST, not from the repository: `python -c` puts the cwd first
    (cd "$dest" && env "$@" PYTHONPATH="$dest" "$PY" -c '
import sys, sklearn_rnn
assert sklearn_rnn.__file__.startswith(sys.argv[1]), sklearn_rnn.__file__
print("sklearn_rnn imported from", sklearn_rnn.__file__)' "$dest")
}

mkdir -p "$WORK"
cat >"$WORK/small_case.py" <<'EOF'
"""A small workout of every kernel, for valgrind and AddressSanitizer."""
import warnings

import numpy as np

warnings.simplefilter("ignore")
import sklearn_rnn  # noqa: E402
from sklearn_rnn import (  # noqa: E402
    RNNClassifier, RNNRegressor, RNNTransformer, SequenceScaler,
)

print("sklearn_rnn from", sklearn_rnn.__file__, flush=True)
rng = np.random.RandomState(0)
X = rng.normal(size=(24, 6, 3))
seqs = [X[i, : 2 + i % 5] for i in range(24)]
y = np.arange(24) % 3
y_steps = [rng.normal(size=len(s)) for s in seqs]
for cell in ("rnn", "lstm", "gru"):
    for bidirectional in (False, True):
        for dtype in (np.float64, np.float32):
            data = [s.astype(dtype) for s in seqs]
            common = dict(hidden_layer_sizes=(4, 3), cell=cell, max_iter=2,
                          bidirectional=bidirectional, dropout=0.2,
                          bptt_steps=3, random_state=0)
            RNNClassifier(pooling="mean", **common).fit(data, y).predict_proba(data)
            RNNRegressor(pooling="sequence", **common).fit(data, y_steps).predict(data)
            RNNTransformer(pooling="max", **common).fit(data, y).transform(
                X.astype(dtype))
    print(cell, "ok", flush=True)
# large enough for several OpenMP threads per kernel call
Xb = rng.normal(size=(128, 16, 4))
for cell in ("rnn", "lstm", "gru"):
    RNNRegressor(hidden_layer_sizes=(32,), cell=cell, max_iter=1).fit(
        Xb, Xb[:, 0, 0]).predict(Xb)
SequenceScaler().fit(seqs).transform(seqs)
print("small case done", flush=True)
EOF
cat >"$WORK/canary.c" <<'EOF'
#include <stdlib.h>
int overflow(int n) {
    int *a = malloc(n * sizeof(int));
    a[n] = 1;  /* one int past the block */
    int r = a[0];
    free(a);
    return r;
}
EOF
CANARY='import ctypes, sys; ctypes.CDLL(sys.argv[1]).overflow(4)'

CHECKED="$WORK/checked"
if wants tests || wants valgrind; then
    step "export and bounds-checked build: $CHECKED"
    export_tree "$CHECKED"
    build "$CHECKED" "$WORK/build-checked.log" \
        SKLEARN_RNN_CYTHON_CHECKS=1 SKLEARN_RNN_DEBUG_SYMBOLS=1
    for f in "$CHECKED"/sklearn_rnn/_kernels/_{rnn,lstm,gru}_fast.c; do
        grep -q '__Pyx_RaiseBufferIndexError(__pyx' "$f" ||
            fail "no bounds checks in $f: SKLEARN_RNN_CYTHON_CHECKS had no effect"
    done
    echo "bounds checks compiled in (_rnn_fast.c, _lstm_fast.c, _gru_fast.c)"
    check_import "$CHECKED"
fi

if wants tests; then
    step "test suite on the bounds-checked build"
    # shellcheck disable=SC2086
    (cd "$CHECKED" && PYTHONPATH="$CHECKED" "$PY" -m pytest tests -q \
        -p no:cacheprovider ${PYTEST_ARGS:--x} 2>&1 | tee "$WORK/tests-checked.log" |
        tail -5) || true
    grep -Eq '^[0-9]+ passed' <(tail -1 "$WORK/tests-checked.log") &&
        ! grep -Eq '[0-9]+ (failed|error)' <(tail -1 "$WORK/tests-checked.log") ||
        fail "test suite on the bounds-checked build (log: $WORK/tests-checked.log)"
fi

if wants valgrind; then
    command -v valgrind >/dev/null || fail "valgrind is not installed"
    step "valgrind canary"
    gcc -g -O0 -shared -fPIC "$WORK/canary.c" -o "$WORK/canary.so"
    valgrind --log-file="$WORK/valgrind-canary.log" "$PY" -c "$CANARY" \
        "$WORK/canary.so" || true
    grep -q "Invalid write of size 4" "$WORK/valgrind-canary.log" ||
        fail "valgrind did not report the canary overflow"
    echo "valgrind reports the canary overflow"

    step "valgrind memcheck on small_case.py (a few minutes)"
    PYTHONPATH="$CHECKED" PYTHONMALLOC=malloc OMP_NUM_THREADS=2 valgrind \
        --tool=memcheck --leak-check=no --num-callers=40 \
        --log-file="$WORK/valgrind.log" "$PY" "$WORK/small_case.py"
    "$PY" - "$WORK/valgrind.log" <<'EOF' || fail "valgrind (log: $WORK/valgrind.log)"
import re
import sys

log = open(sys.argv[1]).read()
kind = re.compile(r"== (Invalid (read|write|free)|Conditional jump|Use of uninit"
                  r"|Syscall param|Mismatched free|Source and destination overlap"
                  r"|Argument '\w+' of function)")
ours = re.compile(r"sklearn_rnn|_(rnn|lstm|gru)_fast\.(c|pyx)|_cython_blas\.(c|pyx)"
                  r"|_openmp_helpers\.(c|pyx)|_recurrent_common\.pxd|_activations\.pxd")
blocks = [b for b in re.split(r"\n==\d+== *\n", log) if kind.search(b)]
mine = [b for b in blocks if ours.search(b)]
summary = re.findall(r"ERROR SUMMARY: .*", log)
print(summary[-1] if summary else "no ERROR SUMMARY")
print(f"{len(blocks)} error contexts, {len(mine)} in sklearn-rnn's code, "
      f"{len(blocks) - len(mine)} wholly in CPython or other packages")
for b in mine[:5]:
    print(b)
sys.exit(1 if mine else 0)
EOF
fi

if wants asan; then
    LIBASAN="$(gcc -print-file-name=libasan.so)"
    [[ -e "$LIBASAN" ]] || fail "libasan.so not found (gcc's AddressSanitizer)"
    ASAN_ENV=(PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
              LD_PRELOAD="$LIBASAN")
    step "AddressSanitizer canary"
    gcc -fsanitize=address -g -shared -fPIC "$WORK/canary.c" -o "$WORK/canary-asan.so"
    env "${ASAN_ENV[@]}" "$PY" -c "$CANARY" "$WORK/canary-asan.so" \
        >"$WORK/asan-canary.log" 2>&1 || true
    grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$WORK/asan-canary.log" ||
        fail "AddressSanitizer did not report the canary overflow"
    echo "AddressSanitizer reports the canary overflow"

    ASAN="$WORK/asan"
    step "export and AddressSanitizer build (release directives): $ASAN"
    export_tree "$ASAN"
    build "$ASAN" "$WORK/build-asan.log" \
        CC="${CC:-gcc} -fsanitize=address -fno-omit-frame-pointer" \
        SKLEARN_RNN_DEBUG_SYMBOLS=1
    check_import "$ASAN" "${ASAN_ENV[@]}"
    step "small_case.py under AddressSanitizer"
    (env "${ASAN_ENV[@]}" PYTHONPATH="$ASAN" OMP_NUM_THREADS=2 \
        "$PY" "$WORK/small_case.py" >"$WORK/asan.log" 2>&1) ||
        { tail -40 "$WORK/asan.log"; fail "small_case.py under AddressSanitizer"; }
    ! grep -q "ERROR: AddressSanitizer" "$WORK/asan.log" ||
        fail "AddressSanitizer report (log: $WORK/asan.log)"
    grep -q "small case done" "$WORK/asan.log" || fail "small_case.py did not finish"
    echo "no AddressSanitizer report"
fi

step "done: ${STEPS[*]} passed; logs in $WORK"
