"""sklearn_rnn against PyTorch on the CPU: training, inference, latency, memory.

Run from the repository root (PyTorch is an optional reference, never a
dependency of the package)::

    pip install torch==2.13.0
    python benchmarks/bench_vs_torch.py            # everything, ~10-15 min, 2 cores
    python benchmarks/bench_vs_torch.py --quick    # smoke test, under a minute
    python benchmarks/bench_vs_torch.py --cells gru --configs medium --threads 2 \
        --output results.md

What is measured (see benchmarks/README.md for the columns):

* train: one ``RNNClassifier.fit`` running exactly ``--epochs`` epochs (Adam,
  no early stopping, no shuffling, no L2 penalty, no gradient clipping,
  ``batch_size=batch``) on ``n_batches * batch`` float32 sequences with 10
  classes (``--n-batches``, default 16: the 64 of the issue makes the full
  run about four times longer than its ~15 minute budget), against the same
  epochs of a plain PyTorch loop (nn.RNN/LSTM/GRU with batch_first=True,
  nn.Linear on the last step, cross-entropy, Adam, the same batches in the
  same order). Both timings include building the model.
* infer: ``predict_proba`` on all ``n_batches * batch`` sequences in ONE call
  against one ``torch.inference_mode()`` forward + softmax over the same
  sequences (one tensor).
* latency: ``predict_proba`` on one sequence (1, 50, 16), hidden 64: median of
  many calls, against torch's forward + softmax on the same numpy array.
* memory: peak resident set (VmHWM) of a child process that runs one training
  epoch, for each library in its own process.
* seqlen: one training epoch at T = 25 ... 800 (gru, medium), time per step.

The thread counts of each cell and config run back to back; before each
config, the float32 GEMM peak is measured again at every thread count, and a
section after the main table compares the thread counts (ours, torch, and the
peak: the machine's own gain from its second core at that moment).

Threads: each measurement runs with ``threadpool_limits(n)`` on OpenMP and
BLAS (sklearn_rnn's ``_openmp_effective_n_threads`` reads the OpenMP limit
through ``omp_get_max_threads``) and ``torch.set_num_threads(n)``; the script
checks that both libraries then see ``n``.
"""

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

# (batch, T, n_features, hidden)
CONFIGS = {
    "small": (64, 50, 16, 64),
    "medium": (64, 100, 32, 128),
    "large": (32, 100, 64, 256),
    "xl": (16, 50, 128, 512),
}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
N_CLASSES = 10
LATENCY_SHAPE = (1, 50, 16)  # one sequence: T=50, F=16
LATENCY_HIDDEN = 64
SEQLEN_CONFIG = "medium"
SEQLEN_TS = (25, 50, 100, 200, 400, 800)
MEMORY_CONFIG = "large"
GEMM_N = 2048
_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REEXEC_FLAG = "_BENCH_VS_TORCH_REEXEC"


def log(msg):
    """Progress on stderr, so stdout carries only the report."""
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------
# FLOP model
# ----------------------------------------------------------------------
def forward_flops(cell, batch, T, n_features, hidden):
    """FLOPs of the recurrent GEMMs of one forward pass (one layer, one
    direction): 2 * T * B * (G*H) * (F + H). The output layer, the gate
    element-wise math and the softmax are not counted."""
    return 2.0 * T * batch * GATES[cell] * hidden * (n_features + hidden)


def train_flops(cell, batch, T, n_features, hidden):
    """Forward + backward (input and weight gradients): ~3x the forward."""
    return 3.0 * forward_flops(cell, batch, T, n_features, hidden)


# ----------------------------------------------------------------------
# Data and the two implementations
# ----------------------------------------------------------------------
def make_data(n_samples, T, n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, T, n_features), dtype=np.float32)
    y = np.arange(n_samples) % N_CLASSES  # every class present
    rng.shuffle(y)
    return X, y


