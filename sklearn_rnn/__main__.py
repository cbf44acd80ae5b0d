"""``python -m sklearn_rnn``: train a recurrent classifier on a real dataset.

The 8x8 handwritten digits that ship with scikit-learn are read row by row:
each image is a sequence of 8 steps of 8 pixel intensities (scaled to
[0, 1]). The first half of the data trains an :class:`RNNClassifier`, the
second half tests it; the script prints the test accuracy and fit time.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

from . import RNNClassifier, __version__
from ._kernels._openmp_helpers import _openmp_effective_n_threads


def load_digit_sequences():
    """Digits as sequences: X (1797, 8, 8) in [0, 1], y (1797,)."""
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    return X, digits.target


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_rnn",
        description="Train an RNNClassifier on the digits read row by row.",
    )
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[64, 64],
        help="hidden units of each stacked layer (default: 64 64)",
    )
    parser.add_argument(
        "--cell",
        choices=["rnn", "lstm", "gru"],
        default="rnn",
        help="recurrent cell (default: rnn, the best on these 8-step sequences)",
    )
    parser.add_argument("--max-iter", type=int, default=200, help="maximum epochs")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="one line per epoch")
    args = parser.parse_args(argv)

    X, y = load_digit_sequences()
    n_train = len(X) // 2
    X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    clf = RNNClassifier(
        cell=args.cell,
        hidden_layer_sizes=tuple(args.hidden),
        max_iter=args.max_iter,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    print(
        f"sklearn-rnn {__version__}: digits as sequences, {X_train.shape[0]} train / "
        f"{X_test.shape[0]} test, {X.shape[1]} steps x {X.shape[2]} features, "
        f"{_openmp_effective_n_threads()} OpenMP thread(s)"
    )
    print(f"model: {clf!r}")
    tic = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_time = time.perf_counter() - tic
    accuracy = clf.score(X_test, y_test)
    print(f"epochs: {clf.n_iter_}, final training loss: {clf.loss_:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    print(f"fit time: {fit_time:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
