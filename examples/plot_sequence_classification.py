"""
=============================================
Sequence classification with a learning curve
=============================================

Each 8x8 image of scikit-learn's digits is read as a sequence: 8 time steps
(the rows, top to bottom), each with 8 features (the pixels of the row). An
:class:`~sklearn_rnn.RNNClassifier` reads the rows one by one and classifies
the digit from its final hidden state.

With ``early_stopping=True`` the classifier holds out ``validation_fraction``
of the training sequences, scores them after every epoch and stops when the
score has not improved for ``n_iter_no_change`` epochs. It then keeps the
weights of the best epoch. ``loss_curve_`` records the training loss of every
epoch and ``validation_scores_`` the held-out accuracy: together they are the
learning curve.
"""

# SPDX-License-Identifier: BSD-3-Clause

# %%
# Digits as sequences of rows
# ---------------------------
# ``load_digits().images`` already has the shape ``(n_samples, n_timesteps,
# n_features)`` that the estimators read. The pixel values run from 0 to 16;
# dividing by 16 puts them in [0, 1].
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from sklearn_rnn import RNNClassifier

digits = load_digits()
X = digits.images / 16.0
y = digits.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"train: {X_train.shape}, test: {X_test.shape}")

# %%
# Training with early stopping
# ----------------------------
# A GRU layer of 32 units (the default cell). 20% of the training sequences
# are held out for the validation score; ``max_iter`` is only an upper bound.
clf = RNNClassifier(
    hidden_layer_sizes=(32,),
    batch_size=64,
    max_iter=100,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=10,
    random_state=0,
)
clf.fit(X_train, y_train)

best_epoch = int(np.argmax(clf.validation_scores_)) + 1
print(f"epochs run: {clf.n_iter_}, best epoch: {best_epoch}")
print(f"best validation accuracy: {clf.best_validation_score_:.3f}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The learning curve and the test errors
# --------------------------------------
# The training loss keeps falling, while the validation accuracy levels off:
# the epochs after the best one (dotted line) were run only to confirm that
# it would not improve any more, and their weights were discarded.
epochs = np.arange(1, clf.n_iter_ + 1)
fig, (ax_curve, ax_cm) = plt.subplots(1, 2, figsize=(11, 4.5))

ax_curve.plot(epochs, clf.loss_curve_, color="tab:blue", label="training loss")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("training loss (log-loss)", color="tab:blue")
ax_curve.set_yscale("log")
ax_score = ax_curve.twinx()
ax_score.plot(
    epochs, clf.validation_scores_, color="tab:orange", label="validation accuracy"
)
ax_score.set_ylabel("validation accuracy", color="tab:orange")
ax_score.axvline(best_epoch, color="grey", linestyle=":", label="best epoch")
lines = ax_curve.get_lines() + ax_score.get_lines()
ax_curve.legend(lines, [line.get_label() for line in lines], loc="center right")
ax_curve.set_title("Learning curve")

ConfusionMatrixDisplay.from_estimator(
    clf, X_test, y_test, ax=ax_cm, colorbar=False, cmap="Blues"
)
ax_cm.set_title(f"Test set: accuracy {clf.score(X_test, y_test):.3f}")
fig.tight_layout()
plt.show()
