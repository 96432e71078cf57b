"""``--bootstrap B --seed S``: the Poisson bootstrap's percentile interval of the mean loss
and of accuracy.

Each row gets B replicate weights ``k`` drawn from Poisson(1) (Hanley & MacGibbon's
"Poisson bootstrap", as TensorFlow Model Analysis and Spark jobs use it to bootstrap a
stream). A draw is a pure function of (seed, the row's global position, replicate):
splitmix64 (Steele, Lea & Flood 2014) keyed by the seed and the row, its b-th output's top
53 bits read as a uniform ``u`` in [0, 1), and ``k`` the least integer whose Poisson(1) CDF
exceeds ``u``. No generator state is carried from row to row, so a row's weights do not
depend on how the rows were read, batched, threaded or partitioned; and every replicate's
sums are exact (``ExactSums``), so the interval is the same to the last bit however the
input was cut.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from ..summary import Interval
from .exact import _HI_MASK, _LARGEST, ExactSums
from .rows import Ends, Rows

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment: 2**64 / the golden ratio, odd
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
CHUNK_CELLS = (
    1 << 16
)  # rows x replicates drawn at once: 512 KB matrices, near the caches (measured fastest)


def _poisson_thresholds() -> npt.NDArray[np.uint64]:
    """``T_k = ceil(2**53 · P(K <= k))`` for K ~ Poisson(1), k = 0, 1, ... while below
    2**53: a 53-bit uniform ``u`` draws ``k = #{j : T_j <= u}`` (the inverse CDF). The CDF
    is computed in exact fractions (``1/e`` from its series to within ``1/41!``), so no
    float rounding decides a threshold."""
    e_inv = sum(Fraction((-1) ** j, math.factorial(j)) for j in range(41))
    thresholds, term, cdf, k = [], Fraction(1), Fraction(0), 0
    while True:
        cdf += term
        t = math.ceil(e_inv * cdf * (1 << 53))
        if t >= 1 << 53:
            break
        thresholds.append(t)
        k += 1
        term /= k
    return np.array(thresholds, dtype=np.uint64)


THRESHOLDS = _poisson_thresholds()


def _mix(z: int) -> int:
    """splitmix64's finaliser on a Python integer (mod 2**64)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _mix_array(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, in place on a uint64 array (multiplications wrap mod 2**64)."""
    t = np.right_shift(z, np.uint64(30))
    z ^= t
    z *= MIX1
    np.right_shift(z, np.uint64(27), out=t)
    z ^= t
    z *= MIX2
    np.right_shift(z, np.uint64(31), out=t)
    z ^= t
    return z