def make_ours(cell, hidden, batch, epochs):
    from sklearn_rnn import RNNClassifier

    # Plain Adam for exactly `epochs` epochs, as the torch loop below:
    # n_iter_no_change=10**9 disables the stopping rule (tol must be >= 0),
    # alpha=0 and clip_norm=None drop the L2 penalty and gradient clipping that
    # the torch loop does not have.
    return RNNClassifier(
        hidden_layer_sizes=(hidden,),
        cell=cell,
        activation="tanh",
        solver="adam",
        alpha=0.0,
        batch_size=batch,
        learning_rate_init=0.01,
        max_iter=epochs,
        shuffle=False,
        random_state=0,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        clip_norm=None,
    )


def ours_fit(cell, X, y, hidden, batch, epochs):
    clf = make_ours(cell, hidden, batch, epochs)
    with warnings.catch_warnings():
        # "Maximum iterations reached": expected, we run a fixed number of epochs.
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert clf.n_iter_ == epochs, clf.n_iter_
    return clf


def _torch_model(cell, n_features, hidden):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            kwargs = {"nonlinearity": "tanh"} if cell == "rnn" else {}
            self.rnn = cls(n_features, hidden, batch_first=True, **kwargs)
            self.head = nn.Linear(hidden, N_CLASSES)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    torch.manual_seed(0)
    return Net()


def torch_fit(cell, X, y, hidden, batch, epochs):
    import torch
    import torch.nn.functional as F

    model = _torch_model(cell, X.shape[2], hidden)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    n = X.shape[0]
    for _ in range(epochs):
        for start in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(
                model(Xt[start : start + batch]), yt[start : start + batch]
            )
            loss.backward()
            opt.step()
    return model


def torch_proba(model, X):
    import torch

    with torch.inference_mode():
        return torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()


# ----------------------------------------------------------------------
# Threads, timing, machine
# ----------------------------------------------------------------------
@contextlib.contextmanager
def n_threads(n):
    """Both libraries limited to n threads, and checked.

    For sklearn_rnn: ``threadpool_limits(n)`` on every pool threadpoolctl
    finds, OpenMP (what the kernels' ``_openmp_effective_n_threads`` reads)
    and the two OpenBLAS copies (numpy's and scipy's), as ``OMP_NUM_THREADS=n``
    would at start-up (OpenBLAS falls back to it). The BLAS limit matters
    outside the kernels: ``fit`` runs its weight initialisation (numpy QR)
    before it pins BLAS to one thread. For torch: ``torch.set_num_threads(n)``.
    sklearn_rnn's kernels and torch share one libgomp in this process
    (whichever loads first serves both), so both settings act on it.
    """
    import torch
    from threadpoolctl import threadpool_limits

    from sklearn_rnn._kernels._openmp_helpers import _openmp_effective_n_threads

    prev = torch.get_num_threads()
    with threadpool_limits(limits=n):
        torch.set_num_threads(n)
        try:
            ours_n, torch_n = _openmp_effective_n_threads(), torch.get_num_threads()
            if ours_n != n or torch_n != n:
                raise RuntimeError(
                    f"asked for {n} thread(s): sklearn_rnn sees {ours_n}, "
                    f"torch {torch_n}"
                )
            yield
        finally:
            torch.set_num_threads(prev)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_pair(ours, theirs, repeats, warmup=None):
    """Median-able lists of seconds, ours and torch interleaved (ABAB...) so
    that noise from other processes falls on both alike."""
    if warmup is not None:
        warmup()
    t_ours, t_torch = [], []
    for _ in range(repeats):
        t_ours.append(timed(ours))
        t_torch.append(timed(theirs))
    return t_ours, t_torch


