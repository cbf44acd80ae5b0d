"""Share of ``fit`` time spent outside the compiled kernels (issue 4 target:
under 10% for the medium config).

Runs ``fit`` of an RNNClassifier on the benchmark's medium config (B=64,
T=100, F=32, H=128, 16 batches, 2 epochs, float32) and measures the wall
time inside the kernel adapters (``_network.py`` forward/backward of each
cell, which call the Cython kernels) with a timer around each call, against
the wall time of the whole fit. Medians of 5 fits after a warm-up.

A second table splits the outside time per mini-batch: the batch gather,
the output layer with the loss (one compiled call, ``dense_loss_grad``), the
L2 penalty, the optimizer (compiled passes, but outside the cell kernels by
the target's definition) and the rest (NumPy and Python between the calls), plus the per-fit setup (validation,
target encoding, initialisation) spread over the batches. Each piece is
timed by wrapping the function that ``fit`` calls.

Why timers and not cProfile: cProfile adds about a microsecond to every
Python call, and nearly all Python calls are outside the kernels, so it
inflated the "outside" share (rnn: 11.3% under cProfile against 6-7% by
timers and by py-spy's sampling, which adds no per-call cost).

    python benchmarks/profile_fit.py [--n-batches 64] [--epochs 1] [rnn lstm gru]

The default is the training run of ``bench_vs_torch.py``: one epoch of 64
mini-batches. (Until 61f5fe7 it ran 16 batches for 2 epochs: a quarter of
the data, whose fixed setup, ~8 ms against ~11 ms, counted against 32
mini-batches instead of 64.)
"""

import argparse
import statistics
import time
import warnings

import numpy as np

import sklearn_rnn._network as network
import sklearn_rnn._recurrent as recurrent
from sklearn_rnn import RNNClassifier
from sklearn_rnn._network import CELLS
from sklearn_rnn._stochastic_optimizers import AdamOptimizer

B, T, F, H, REPEATS = 64, 100, 32, 128, 5


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


class Stopwatch:
    """Wraps functions that ``fit`` calls, summing their wall time by label."""

    def __init__(self):
        self.seconds = {}
        self._undo = []

    def wrap(self, owner, name, label, getter=getattr, setter=setattr):
        original = getter(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + (
                    time.perf_counter() - t0
                )

        setter(owner, name, timed)
        self._undo.append(lambda: setter(owner, name, original))

    def restore(self):
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


def outside_breakdown(est, X, y, cell, n_batches):
    """Median us per mini-batch of each piece of the time outside the kernels."""
    runs = []
    for _ in range(REPEATS):
        watch = Stopwatch()
        watch.wrap(recurrent, "gather_time_major", "gather")
        watch.wrap(recurrent, "penalize", "penalty")
        watch.wrap(AdamOptimizer, "update_params", "optimizer")
        watch.wrap(recurrent.BaseRecurrent, "_fit_stochastic", "epochs")
        watch.wrap(network, "dense_loss_grad", "output+loss")
        CELLS[cell] = kernels = TimedAdapter(CELLS[cell])
        try:
            t0 = time.perf_counter()
            est.fit(X, y)
            elapsed = time.perf_counter() - t0
        finally:
            CELLS[cell] = kernels.adapter
            watch.restore()
        sec = watch.seconds
        pieces = {
            k: sec.get(k, 0.0) for k in ("gather", "output+loss", "penalty", "optimizer")
        }
        pieces["rest"] = sec["epochs"] - kernels.seconds - sum(pieces.values())
        pieces["setup"] = elapsed - sec["epochs"]
        runs.append(pieces)
    return {k: 1e6 * statistics.median(r[k] for r in runs) / n_batches for k in runs[0]}


def main(cells, n_batches, epochs):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B * n_batches, T, F)).astype(np.float32)
    y = rng.integers(0, 10, B * n_batches)
    print(f"medium config (B={B}, T={T}, F={F}, H={H}), {n_batches} batches, "
          f"{epochs} epoch(s), median of {REPEATS} fits")  # fmt: skip
    print("| cell | fit | in kernels | outside kernels |")
    print("|---|---:|---:|---:|")
    breakdowns = {}
    for cell in cells:
        est = RNNClassifier(
            cell=cell, hidden_layer_sizes=(H,), batch_size=B, max_iter=epochs,
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
        breakdowns[cell] = outside_breakdown(est, X, y, cell, epochs * n_batches)
    print()
    print("Outside the kernels, us per mini-batch (median of "
          f"{REPEATS} fits; setup: the rest of fit, spread over the batches)")  # fmt: skip
    names = ["gather", "output+loss", "penalty", "optimizer", "rest", "setup"]
    print("| cell | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for cell, pieces in breakdowns.items():
        print(f"| {cell} | " + " | ".join(f"{pieces[k]:.0f}" for k in names) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", default=["rnn", "lstm", "gru"])
    parser.add_argument("--n-batches", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    main(args.cells, args.n_batches, args.epochs)