def row_keys(seed: int, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Each row's stream key: output ``row`` of splitmix64 seeded with ``mix(seed + G)``,
    i.e. ``mix(mix(seed + G) + (row + 1) G)`` mod 2**64 (``G`` the golden increment)."""
    base = np.uint64(_mix((seed + GOLDEN) & MASK64))
    positions = np.asarray(rows, dtype=np.int64).astype(np.uint64)
    z = positions + np.uint64(1)
    z *= np.uint64(GOLDEN)
    z += base
    return _mix_array(z)


def _bucket_table() -> tuple[npt.NDArray[np.float64], int]:
    """``k`` by the top 12 bits of ``u`` (a table that fits the L1 cache): exact for the
    buckets no threshold cuts, -1 for the few that one cuts (about 0.2% of draws), which
    are settled on all 53 bits. A lookup instead of a binary search per draw."""
    bits = 12
    low = np.uint64((1 << (53 - bits)) - 1)
    starts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(53 - bits)
    table = np.searchsorted(THRESHOLDS, starts, side="right").astype(np.float64)
    cut = THRESHOLDS[(THRESHOLDS & low) != 0] >> np.uint64(53 - bits)
    table[cut.astype(np.int64)] = -1.0
    return table, 64 - bits


TABLE, TABLE_SHIFT = _bucket_table()


def poisson_weights(
    seed: int, rows: npt.NDArray[np.int64], replicates: int
) -> npt.NDArray[np.float64]:
    """The Poisson(1) weights of ``rows`` (global positions) in replicates 0 ..
    ``replicates - 1``: an (n, replicates) matrix of small whole numbers as floats;
    weight (row, b) is ``#{j : T_j <= u}`` with ``u`` the top 53 bits of
    ``mix(key(row) + (b + 1) G)`` and ``T`` the thresholds of ``THRESHOLDS``."""
    keys = row_keys(seed, rows)
    steps = np.arange(1, replicates + 1, dtype=np.uint64) * np.uint64(GOLDEN)
    z = keys[:, None] + steps[None, :]
    _mix_array(z)
    k = np.take(TABLE, (z >> np.uint64(TABLE_SHIFT)).view(np.int64))
    cut = np.flatnonzero(k < 0)
    if cut.size:
        u = z.ravel()[cut] >> np.uint64(11)
        k.ravel()[cut] = np.searchsorted(THRESHOLDS, u, side="right")
    return k


class BootstrapInterval:
    """Per replicate b: ``sum k num``, ``sum k den`` (``den`` 1 per row when the run is
    unweighted), and for accuracy ``sum k w hit`` and ``sum k w`` (``w`` the sample
    weights, 1 when none): exact sums, or integers where every term is one. The
    interval is NumPy's linear percentile of the replicates' means at ``(1 - level) / 2``
    and ``(1 + level) / 2``; a replicate whose weights are all 0 has no mean and is left
    out (only a handful of rows can give one)."""

    def __init__(
        self,
        level: float,
        replicates: int,
        seed: int = 0,
        weighted: bool = False,
        sample_weighted: bool = False,
    ) -> None:
        self.level, self.replicates, self.seed = level, replicates, seed
        self.weighted, self.sample_weighted = weighted, sample_weighted
        self.n = 0
        self.draws = np.zeros(replicates, dtype=np.int64)  # sum k: unweighted divisors
        self.right = np.zeros(replicates, dtype=np.int64)  # sum k hit, without weights
        # sum k num, [sum k den], [sum k w hit, sum k w]
        columns = 1 + weighted + 2 * sample_weighted
        self.sums = tuple(ExactSums(replicates) for _ in range(columns))

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if not n:
            return
        self.n += n
        step = max(1, CHUNK_CELLS // self.replicates)
        pending = [_Buckets(sums) for sums in self.sums]
        for start in range(0, n, step):
            self._add_chunk(rows, slice(start, min(n, start + step)), pending)
        for buckets in pending:
            buckets.flush()

    def _add_chunk(self, rows: Rows, part: slice, pending: list[_Buckets]) -> None:
        k = poisson_weights(self.seed, rows.rows[part], self.replicates)
        hit = rows.hit[part]
        self.draws += np.einsum("ij->j", k).astype(np.int64)
        values = [rows.numerator[part]]
        if self.weighted:
            den = rows.denominator
            values.append(np.ones(k.shape[0]) if den is None else den[part])
        if self.sample_weighted:
            w = rows.weights
            w = np.ones(k.shape[0]) if w is None else w[part]
            values += [np.where(hit, w, 0.0), w]
        else:
            self.right += np.einsum("i,ij->j", hit.astype(np.float64), k).astype(np.int64)
        for buckets, v in zip(pending, values, strict=True):
            buckets.add(k, v)

    def merge(self, other: BootstrapInterval) -> BootstrapInterval:
        if (other.replicates, other.seed) != (self.replicates, self.seed):
            raise ValueError("cannot merge bootstraps of different replicates or seeds")
        merged = BootstrapInterval(
            self.level, self.replicates, self.seed, self.weighted, self.sample_weighted
        )
        merged.n = self.n + other.n
        merged.draws = self.draws + other.draws
        merged.right = self.right + other.right
        merged.sums = tuple(a.merge(b) for a, b in zip(self.sums, other.sums, strict=True))
        return merged

    def means(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Each replicate's mean loss (nats) and accuracy (NaN where its weights sum to 0)."""
        columns = iter([s.totals() for s in self.sums])
        num = next(columns)
        den = next(columns) if self.weighted else self.draws.astype(np.float64)
        if self.sample_weighted:
            right, weight = next(columns), next(columns)
        else:
            right, weight = self.right.astype(np.float64), self.draws.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = np.where(den > 0, num / den, np.nan)
            accuracy = np.where(weight > 0, right / weight, np.nan)
        return loss, accuracy

    def finish(self, ends: Ends) -> dict[str, Any]:
        loss, accuracy = self.means()
        interval = Interval(
            level=self.level,
            method="bootstrap",
            loss=_percentiles(loss / ends.scale, self.level),
            accuracy=_percentiles(accuracy, self.level),
            replicates=self.replicates,
            seed=self.seed,
        )
        return {"ci": interval}


class _Buckets:
    """Adds ``sum_i k[i, b] v[i]`` exactly to replicate b's ``ExactSums``, for every b.

    Each value is split as ``ExactSums`` does: ``hi`` (the low 26 mantissa bits cleared)
    and ``lo = v - hi``. Within one binary exponent every ``k hi`` (``k`` <= 17: 5 bits)
    is exact and a multiple of one quantum, and so is every ``k lo``; up to ``MAX_TERMS``
    of them add without rounding, in any order. So a matrix product per exponent gives
    exact sums whatever order BLAS adds in; they gather here by exponent over a batch's
    chunks, and reach ``ExactSums`` as 2 values per exponent and replicate rather than
    one per row and replicate. Infinities, NaN and values beyond 2**960 go in as plain
    products."""

    MAX_TERMS = 1 << 21  # < 2**26 / 17: the terms one exponent's float sums may hold

    def __init__(self, sums: ExactSums) -> None:
        self.sums = sums
        self.buckets: dict[int, npt.NDArray[np.float64]] = {}  # exponent -> [hi, lo] x B
        self.terms = 0

    def add(self, k: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> None:
        if self.terms + values.size > self.MAX_TERMS:
            self.flush()
        self.terms += values.size
        bits = values.view(np.uint64)
        exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).view(np.int64)
        outsized = exponent > _LARGEST
        if outsized.any():
            self.sums.add(k[outsized] * values[outsized][:, None])
            keep = ~outsized
            k, values, exponent = k[keep], values[keep], exponent[keep]
        if not values.size:
            return
        order = np.argsort(exponent, kind="stable")
        exponent, values, k = exponent[order], values[order], k[order]
        hi = (values.view(np.int64) & _HI_MASK).view(np.float64)
        parts = np.stack([hi, values - hi])
        starts = np.flatnonzero(np.diff(exponent, prepend=-1))
        ends = [*starts[1:].tolist(), values.size]
        for a, b in zip(starts.tolist(), ends, strict=True):
            total = parts[:, a:b] @ k[a:b]
            e = int(exponent[a])
            if e in self.buckets:
                self.buckets[e] += total
            else:
                self.buckets[e] = total

    def flush(self) -> None:
        """Move the gathered sums into the ``ExactSums``."""
        if self.buckets:
            self.sums.add(np.concatenate(list(self.buckets.values())))
        self.buckets, self.terms = {}, 0


def _percentiles(values: npt.NDArray[np.float64], level: float) -> tuple[float, float]:
    """NumPy's linear percentiles at ``(1 - level) / 2`` and ``(1 + level) / 2`` of the
    replicates that have a value (NaN, NaN when none has)."""
    kept = values[~np.isnan(values)]
    if not kept.size:
        return math.nan, math.nan
    with np.errstate(invalid="ignore"):  # inf - inf between two infinite replicates
        lo, hi = np.quantile(kept, [(1 - level) / 2, (1 + level) / 2], method="linear")
    return float(lo), float(hi)