def gemm_peak(n_threads_, n=GEMM_N, repeats=7):
    """Best float32 GEMM GFLOP/s of numpy's BLAS at n_threads_ threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    with threadpool_limits(limits=n_threads_, user_api="blas"):
        a @ b
        best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2.0 * n**3 / best / 1e9


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_header(args, reexec_note):
    import threadpoolctl
    import torch

    import sklearn_rnn

    affinity = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    )
    lines = [
        "# sklearn_rnn vs PyTorch (CPU, float32)",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()}; logical CPUs: {os.cpu_count()}"
        + (f" (usable by this process: {affinity})" if affinity else ""),
        (
            f"- python {platform.python_version()}, numpy {np.__version__}, "
            f"torch {torch.__version__}, sklearn_rnn {sklearn_rnn.__version__}, "
            f"threadpoolctl {threadpoolctl.__version__}"
        ),
        (
            f"- torch backends: MKL {torch.backends.mkl.is_available()}, "
            f"oneDNN {torch.backends.mkldnn.is_available()}"
        ),
    ]
    for info in threadpoolctl.threadpool_info():
        desc = f"{info['internal_api']} {info.get('version') or ''}".strip()
        extra = [
            f"{k}={info[k]}" for k in ("architecture", "threading_layer") if info.get(k)
        ]
        where = os.path.join(*info["filepath"].split(os.sep)[-2:])
        lines.append(f"- {info['user_api']}: {desc} ({', '.join(extra + [where])})")
    env = {
        k: os.environ[k]
        for k in _OPENBLAS_VARS + ("OMP_NUM_THREADS",)
        if k in os.environ
    }
    none = "no " + "/".join(_OPENBLAS_VARS + ("OMP_NUM_THREADS",))
    lines.append(f"- environment: {env or none}")
    if reexec_note:
        lines.append(f"- note: {reexec_note}")
    lines.append(f"- load average (1, 5, 15 min) at start: {fmt_load()}")
    lines.append(
        f"- run: cells={','.join(args.cells)} configs={','.join(args.configs)} "
        f"threads={','.join(map(str, args.threads))} n_batches={args.n_batches} "
        f"epochs={args.epochs} repeats={args.repeats}"
        + (" (--quick)" if args.quick else "")
    )
    return lines


# ----------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------
def fmt_time(ts):
    """Median with its spread: half the range of the repeats over the median,
    or, for many samples (latency), half the interquartile range."""
    med = statistics.median(ts)
    unit, scale = ("ms", 1e3) if med < 1 else ("s", 1.0)
    if len(ts) > 10:
        q1, _, q3 = statistics.quantiles(ts, n=4)
        spread = (q3 - q1) / 2 / med * 100
    else:
        spread = (max(ts) - min(ts)) / 2 / med * 100 if len(ts) > 1 else 0.0
    return f"{med * scale:.3g} {unit} ±{spread:.0f}%"


def fmt_load():
    """Other processes' load: timings are noisy when it exceeds the core count."""
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_num(x):
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def result_row(cell, config, threads, bench, t_ours, t_torch, n_seq, flops, peak):
    mo, mt = statistics.median(t_ours), statistics.median(t_torch)
    go, gt = flops / mo / 1e9, flops / mt / 1e9
    return (
        f"| {cell} | {config} | {threads} | {bench} "
        f"| {fmt_time(t_ours)} | {fmt_time(t_torch)} "
        f"| {fmt_num(n_seq / mo)} | {fmt_num(n_seq / mt)} | {go:.2f} | {gt:.2f} "
        f"| **{mt / mo:.2f}** | {100 * go / peak:.1f}% | {100 * gt / peak:.1f}% |"
    )


