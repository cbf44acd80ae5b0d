"""Share of ``fit`` time spent outside the compiled kernels (issue 4 target:
under 10% for the medium config).

Runs ``fit`` of an RNNClassifier on the benchmark's medium config (B=64,
T=100, F=32, H=128, 16 batches, 2 epochs, float32) and measures the wall
time inside the kernel adapters (``_network.py`` forward/backward of each
cell, which call the Cython kernels) with a timer around each call, against
the wall time of the whole fit. Medians of 5 fits after a warm-up.

Why timers and not cProfile: cProfile adds about a microsecond to every
Python call, and nearly all Python calls are outside the kernels, so it
inflated the "outside" share (rnn: 11.3% under cProfile against 6-7% by
timers and by py-spy's sampling, which adds no per-call cost).

    python benchmarks/profile_fit.py [rnn lstm gru]
"""

import statistics
import sys
import time
import warnings

import numpy as np

from sklearn_rnn import RNNClassifier
from sklearn_rnn._network import CELLS

B, T, F, H, N_BATCHES, REPEATS = 64, 100, 32, 128, 16, 5


class TimedAdapter:
    """A cell adapter whose forward/backward calls are timed."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self.adapter, name)

    def _timed(self, method, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    def forward(self, *args, **kwargs):
        return self._timed(self.adapter.forward, *args, **kwargs)

    def backward(self, *args, **kwargs):
        return self._timed(self.adapter.backward, *args, **kwargs)


def main(cells):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B * N_BATCHES, T, F)).astype(np.float32)
    y = rng.integers(0, 10, B * N_BATCHES)
    print(f"medium config (B={B}, T={T}, F={F}, H={H}), {N_BATCHES} batches, "
          f"2 epochs, median of {REPEATS} fits")  # fmt: skip
    print("| cell | fit | in kernels | outside kernels |")
    print("|---|---:|---:|---:|")
    for cell in cells:
        est = RNNClassifier(
            cell=cell, hidden_layer_sizes=(H,), batch_size=B, max_iter=2,
            n_iter_no_change=1000, tol=0, random_state=0,
        )  # fmt: skip
        est.fit(X, y)  # warm-up
        runs = []
        original = CELLS[cell]
        try:
            for _ in range(REPEATS):
                CELLS[cell] = timed = TimedAdapter(original)
                t0 = time.perf_counter()
                est.fit(X, y)
                runs.append((time.perf_counter() - t0, timed.seconds))
        finally:
            CELLS[cell] = original
        elapsed = statistics.median(e for e, _ in runs)
        inside = statistics.median(i for _, i in runs)
        share = statistics.median(1 - i / e for e, i in runs)
        print(f"| {cell} | {elapsed:.3f} s | {inside:.3f} s | {100 * share:.1f}% |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
