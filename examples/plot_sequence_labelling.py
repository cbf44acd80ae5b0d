"""
================================================
Many-to-many: labelling every step of a sequence
================================================

With ``pooling='sequence'`` an estimator gives one output per time step. This
example builds a sequence-labelling task from scikit-learn's digits: two to
five digit images are written next to each other, like a handwritten number,
and read column by column from left to right. Each column is one time step of
8 features (its pixels), and its label is the digit it belongs to. The
sequences have different lengths (16 to 40 steps), so they are passed as a
list.

A unidirectional network has to label a column when it has seen only the
columns to its left: the first columns of a digit do not tell which digit it
is. ``bidirectional=True`` adds a second pass from right to left, so every
step sees the whole sequence.
"""

# SPDX-License-Identifier: BSD-3-Clause

# %%
# Building the sequences
# ----------------------
# Training sequences use digits from the first half of the dataset and test
# sequences digits from the second half, so no test image is seen in
# training.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import RNNClassifier

digits = load_digits()
images = digits.images / 16.0
rng = np.random.RandomState(0)


def make_sequences(n_sequences, indices):
    """Concatenate 2 to 5 random digits; label each column with its digit."""
    X, y = [], []
    for _ in range(n_sequences):
        chosen = rng.choice(indices, size=rng.randint(2, 6))
        # images[i].T: one row per column of the image, i.e. one step per column
        X.append(np.concatenate([images[i].T for i in chosen]))
        y.append(np.repeat(digits.target[chosen], 8))
    return X, y


half = len(images) // 2
X_train, y_train = make_sequences(300, np.arange(half))
X_test, y_test = make_sequences(200, np.arange(half, len(images)))
print(
    f"{len(X_train)} training sequences, lengths {min(map(len, X_train))} "
    f"to {max(map(len, X_train))} steps; the first: X {X_train[0].shape}, "
    f"y {y_train[0].shape}"
)

# %%
# One and two directions
# ----------------------
# Both models use 24 GRU units per direction and the same training budget.
# ``fit`` takes the list of per-step label arrays as ``y``. ``predict``
# returns a list too, one array of labels per sequence, because the lengths
# differ. ``score`` is the accuracy over all steps.
models = {}
for bidirectional in (False, True):
    clf = RNNClassifier(
        hidden_layer_sizes=(24,),
        pooling="sequence",
        bidirectional=bidirectional,
        batch_size=32,
        max_iter=30,
        random_state=0,
    )
    # 30 epochs is a short run: silence the ConvergenceWarning it raises.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        clf.fit(X_train, y_train)
    name = "bidirectional" if bidirectional else "unidirectional"
    models[name] = clf
    print(f"{name}: per-step test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Where the errors are
# --------------------
# The accuracy at each column position within a digit (0 is its leftmost
# column) shows the difference. The unidirectional model is guessing at the
# first columns and improves as it reads more of the digit; the
# bidirectional one is about as accurate everywhere. Below, a test sequence
# with the labels of both models under each column (red: wrong).
fig = plt.figure(figsize=(10, 6.5))
grid = fig.add_gridspec(2, 1, height_ratios=[1.2, 1])
ax_pos = fig.add_subplot(grid[0])
for name, clf in models.items():
    pred = clf.predict(X_test)
    correct = np.concatenate([p == t for p, t in zip(pred, y_test)])
    column = np.concatenate([np.arange(len(t)) % 8 for t in y_test])
    by_column = [correct[column == c].mean() for c in range(8)]
    ax_pos.plot(range(8), by_column, "o-", label=name)
ax_pos.set_xlabel("column of the digit (0 = leftmost)")
ax_pos.set_ylabel("test accuracy")
ax_pos.set_ylim(0, 1.02)
ax_pos.legend(loc="lower right")
ax_pos.set_title("Per-step accuracy by position within a digit")

example = int(np.argmax([len(t) for t in y_test[:20]]))  # a long one
ax_img = fig.add_subplot(grid[1])
ax_img.imshow(X_test[example].T, cmap="gray_r", aspect="auto")
ax_img.set_yticks([])
ax_img.set_xticks([])
ax_img.set_xlabel("step (one column of pixels)")
for row, (name, clf) in enumerate(models.items()):
    labels = clf.predict([X_test[example]])[0]
    for step, (label, truth) in enumerate(zip(labels, y_test[example])):
        ax_img.text(
            step,
            8.5 + 1.3 * row,
            str(label),
            ha="center",
            va="top",
            fontsize=8,
            color="black" if label == truth else "red",
        )
    ax_img.text(-1, 8.5 + 1.3 * row, name[:4] + ".", ha="right", va="top", fontsize=8)
ax_img.set_ylim(11.3, -0.5)
ax_img.set_title(f"A test sequence, labels {''.join(map(str, y_test[example][::8]))}")
fig.tight_layout()
plt.show()
