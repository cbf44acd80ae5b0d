"""float64 training speed relative to float32 (issue 4 target: at least 0.5).

Times one training epoch of RNNClassifier on the medium config (B=64,
T=100, F=32, H=128, 8 batches) for float32 and float64 input of the same
values, and prints the speed ratio (float32 time / float64 time). The two
dtypes are timed in alternation, best of 5 each, so that the machine's
drift from minute to minute hits both alike.

    python benchmarks/float64_vs_float32.py [rnn lstm gru]
"""

import sys
import time
import warnings

import numpy as np

from sklearn_rnn import RNNClassifier

B, T, F, H, N_BATCHES, REPEATS = 64, 100, 32, 128, 8, 5


def best_fit_times(cell, datasets, y):
    """Best fit time for each dataset, the fits of the datasets alternating."""
    est = RNNClassifier(
        cell=cell, hidden_layer_sizes=(H,), batch_size=B, max_iter=1,
        n_iter_no_change=1000, tol=0, random_state=0,
    )  # fmt: skip
    times = [[] for _ in datasets]
    for repeat in range(REPEATS + 1):  # the first round warms up
        for X, found in zip(datasets, times):
            t0 = time.perf_counter()
            est.fit(X, y)
            if repeat:
                found.append(time.perf_counter() - t0)
    return [min(found) for found in times]


def main(cells):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B * N_BATCHES, T, F))
    y = rng.integers(0, 10, B * N_BATCHES)
    print(f"medium config (B={B}, T={T}, F={F}, H={H}), {N_BATCHES} batches, "
          f"best of {REPEATS}, float32 and float64 alternating")  # fmt: skip
    print("| cell | float32 | float64 | float64 speed / float32 speed |")
    print("|---|---:|---:|---:|")
    for cell in cells:
        t32, t64 = best_fit_times(cell, [X.astype(np.float32), X], y)
        print(f"| {cell} | {t32:.3f} s | {t64:.3f} s | {t32 / t64:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
