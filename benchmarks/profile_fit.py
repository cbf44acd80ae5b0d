"""Share of ``fit`` time spent outside the compiled kernels (issue 4 target:
under 10% for the medium config).

Profiles one ``fit`` of an RNNClassifier on the benchmark's medium config
(B=64, T=100, F=32, H=128, 16 batches, 2 epochs, float32) with cProfile and
reports the time inside the kernel adapters (``_network.py`` forward/backward
of each cell, which call the Cython kernels) against the whole fit.

    python benchmarks/profile_fit.py [rnn lstm gru]
"""

import cProfile
import pstats
import sys
import time
import warnings

import numpy as np

from sklearn_rnn import RNNClassifier
from sklearn_rnn._network import CELLS

B, T, F, H, N_BATCHES = 64, 100, 32, 128, 16


def kernel_seconds(stats, cell):
    """Seconds inside the cell adapter's forward/backward (the kernels)."""
    adapter = type(CELLS[cell])
    codes = {adapter.forward.__code__, adapter.backward.__code__}
    total = 0.0
    for (filename, line, name), (_, _, tottime, _, _) in stats.stats.items():
        for code in codes:
            if (filename, line, name) == (
                code.co_filename, code.co_firstlineno, code.co_name
            ):
                total += tottime
    return total


def main(cells):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B * N_BATCHES, T, F)).astype(np.float32)
    y = rng.integers(0, 10, B * N_BATCHES)
    print(f"medium config (B={B}, T={T}, F={F}, H={H}), {N_BATCHES} batches, 2 epochs")
    print("| cell | fit | in kernels | outside kernels |")
    print("|---|---:|---:|---:|")
    for cell in cells:
        est = RNNClassifier(
            cell=cell, hidden_layer_sizes=(H,), batch_size=B, max_iter=2,
            n_iter_no_change=1000, tol=0, random_state=0,
        )  # fmt: skip
        est.fit(X, y)  # warm-up
        prof = cProfile.Profile()
        prof.enable()
        t0 = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - t0
        prof.disable()
        inside = kernel_seconds(pstats.Stats(prof), cell)
        print(f"| {cell} | {elapsed:.3f} s | {inside:.3f} s | "
              f"{100 * (1 - inside / elapsed):.1f}% |")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
