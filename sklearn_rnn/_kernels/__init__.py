"""Compiled kernels (Cython, nogil, OpenMP) behind the estimators.

Modules:

* ``_cython_blas``: fused float/double wrappers over ``scipy.linalg.cython_blas``;
* ``_openmp_helpers``: thread budget, with a serial fallback when the package
  was built without OpenMP;
* ``_gate_math``: the element-wise gate math of each cell, one row at a
  time (C loops in ``_gate_math.h`` that the compiler vectorises);
* ``_recurrent_common``: the sweep, truncation and weight-gradient GEMMs
  shared by the cells;
* ``_rnn_fast``, ``_lstm_fast``, ``_gru_fast``: forward pass and
  backpropagation through time of the vanilla (Elman), LSTM and GRU cells;
* ``_training_fast``: the per-mini-batch work around them (time-major batch
  assembly, L2 penalty and gradient norm, Adam's step);
* ``_output_fast``: the dense output layer, its losses and gradients (one
  call per training mini-batch), ``predict_proba``'s softmax, and the
  finiteness check of outputs and of ``predict``'s input.
"""
