"""
==============================
Forecasting a real time series
==============================

The series is a recording of a neuron's membrane potential that ships with
Matplotlib (``membrane.dat`` in its sample data). While a current is applied,
the neuron fires regularly: the potential ramps up slowly, spikes, drops and
ramps up again. An :class:`~sklearn_rnn.RNNRegressor` learns to forecast the
next 15 values from the last 30 on the first 70% of a stretch of regular
firing, and is tested on the remaining 30%.

The model is a direct multi-step forecaster: one network with 15 outputs,
one per horizon, rather than a one-step model applied recursively. The
baseline is the persistence forecast, which repeats the last observed value.
"""

# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data
# --------
# ``get_sample_data`` opens the file from Matplotlib's installation, so no
# download is needed. The recording has 12000 float32 samples; the neuron
# fires from about sample 1500 to 11000, regularly until about 7300. We keep
# that regular stretch and every 5th sample, which leaves about 28 samples per
# firing cycle.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import RNNRegressor

with cbook.get_sample_data("membrane.dat") as f:
    potential = np.fromfile(f, dtype=np.float32).astype(np.float64)
series = potential[1500:7300:5]
n_train = int(0.7 * len(series))
print(f"{len(series)} samples: {n_train} to train, {len(series) - n_train} to test")

# Standardise with the statistics of the training part only.
mean, std = series[:n_train].mean(), series[:n_train].std()
z = (series - mean) / std

# %%
# Windows of the past, targets in the future
# ------------------------------------------
# Each sample is a window of ``window`` past values, a sequence of
# ``window`` steps with one feature, and its target the next ``horizon``
# values. Training windows and their targets lie entirely in the training
# part; every test target lies in the test part.
window, horizon = 30, 15


def make_windows(values, start, stop):
    """Windows whose targets are ``values[t : t + horizon]``, start <= t."""
    origins = np.arange(max(start, window), stop - horizon + 1)
    X = np.stack([values[t - window : t] for t in origins])[:, :, np.newaxis]
    Y = np.stack([values[t : t + horizon] for t in origins])
    return origins, X, Y


_, X_train, Y_train = make_windows(z, 0, n_train)
origins_test, X_test, Y_test = make_windows(z, n_train, len(z))
print(f"X_train {X_train.shape}, Y_train {Y_train.shape}, X_test {X_test.shape}")

# %%
# Fitting the forecaster
# ----------------------
# A small GRU and a short training run keep the example fast. Training stops
# at ``max_iter`` before the loss has flattened, which would raise a
# ``ConvergenceWarning``: we silence it here.
reg = RNNRegressor(hidden_layer_sizes=(16,), batch_size=32, max_iter=40, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=ConvergenceWarning)
    reg.fit(X_train, Y_train)

Y_pred = reg.predict(X_test)
rmse_model = np.sqrt(np.mean((Y_pred - Y_test) ** 2, axis=0)) * std
rmse_persistence = np.sqrt(np.mean((X_test[:, -1, :] - Y_test) ** 2, axis=0)) * std
print(f"test R^2 over all horizons: {reg.score(X_test, Y_test):.3f}")
print(
    f"RMSE at 1 step: model {rmse_model[0]:.4f}, persistence {rmse_persistence[0]:.4f}"
)
print(
    f"RMSE at {horizon} steps: model {rmse_model[-1]:.4f}, "
    f"persistence {rmse_persistence[-1]:.4f}"
)

# %%
# Forecasts against the truth
# ---------------------------
# Top: the test part of the series (black) with forecasts made every 20
# samples, each a 15-step trajectory (colour) starting where its window ends.
# Bottom: the error as a function of the horizon. The network keeps the phase
# of the firing cycle, so its error grows much more slowly than that of the
# persistence forecast.
fig, (ax_series, ax_err) = plt.subplots(
    2, 1, figsize=(10, 7), gridspec_kw={"height_ratios": [2, 1]}
)
t = np.arange(len(series))
ax_series.plot(t[n_train:], series[n_train:], color="black", lw=1, label="truth")
for k, i in enumerate(range(0, len(origins_test), 20)):
    t0 = origins_test[i]
    ax_series.plot(
        t[t0 : t0 + horizon],
        Y_pred[i] * std + mean,
        color="tab:red",
        lw=2,
        label="forecast, 15 steps ahead" if k == 0 else None,
    )
ax_series.set_xlabel("time (every 5th sample of the recording)")
ax_series.set_ylabel("membrane potential")
ax_series.set_title("Test period: truth and 15-step forecasts")
ax_series.set_ylim(top=0.12)
ax_series.legend(loc="upper right", ncols=2)

steps = np.arange(1, horizon + 1)
ax_err.plot(steps, rmse_model, "o-", label="RNNRegressor (GRU, 16 units)")
ax_err.plot(steps, rmse_persistence, "s--", label="persistence (last value)")
ax_err.set_xlabel("forecast horizon (steps)")
ax_err.set_ylabel("test RMSE")
ax_err.set_ylim(bottom=0)
ax_err.legend()
fig.tight_layout()
plt.show()
