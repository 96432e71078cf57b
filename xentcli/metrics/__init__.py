"""Mergeable partials: every figure a run accumulates, each a small object with ``add``
(one batch of ``Rows``), ``merge`` and ``finish`` (its fields of the ``Summary``).

``rows`` holds the protocol, ``exact`` the exact sums they all use (any cut merged in any
order gives the same bits), ``totals`` the headline and counters, then one module per
figure (``perclass``, ``baseline``, ``brier``, ``calibration``, ``intervals``,
``bootstrap``, ``slices``, ``worst``); ``shared`` holds what several of them take from
one batch, made once (a class's rows, the per-class loss sums); ``accumulate`` makes a
run's tuple of partials from its ``Plan`` and finishes the ``Summary``. May import
``losses`` (for the per-sample types), NumPy, pyarrow arrays (slice keys) and the root
modules (``summary``, ``errors``, ``options``); knows no files.
"""
