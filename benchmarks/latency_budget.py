"""Where the time of a one-sequence ``predict_proba`` goes (issue 4 target:
latency at least 5 times lower than PyTorch's).

For each cell, on the latency benchmark's input (one (1, 50, 16) sequence,
hidden 64, float32, one thread), prints the best of several rounds of:

* ``predict_proba``, the public call;
* the recurrent layer's forward kernel alone, through its cell adapter, on
  the validated time-major input, at T = 0 (argument passing only), 1 and
  50 steps: ``(t50 - t1) / 49`` is the cost of one recurrent step and
  ``t1`` the fixed cost of a call (packing ``W_hh^T``, the input
  projection, one step);
* what is outside that kernel: validation, the output layer, the softmax,
  the Python between them;
* with torch installed, the same sequence through ``nn.RNN/LSTM/GRU`` and
  ``nn.Linear`` in ``inference_mode``, and the 5x budget (its time / 5).

    python benchmarks/latency_budget.py [rnn lstm gru]
"""

import functools
import sys
import time

import numpy as np
from bench_vs_torch import (
    LATENCY_HIDDEN,
    LATENCY_SHAPE,
    N_CLASSES,
    make_data,
    ours_fit,
    torch_fit,
    torch_proba,
)
from threadpoolctl import threadpool_limits

from sklearn_rnn._kernels._rnn_fast import ACTIVATIONS
from sklearn_rnn._network import CELLS

ROUNDS, CALLS = 15, 500


def best_us(fns):
    """Best mean time of one call of each function, in us: ROUNDS rounds of
    CALLS calls of each, the functions taking turns within a round so that
    the machine's drift hits them alike."""
    for fn in fns:
        for _ in range(CALLS // 5):
            fn()
    best = [np.inf] * len(fns)
    for _ in range(ROUNDS):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(CALLS):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / CALLS)
    return [b * 1e6 for b in best]


def kernel_call(clf, x1, T):
    """The forward kernel of the (single) recurrent layer on x1's first T steps."""
    net = clf._net
    cell = CELLS[net.cell]
    layers, _, _ = net.unpack(clf._theta)
    p = layers[0][0]  # the first direction of the first layer
    H = p["weight_hh"].shape[1]
    X = np.ascontiguousarray(x1[:, :T].transpose(1, 0, 2))  # (T, 1, F)
    lengths = np.full(1, T, dtype=np.int32)
    out = np.empty((T, 1, H), dtype=X.dtype)
    states0 = tuple(np.zeros((1, H), dtype=X.dtype) for _ in range(cell.n_states))
    act = ACTIVATIONS[clf.activation]
    return lambda: cell.forward(p, X, lengths, out, 0, states0, False, act, 1)


def main(cells):
    _, T, F = LATENCY_SHAPE
    X, y = make_data(16 * N_CLASSES, T, F)
    x1 = np.ascontiguousarray(X[:1])
    try:
        import torch

        has_torch = True
    except ImportError:
        has_torch = False
    print(f"one (1, {T}, {F}) sequence, hidden {LATENCY_HIDDEN}, float32, 1 thread; "
          f"best of {ROUNDS} rounds of {CALLS} calls, in us")  # fmt: skip
    head = ("| cell | predict_proba | kernel T=0 | kernel T=1 | kernel T=50 "
            "| per step | outside the kernel |")  # fmt: skip
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if has_torch:
        head += " torch | 5x budget |"
        rule += "---:|---:|"
    print(head)
    print(rule)
    with threadpool_limits(limits=1):
        if has_torch:
            torch.set_num_threads(1)
        for cell in cells:
            clf = ours_fit(cell, X, y, LATENCY_HIDDEN, 32, 1)
            fns = [functools.partial(clf.predict_proba, x1)]
            fns += [kernel_call(clf, x1, n) for n in (0, 1, T)]
            if has_torch:
                model = torch_fit(cell, X, y, LATENCY_HIDDEN, 32, 1)
                fns.append(functools.partial(torch_proba, model, x1))
            t_api, t0, t1, tT, *t_torch = best_us(fns)
            row = (f"| {cell} | {t_api:.1f} | {t0:.1f} | {t1:.1f} | {tT:.1f} "
                   f"| {(tT - t1) / (T - 1):.2f} | {t_api - tT:.1f} |")  # fmt: skip
            if has_torch:
                row += f" {t_torch[0]:.1f} | {t_torch[0] / 5:.1f} |"
            print(row)


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
