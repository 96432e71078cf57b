"""Mergeable partials: the sums, counts and per-class figures a run accumulates.

An ``Accumulator`` adds batches of per-sample losses and ``finish`` gives the
``Summary``; sums are made in fixed 4096-row blocks, so the same rows give the same
bits however they were batched. May import ``losses`` (for the per-sample types),
NumPy and the root modules (``summary``, ``errors``, ``options``); knows no files.
"""