MAIN_TABLE_HEAD = [
    (
        "| cell | config (B,T,F,H) | thr | bench | ours median | torch median "
        "| ours seq/s | torch seq/s | ours GFLOP/s | torch GFLOP/s | ours/torch "
        "| ours % peak | torch % peak |"
    ),
    "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


# ----------------------------------------------------------------------
# Benchmarks
# ----------------------------------------------------------------------
def bench_config(cell, config, threads, args, peak):
    """Rows 'train' and 'infer' of one cell x config x thread count, and
    their medians: {bench: (ours seconds, torch seconds)}."""
    batch, T, F, H = CONFIGS[config]
    n_seq = args.n_batches * batch
    X, y = make_data(n_seq, T, F)
    n_warm = min(4, args.n_batches) * batch
    state = {}

    def fit_ours():
        state["ours"] = ours_fit(cell, X, y, H, batch, args.epochs)

    def fit_torch():
        state["torch"] = torch_fit(cell, X, y, H, batch, args.epochs)

    def warm_fit():
        ours_fit(cell, X[:n_warm], y[:n_warm], H, batch, 1)
        torch_fit(cell, X[:n_warm], y[:n_warm], H, batch, 1)

    t_ours, t_torch = time_pair(fit_ours, fit_torch, args.repeats, warm_fit)
    medians = {"train": (statistics.median(t_ours), statistics.median(t_torch))}
    flops = train_flops(cell, batch, T, F, H) * args.n_batches * args.epochs
    seqs = n_seq * args.epochs
    label = f"{config} ({batch},{T},{F},{H})"
    rows = [
        result_row(
            cell,
            label,
            threads,
            f"train {args.epochs} ep",
            t_ours,
            t_torch,
            seqs,
            flops,
            peak,
        )
    ]

    clf, model = state["ours"], state["torch"]
    P_ours, P_torch = clf.predict_proba(X), torch_proba(model, X)  # also the warm-up
    assert P_ours.shape == P_torch.shape == (n_seq, N_CLASSES)
    t_ours, t_torch = time_pair(
        lambda: clf.predict_proba(X), lambda: torch_proba(model, X), args.repeats
    )
    medians["infer"] = (statistics.median(t_ours), statistics.median(t_torch))
    flops = forward_flops(cell, batch, T, F, H) * args.n_batches
    rows.append(
        result_row(cell, label, threads, "infer", t_ours, t_torch, n_seq, flops, peak)
    )
    return rows, medians


def scaling_section(args, medians, peaks):
    """Time at the fewest threads / time at the most, per cell, config and
    bench, for both libraries and for the GEMM peak measured just before
    the config's rows (the machine's own scaling at that moment)."""
    t1, t2 = min(args.threads), max(args.threads)
    lines = [
        (
            f"## {t2} threads vs {t1} (time at {t1} / time at {t2}; the thread counts "
            "of a row measured back to back)"
        ),
        "",
        "| cell | config | bench | ours | torch | GEMM peak |",
        "|---|---|---|---:|---:|---:|",
    ]
    for config in args.configs:
        machine = peaks[config, t2] / peaks[config, t1]
        for cell in args.cells:
            for bench in ("train", "infer"):
                (o1, r1), (o2, r2) = (medians[cell, config, t][bench] for t in (t1, t2))
                lines.append(
                    f"| {cell} | {config} | {bench} | {o1 / o2:.2f} | {r1 / r2:.2f} "
                    f"| {machine:.2f} |"
                )
    return lines


def bench_latency(cell, threads, args, peak):
    """predict_proba on one (1, 50, 16) sequence, hidden 64: median of many calls."""
    _, T, F = LATENCY_SHAPE
    H = LATENCY_HIDDEN
    X, y = make_data(16 * N_CLASSES, T, F)
    clf = ours_fit(cell, X, y, H, 32, 1)
    model = torch_fit(cell, X, y, H, 32, 1)
    x1 = np.ascontiguousarray(X[:1])
    for _ in range(20):  # warm-up
        clf.predict_proba(x1)
        torch_proba(model, x1)
    # Blocks of calls, ours and torch alternating; one timing per call.
    t_ours, t_torch = [], []
    per_block = max(1, args.latency_calls // 10)
    for _ in range(10):
        for _ in range(per_block):
            t_ours.append(timed(lambda: clf.predict_proba(x1)))
        for _ in range(per_block):
            t_torch.append(timed(lambda: torch_proba(model, x1)))
    flops = forward_flops(cell, 1, T, F, H)
    label = f"one seq (1,{T},{F},{H})"
    bench = f"latency ×{len(t_ours)}"
    return result_row(cell, label, threads, bench, t_ours, t_torch, 1, flops, peak)


def _call_all(fns):
    for fn in fns:
        fn()


def bench_seqlen(cell, threads, args):
    """One training epoch at growing T: time per step should stay flat.

    Also fits ``time = a + b * T`` to the medians (least squares): ``b`` is the
    cost of one step, ``a`` the fixed cost of a fit, and the largest relative
    residual says how far the medians are from a straight line.
    """
    batch, _, F, H = CONFIGS[SEQLEN_CONFIG]
    lines = [
        (
            f"### Time vs sequence length: {cell}, {SEQLEN_CONFIG} "
            f"(B={batch}, F={F}, H={H}), {args.seqlen_batches} batches, 1 training "
            f"epoch (fit / torch loop), {threads} thread(s), median of {args.repeats}"
        ),
        "",
        (
            "| T | ours median | ours ms/step | torch median | torch ms/step "
            "| ours/torch |"
        ),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    medians = {"ours": [], "torch": []}
    fits = (ours_fit, torch_fit)
    for T in args.seqlen_ts:
        n = args.seqlen_batches * batch
        X, y = make_data(n, T, F)
        log(f"  seqlen T={T}")
        runs = [functools.partial(f, cell, X, y, H, batch, 1) for f in fits]
        warm = [
            functools.partial(f, cell, X[:batch], y[:batch], H, batch, 1) for f in fits
        ]
        t_ours, t_torch = time_pair(
            *runs, args.repeats, warmup=functools.partial(_call_all, warm)
        )
        mo, mt = statistics.median(t_ours), statistics.median(t_torch)
        medians["ours"].append(mo)
        medians["torch"].append(mt)
        lines.append(
            f"| {T} | {fmt_time(t_ours)} | {mo / T * 1e3:.3g} | {fmt_time(t_torch)} "
            f"| {mt / T * 1e3:.3g} | {mt / mo:.2f} |"
        )
    Ts = np.asarray(args.seqlen_ts, dtype=float)
    lines.append("")
    for lib, name in (("ours", "sklearn_rnn"), ("torch", "torch")):
        t = np.asarray(medians[lib])
        b, a = np.polyfit(Ts, t, 1)
        resid = np.max(np.abs(t - (a + b * Ts)) / t) * 100
        lines.append(
            f"- {name}: time ≈ {a * 1e3:.0f} ms + {b * 1e3:.3g} ms × T "
            f"(largest deviation of a median from this line: {resid:.0f}%)"
        )
    return lines


def vm_hwm_kib():
    """Peak resident set of this process in KiB (VmHWM; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(lib, cell, config, threads, n_batches):
    """Runs in a fresh process: one training epoch, then prints JSON."""
    batch, T, F, H = CONFIGS[config]
    X, y = make_data(n_batches * batch, T, F)
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    else:
        import sklearn_rnn  # noqa: F401  (imports counted in the baseline)
    base = vm_hwm_kib()
    t0 = time.perf_counter()
    if lib == "torch":
        torch_fit(cell, X, y, H, batch, 1)
    else:
        ours_fit(cell, X, y, H, batch, 1)
    elapsed = time.perf_counter() - t0
    result = {
        "base_kib": base,
        "peak_kib": vm_hwm_kib(),
        "seconds": elapsed,
        "data_kib": X.nbytes // 1024,
    }
    print(json.dumps(result))


def bench_memory(cells, config, threads, args):
    batch, T, F, H = CONFIGS[config]
    lines = [
        (
            f"### Peak resident memory of one training epoch: {config} "
            f"(B={batch}, T={T}, F={F}, H={H}), {args.n_batches} batches, "
            f"{threads} thread(s), one child process each"
        ),
        "",
        (
            "| cell | lib | peak RSS (VmHWM) | before fit (imports + data) "
            "| fit adds | epoch time (cold process) |"
        ),
        "|---|---|---:|---:|---:|---:|",
    ]
    data_kib = None
    for cell in cells:
        for lib in ("ours", "torch"):
            log(f"  memory {cell} {lib}")
            env = dict(os.environ, OMP_NUM_THREADS=str(threads))
            child_args = [lib, cell, config, str(threads), str(args.n_batches)]
            cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child"]
            cmd += child_args
            out = subprocess.run(
                cmd, env=env, capture_output=True, text=True, check=False
            )
            if out.returncode != 0:
                raise RuntimeError(f"memory child failed:\n{out.stderr}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            data_kib = res["data_kib"]
            name = "sklearn_rnn" if lib == "ours" else "torch"
            peak, base = res["peak_kib"] / 1024, res["base_kib"] / 1024
            lines.append(
                f"| {cell} | {name} | {peak:.0f} MiB | {base:.0f} MiB "
                f"| {peak - base:.0f} MiB | {res['seconds']:.2f} s |"
            )
    # Not getrusage(RUSAGE_CHILDREN).ru_maxrss: Linux carries the forking
    # parent's resident set (torch loaded, data allocated) into the child's
    # maxrss across exec, so it reports the parent's size, not the child's.
    lines += ["", f"Training data: {data_kib / 1024:.1f} MiB float32 in each child."]
    return lines


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------
def _csv(kind, choices=None):
    def parse(text):
        items = [kind(v) for v in text.split(",") if v.strip()]
        if choices is not None:
            bad = [v for v in items if v not in choices]
            if bad:
                raise argparse.ArgumentTypeError(
                    f"unknown {bad}; choose from {sorted(choices)}"
                )
        return items

    return parse


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny subset for smoke testing (gru, small, 1 thread, few batches)",
    )
    p.add_argument("--cells", type=_csv(str, GATES), help="comma list of rnn,lstm,gru")
    p.add_argument(
        "--configs", type=_csv(str, CONFIGS), help="comma list of small,medium,large,xl"
    )
    p.add_argument(
        "--threads", type=_csv(int), help="comma list of thread counts (default 1,2)"
    )
    p.add_argument(
        "--output", metavar="FILE.md", help="also write the report to this file"
    )
    p.add_argument(
        "--n-batches",
        type=int,
        help="batches per epoch and per inference call (default 16; the issue's "
        "64 takes ~4x longer)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="training epochs per timed fit (default 1)",
    )
    p.add_argument(
        "--repeats", type=int, help="timed repeats, median reported (default 3)"
    )
    p.add_argument(
        "--latency-calls",
        type=int,
        help="single-sequence calls per library (default 500)",
    )
    p.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory children"
    )
    p.add_argument(
        "--no-seqlen", action="store_true", help="skip time vs sequence length"
    )
    p.add_argument(
        "--keep-openblas-env",
        action="store_true",
        help="do not re-run without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE",
    )
    p.add_argument("--_memory-child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.cells = args.cells or (["gru"] if quick else ["rnn", "lstm", "gru"])
    args.configs = args.configs or (["small"] if quick else list(CONFIGS))
    args.threads = args.threads or ([1] if quick else [1, 2])
    args.n_batches = args.n_batches or (4 if quick else 16)
    args.repeats = args.repeats or (2 if quick else 3)
    args.latency_calls = args.latency_calls or (50 if quick else 500)
    args.seqlen_ts = (25, 50) if quick else SEQLEN_TS
    args.seqlen_batches = 2 if quick else 4
    return args


def main(argv=None):
    args = parse_args(argv)
    if args._memory_child:
        lib, cell, config, threads, n_batches = args._memory_child
        memory_child(lib, cell, config, int(threads), int(n_batches))
        return 0

    reexec_note = os.environ.pop(_REEXEC_FLAG, None)
    set_vars = [k for k in _OPENBLAS_VARS if k in os.environ]
    if set_vars and not args.keep_openblas_env:
        # These variables force an older, slower OpenBLAS kernel on some CPUs
        # (set on this workplace's machines for old OpenBLAS builds): benchmark
        # numpy/scipy's current OpenBLAS with its own CPU detection instead.
        env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
        env[_REEXEC_FLAG] = "re-executed without " + ", ".join(
            f"{k}={os.environ[k]}" for k in set_vars
        )
        log(
            f"re-running without {', '.join(set_vars)} (--keep-openblas-env keeps them)"
        )
        os.execve(
            sys.executable,
            [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
            env,
        )

    try:
        import torch  # noqa: F401
    except ImportError:
        print(
            "PyTorch is not installed: this benchmark compares against it.\n"
            "Install the CPU build first:  pip install torch==2.13.0",
            file=sys.stderr,
        )
        return 1
    import sklearn_rnn  # noqa: F401

    t_start = time.perf_counter()
    report = machine_header(args, reexec_note)

    def emit(lines):
        for line in lines:
            print(line, flush=True)

    def progress(msg):
        log(f"[{time.perf_counter() - t_start:6.0f}s] {msg}")

    emit(report)
    body = [
        (
            f"## Training ({args.n_batches} batches of B sequences per epoch) and "
            f"inference (predict_proba on all {args.n_batches}·B sequences in one "
            f"call), median of {args.repeats}"
        ),
        "",
        (
            "The thread counts of a cell and config run back to back, so that the "
            "machine's drift falls on both alike; a row's % of peak is against the "
            "GEMM peak measured just before its config (listed after the table)."
        ),
        "",
        *MAIN_TABLE_HEAD,
    ]
    emit(body)
    peaks, medians = {}, {}
    for config in args.configs:
        for t in args.threads:
            with n_threads(t):
                peaks[config, t] = gemm_peak(t)
        for cell in args.cells:
            for t in args.threads:
                progress(f"{cell} {config} {t} thread(s)")
                with n_threads(t):
                    rows, medians[cell, config, t] = bench_config(
                        cell, config, t, args, peaks[config, t]
                    )
                emit(rows)
                body += rows
    lines = [
        "",
        (
            f"float32 GEMM peak (numpy {GEMM_N}x{GEMM_N} matmul, best of 7), measured "
            "before each config's rows:"
        ),
        "",
    ]
    lines += [
        f"- {config}: "
        + ", ".join(
            f"{t} thread(s) {peaks[config, t]:.1f} GFLOP/s" for t in args.threads
        )
        for config in args.configs
    ]
    if len(args.threads) > 1:
        lines += ["", *scaling_section(args, medians, peaks)]
    lines += [
        "",
        "## Single-sequence latency (% of peak against the first config's peak)",
        "",
        *MAIN_TABLE_HEAD,
    ]
    emit(lines)
    body += lines
    for t in args.threads:
        with n_threads(t):
            for cell in args.cells:
                progress(f"latency {cell} {t} thread(s)")
                row = bench_latency(cell, t, args, peaks[args.configs[0], t])
                emit([row])
                body.append(row)
    report += body

    max_t = max(args.threads)
    if not args.no_memory:
        config = MEMORY_CONFIG if MEMORY_CONFIG in args.configs else args.configs[-1]
        progress("memory")
        lines = ["", *bench_memory(args.cells, config, max_t, args)]
        emit(lines)
        report += lines
    if not args.no_seqlen:
        cell = "gru" if "gru" in args.cells else args.cells[0]
        progress("time vs sequence length")
        with n_threads(max_t):
            lines = ["", *bench_seqlen(cell, max_t, args)]
        emit(lines)
        report += lines

    total = time.perf_counter() - t_start
    footer = ["", f"Total benchmark time: {total:.0f} s; load average: {fmt_load()}"]
    emit(footer)
    report += footer
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(report) + "\n")
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
