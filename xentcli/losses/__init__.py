"""The losses: per-sample cross-entropy in pure NumPy, and whose conventions apply.

``core`` holds the exact float64 kernels (log-softmax by log-sum-exp, softplus,
clipping with a count), ``family`` soft, smoothed and multilabel targets and each
peer's arithmetic, ``kernels`` picks the kernel for a batch, ``conventions`` the rules
of ``--compat`` presets, ``weights`` parses ``--class-weights``. May import NumPy and
the root ``errors``/``options``; no pyarrow, files or terminals.
"""
