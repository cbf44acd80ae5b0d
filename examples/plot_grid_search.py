"""
=======================================
Grid search over cells and hidden sizes
=======================================

The recurrent estimators are ordinary scikit-learn estimators, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them like any other.
Here it crosses the three cells (``'rnn'``, ``'lstm'`` and ``'gru'``) with
three hidden sizes, on the digits read row by row, and the results are shown
as two heatmaps: the cross-validated accuracy and the time to fit.

To run the same search on several machines, see :ref:`scaling-out`: it takes
one ``with joblib.parallel_backend("dask"):`` around ``fit``.
"""

# SPDX-License-Identifier: BSD-3-Clause

# %%
# The search
# ----------
# 450 training digits and 20 epochs per fit keep the 27 fits (9 candidates
# times 3 folds) short. The models are therefore under-trained, which
# favours the cells that learn fastest; with the defaults (200 epochs) all
# three cells reach higher scores.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_rnn import RNNClassifier

digits = load_digits()
X = digits.images / 16.0  # (1797, 8, 8): 8 rows of 8 pixels
y = digits.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=450, stratify=y, random_state=0
)

cells = ["rnn", "lstm", "gru"]
sizes = [(8,), (16,), (32,)]
grid = GridSearchCV(
    RNNClassifier(batch_size=50, max_iter=20, random_state=0),
    param_grid={"cell": cells, "hidden_layer_sizes": sizes},
    cv=3,
)
# Every fit stops at max_iter; silence the ConvergenceWarning it raises.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=ConvergenceWarning)
    grid.fit(X_train, y_train)

print(f"best parameters: {grid.best_params_}")
print(f"best cross-validated accuracy: {grid.best_score_:.3f}")
print(f"test accuracy of the refitted best model: {grid.score(X_test, y_test):.3f}")

# %%
# The results as heatmaps
# -----------------------
# ``cv_results_`` lists the candidates in the order of ``ParameterGrid``:
# ``cell`` varies slowest, because the keys are sorted. A reshape to
# ``(n_cells, n_sizes)`` gives the heatmap. The LSTM has four gates and the
# GRU three, against one for the vanilla cell, and its fit time shows it.
results = grid.cv_results_
shape = (len(cells), len(sizes))
assert [p["cell"] for p in results["params"][:: len(sizes)]] == cells
scores = results["mean_test_score"].reshape(shape)
fit_times = results["mean_fit_time"].reshape(shape)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
panels = [
    (scores, "mean CV accuracy", "viridis", "{:.3f}"),
    (fit_times, "mean fit time (s)", "magma", "{:.2f}"),
]
for ax, (values, title, cmap, fmt) in zip(axes, panels):
    image = ax.imshow(values, cmap=cmap)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(len(sizes)), [str(s[0]) for s in sizes])
    ax.set_yticks(range(len(cells)), cells)
    ax.set_xlabel("hidden units")
    ax.set_ylabel("cell")
    ax.set_title(title)
    mid = (values.max() + values.min()) / 2
    for i in range(shape[0]):
        for j in range(shape[1]):
            ax.text(
                j,
                i,
                fmt.format(values[i, j]),
                ha="center",
                va="center",
                color="black" if values[i, j] > mid else "white",
            )
fig.suptitle("GridSearchCV over cell x hidden_layer_sizes (digits, 3-fold CV)")
fig.tight_layout()
plt.show()
