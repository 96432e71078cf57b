"""The losses: per-sample cross-entropy in pure NumPy, and whose conventions apply.

``primitives`` holds the elementwise pieces written once (softplus, log1mexp, sigmoid,
softmax, the peers' log-softmax, clipping); ``core`` the exact float64 kernels
(log-softmax by log-sum-exp in cache-sized blocks), ``family`` soft, smoothed and
multilabel targets and each peer's arithmetic, ``figures`` each row's Brier term,
confidence and outcome, ``kernels`` picks the kernel for a batch, ``conventions`` the rules
of ``--compat`` presets, ``weights`` parses ``--class-weights``. May import NumPy and
the root ``errors``/``options``; no pyarrow, files or terminals.
"""
