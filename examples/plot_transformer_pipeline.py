"""
===================================================
Recurrent features for a linear model in a Pipeline
===================================================

:class:`~sklearn_rnn.RNNTransformer` turns each sequence into a fixed-length
vector: the pooled states of its top recurrent layer. Any scikit-learn
estimator can then use these features. Here a
:class:`~sklearn.linear_model.LogisticRegression` classifies the digits from
the features of a GRU that read each image row by row.

Inside a :class:`~sklearn.pipeline.Pipeline`, ``fit`` passes ``y`` to the
transformer too, so the transformer is trained on the labels (through its own
output layer, which ``transform`` does not use) and its features are shaped
for the task. The pipeline is compared with a logistic regression on the 64
raw pixels.
"""

# SPDX-License-Identifier: BSD-3-Clause

# %%
# Pipelines of different feature sizes
# ------------------------------------
# ``hidden_layer_sizes=(k,)`` gives ``k`` features per sequence with the
# default ``pooling='last'``. The
# :class:`~sklearn.preprocessing.StandardScaler` puts the states, which lie in
# (-1, 1), on a common scale for the regularised logistic regression.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rnn import RNNTransformer

digits = load_digits()
X = digits.images / 16.0  # (1797, 8, 8): 8 rows of 8 pixels
y = digits.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

n_features = [2, 4, 8, 16, 32]
accuracies = []
pipelines = {}
for k in n_features:
    pipe = make_pipeline(
        RNNTransformer(
            hidden_layer_sizes=(k,), batch_size=64, max_iter=30, random_state=0
        ),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    # 30 epochs is a short run: silence the ConvergenceWarning it raises.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        pipe.fit(X_train, y_train)
    pipelines[k] = pipe
    accuracies.append(pipe.score(X_test, y_test))
    print(f"{k:2d} recurrent features: test accuracy {accuracies[-1]:.3f}")

# %%
# The baseline: the same linear model on the raw pixels
# -----------------------------------------------------
raw = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
raw.fit(X_train.reshape(len(X_train), -1), y_train)
raw_accuracy = raw.score(X_test.reshape(len(X_test), -1), y_test)
print(f"64 raw pixels: test accuracy {raw_accuracy:.3f}")

# %%
# Accuracy against the number of features, and the features themselves
# ---------------------------------------------------------------------
# With 16 hidden units, the recurrent features do as well as the 64 raw
# pixels: the GRU has compressed each image into a vector a quarter of the
# size that a linear model separates as well. With 2 to 8 units the
# bottleneck is too narrow for ten classes. The right panel
# projects the 32 features of the test digits on their first two principal
# components. ``pipe[:-1]`` is the pipeline up to, and without, the
# logistic regression.
features = pipelines[32][:-1].transform(X_test)
print(f"features of the test set: {features.shape}")
projected = PCA(n_components=2).fit_transform(features)

fig, (ax_acc, ax_pca) = plt.subplots(1, 2, figsize=(11, 4.5))
ax_acc.plot(n_features, accuracies, "o-", label="RNNTransformer + LogisticRegression")
ax_acc.axhline(raw_accuracy, color="grey", linestyle="--", label="64 raw pixels")
ax_acc.set_xscale("log", base=2)
ax_acc.set_xticks(n_features, [str(k) for k in n_features])
ax_acc.set_xlabel("number of recurrent features (hidden units)")
ax_acc.set_ylabel("test accuracy")
ax_acc.legend(loc="lower right")
ax_acc.set_title("Linear model on recurrent features")

scatter = ax_pca.scatter(projected[:, 0], projected[:, 1], c=y_test, cmap="tab10", s=10)
ax_pca.legend(
    *scatter.legend_elements(),
    title="digit",
    loc="center left",
    bbox_to_anchor=(1, 0.5),
)
ax_pca.set_xlabel("principal component 1")
ax_pca.set_ylabel("principal component 2")
ax_pca.set_title("32 recurrent features of the test digits (PCA)")
fig.tight_layout()
plt.show()
