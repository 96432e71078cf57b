"""Exactly rounded sums of float64 values that merge in any order to the same bits.

A float64 ``x`` is split into ``hi`` (``x`` with the low 26 bits of its mantissa
cleared) and ``lo = x - hi``; both are exact. Within one binary exponent ``e``, every
``hi`` is a multiple of ``2**(e - 26)`` below ``2**(e + 1)``, and every ``lo`` a multiple of
``2**(e - 52)`` below ``2**(e - 25)``: float64 adds up to ``2**26`` of either without
rounding. So each batch is binned by (group, exponent) with ``np.bincount`` into float
buckets that hold exact values, and buckets are folded into Python integers before that
many rows could round. An integer sum is exact, so it is associative and commutative:
any cut of the rows, merged in any order, gives the same integers and the same
correctly rounded float at the end. Infinities and NaN are summed apart (IEEE rules,
order-free for them) and win over the finite part, as in a float sum.

The buckets cost two ``bincount`` passes per value. A batch of n < 2**m finite values
mostly takes a faster way: with ``|x| < 2**E``, ``t = (x + 1.5 * 2**52 * q) - 1.5 * 2**52 * q``
rounds ``x`` to the grid ``q = 2**(E + m - 53)`` and ``x - t`` is exact; n such ``t``
are multiples of ``q`` below ``2**53 * q`` in all, so a float sum of them (in any order,
per group) is exact and goes straight into the integers. A second grid takes what the
first left; what is left after it (values ~20 binades below the batch's largest) goes to
the buckets. When every value is positive and that close to the largest, what the first
grid leaves sums exactly as it is.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np
import numpy.typing as npt

SCALE_BITS = 1127  # 1074 (subnormal quantum) + 53 mantissa bits: every bucket an integer
FOLD_ROWS = 1 << 25  # rows added to the float buckets before they fold into integers
_SPECIAL = 0x7FF  # the exponent field of inf and NaN
_LARGEST = 0x7FF - 64  # above this exponent field (|x| >= 2**960) values are added one by one
LEVEL_ROWS = 1 << 16  # the grids split this many values at a time (fewer: finer grids)
FEW_SMALL = 16  # at most 1 value in this many far below the largest goes to the buckets
LEVEL_MIN_ROWS = 1 << 10  # below this many, the buckets (the grids' fixed cost does not pay)
_LEVEL_TOP = 2.0**900  # above this, the grids' rounding constants would overflow
_LEVEL_FLOOR = -1000  # the grids' quanta stay normal numbers
_HI_MASK = np.int64(~((1 << 26) - 1))
_SHIFT = np.uint64(52)


class ExactSums:
    """The exact sums of float64 values in ``k`` groups (``k`` 1: a plain total).

    >>> s = ExactSums()
    >>> s.add(np.array([1e100, 1.0, -1e100]))
    >>> float(s.totals()[0])
    1.0
    """

    def __init__(self, k: int = 1) -> None:
        self.k = k
        self.low = 0  # the exponent field of the buckets' first column
        self.hi = np.zeros((k, 0))
        self.lo = np.zeros((k, 0))
        self.pending = 0  # rows in the float buckets since they last folded
        self.ints = [0] * k  # folded sums, scaled by 2**SCALE_BITS
        self.special = np.zeros(k)  # the sum of the infinities and NaNs per group

    def add(self, values: npt.ArrayLike, groups: npt.NDArray[np.int64] | None = None) -> None:
        """Add ``values`` (float64), each to its group in ``groups`` (all to group 0 when
        None); a 2-D ``values`` adds row ``i`` column ``j`` to group ``j`` (groups None)."""
        x = np.asarray(values, dtype=np.float64)
        if x.ndim == 2:
            if x.shape[1] != self.k:
                raise ValueError(f"{x.shape[1]} columns for {self.k} groups")
            groups = np.broadcast_to(np.arange(self.k, dtype=np.int64), x.shape).ravel()
            x = x.ravel()
        if x.size == 0:
            return
        x = np.ascontiguousarray(x)
        if x.size > FOLD_ROWS:
            for start in range(0, x.size, FOLD_ROWS):
                part = slice(start, start + FOLD_ROWS)
                self.add(x[part], None if groups is None else groups[part])
            return
        rest = self._add_by_levels(x, groups)
        if rest is None:
            return
        x, groups = rest
        if x.size == 0:
            return
        if self.pending + x.size > FOLD_ROWS:
            self._fold()
        exponent, high, low = _split(x)
        first, last = int(exponent.min()), int(exponent.max())
        if last == _SPECIAL or last > _LARGEST:
            self._add_outsized(x, groups, exponent)
            return
        self._cover(first, last)
        width = self.hi.shape[1]
        index = np.subtract(exponent, self.low, out=exponent)
        if groups is not None:
            index += np.asarray(groups, dtype=np.int64) * width
        size = self.k * width
        self.hi += np.bincount(index, weights=high, minlength=size).reshape(self.k, width)
        self.lo += np.bincount(index, weights=low, minlength=size).reshape(self.k, width)
        self.pending += x.size

    def _add_by_levels(
        self, x: npt.NDArray[np.float64], groups: npt.NDArray[np.int64] | None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64] | None] | None:
        """The fast way: each value split on two fixed grids of the batch (Rump, Ogita
        and Oishi's extraction), each grid's parts summed per group in one float sum
        that cannot round (a sum, two sums, or one ``bincount``), into the integers.
        What is left below the second grid (values far below the batch's largest, rare)
        is returned for the buckets, as is a batch these grids do not fit (non-finite,
        huge, tiny, short). None: all added."""
        n = x.shape[0]
        if n < LEVEL_MIN_ROWS:
            return x, groups
        if n > LEVEL_ROWS:
            rests = [
                self._add_by_levels(
                    x[start : start + LEVEL_ROWS],
                    None if groups is None else groups[start : start + LEVEL_ROWS],
                )
                for start in range(0, n, LEVEL_ROWS)
            ]
            left = [r for r in rests if r is not None]
            if not left:
                return None
            values = np.concatenate([r[0] for r in left])
            owners = None if groups is None else np.concatenate([r[1] for r in left])  # type: ignore[misc]
            return values, owners
        bottom = float(x.min())
        top = max(float(x.max()), -bottom)
        if not top < _LEVEL_TOP:  # inf, NaN or too large for the grids: the buckets
            return x, groups
        if top == 0.0:
            return None
        m = n.bit_length()  # n < 2**m
        exponent = math.frexp(top)[1]  # |x| < 2**exponent
        if exponent + 2 * (m - 53) < _LEVEL_FLOOR:  # the second grid would be subnormal
            return x, groups
        # All positive and the smallest within ~20 binades of the largest: what the first
        # grid leaves are multiples of the smallest one's ulp, few enough to sum exactly.
        narrow = bottom > 0.0 and math.frexp(bottom)[1] - 1 >= exponent + 2 * m - 55
        source = x
        apart = None
        if not narrow and bottom >= 0.0:
            # A few far below the largest (Brier terms of sure rows, say): those few to
            # the buckets, zeros in their place, and the batch is narrow.
            small = x < math.ldexp(1.0, exponent + 2 * m - 55)
            if np.count_nonzero(small) * FEW_SMALL <= n:
                where = np.flatnonzero(small)
                apart = x[where], None if groups is None else groups[where]
                source = _level_scratch(n, 3)
                np.copyto(source, x)
                source[where] = 0.0
                narrow = True
        share: npt.NDArray[np.float64] | npt.NDArray[np.int64] | None = groups
        if groups is not None and self.k == 2:
            share = _level_scratch(n, 2)
            np.copyto(share, groups, casting="unsafe")  # 0.0 or 1.0: group 1's rows
            if not (share.min() >= 0.0 and share.max() <= 1.0):  # a group not 0 or 1:
                return x, groups  # the buckets say so, as for any k
        part, rest = _level_scratch(n, 0), _level_scratch(n, 1)
        for level in range(2):
            if level and narrow:
                self._add_exactly(rest, share)
                return apart
            quantum = math.ldexp(1.0, exponent + m - 53)  # |sum| < 2**53 quanta: exact
            big = 1.5 * math.ldexp(1.0, 52) * quantum  # x + big rounds x to the grid
            np.add(source, big, out=part)
            part -= big
            np.subtract(source, part, out=rest)  # exact: what the grid leaves
            self._add_exactly(part, share)
            source = rest
            exponent = exponent + m - 54  # |rest| <= quantum / 2
        left = rest != 0.0  # (a bool mask: NumPy finds those far faster than floats)
        if not left.any():
            return None
        where = np.flatnonzero(left)
        return rest[where], None if groups is None else groups[where]

    def _add_exactly(
        self,
        values: npt.NDArray[np.float64],
        share: npt.NDArray[np.float64] | npt.NDArray[np.int64] | None,
    ) -> None:
        """Add values whose float sum (in any order) is exact: to group 0; with two
        groups to group 1 where ``share`` is 1.0 and group 0 where it is 0.0; else each
        to its group in ``share``."""
        if share is not None and self.k != 2:
            sums = np.bincount(share, weights=values, minlength=self.k).tolist()
            if len(sums) > self.k:
                raise ValueError(f"a group beyond the {self.k} groups")
            for g, value in enumerate(sums):
                self.ints[g] += _scaled(value)
            return
        total = float(np.sum(values))
        if share is None:
            self.ints[0] += _scaled(total)
            return
        # Products by 0 and 1, exact sums (einsum: not BLAS, whose threads cost more to
        # wake than this sum takes).
        ones = float(np.einsum("i,i->", values, share))
        self.ints[1] += _scaled(ones)
        self.ints[0] += _scaled(total - ones)  # exact: a subset's sum

    def _add_outsized(
        self, x: npt.NDArray[np.float64], groups: npt.NDArray[np.int64] | None, exponent: np.ndarray
    ) -> None:
        """Infinities, NaN and values so large that float buckets could overflow: those
        one by one (they are rare), the rest as usual."""
        outsized = exponent > _LARGEST
        where = np.flatnonzero(outsized)
        values = x[where].tolist()
        owners = [0] * len(values) if groups is None else np.asarray(groups)[where].tolist()
        special = self.special.copy()
        for value, group in zip(values, owners, strict=True):
            if np.isfinite(value):
                self.ints[group] += _integer(np.array([value]))
            else:
                with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as a float sum
                    special[group] += value
        self.special = special
        rest = ~outsized
        if rest.any():
            self.add(x[rest], None if groups is None else np.asarray(groups)[rest])

    def merge(self, other: ExactSums) -> ExactSums:
        """A new sum holding both; neither changes."""
        merged = self.copy()
        merged.absorb(other)
        return merged

    def absorb(self, other: ExactSums) -> None:
        """Add ``other``'s values to these sums (``other`` does not change)."""
        if other.k != self.k:
            raise ValueError("cannot merge sums of different group counts")
        if self.pending + other.pending > FOLD_ROWS:
            self._fold()
            other = other.copy()
            other._fold()
        if other.hi.shape[1]:
            self._cover(other.low, other.low + other.hi.shape[1] - 1)
            start = other.low - self.low
            stop = start + other.hi.shape[1]
            self.hi[:, start:stop] += other.hi
            self.lo[:, start:stop] += other.lo
        self.pending += other.pending
        self.ints = [a + b for a, b in zip(self.ints, other.ints, strict=True)]
        self.special = self.special + other.special

    def pooled(self) -> ExactSums:
        """One sum of every group's values. Exact: a bucket column holds values of one
        exponent, at most ``FOLD_ROWS`` of them in all groups together."""
        one = ExactSums(1)
        one.low, one.pending = self.low, self.pending
        one.hi = self.hi.sum(axis=0, keepdims=True)
        one.lo = self.lo.sum(axis=0, keepdims=True)
        one.ints = [sum(self.ints)]
        with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as a float sum
            one.special = np.array([self.special.sum()])
        return one

    def copy(self) -> ExactSums:
        twin = ExactSums(self.k)
        twin.low, twin.pending = self.low, self.pending
        twin.hi, twin.lo = self.hi.copy(), self.lo.copy()
        twin.ints, twin.special = list(self.ints), self.special.copy()
        return twin

    def exact(self) -> list[Fraction | float]:
        """Each group's sum as an exact fraction, or inf/NaN when a value was one."""
        folded = self.copy()
        folded._fold()
        return [
            float(s) if s != 0 or np.isnan(s) else Fraction(n, 1 << SCALE_BITS)
            for n, s in zip(folded.ints, folded.special.tolist(), strict=True)
        ]

    def totals(self) -> npt.NDArray[np.float64]:
        """Each group's sum, correctly rounded to float64."""
        return np.array([_rounded(v) for v in self.exact()], dtype=np.float64)

    def _cover(self, first: int, last: int) -> None:
        """Widen the buckets to hold exponent fields ``first`` .. ``last``."""
        width = self.hi.shape[1]
        if width and self.low <= first and last < self.low + width:
            return
        low = min(first, self.low) if width else first
        high = max(last, self.low + width - 1) if width else last
        hi = np.zeros((self.k, high - low + 1))
        lo = np.zeros_like(hi)
        if width:
            hi[:, self.low - low : self.low - low + width] = self.hi
            lo[:, self.low - low : self.low - low + width] = self.lo
        self.low, self.hi, self.lo = low, hi, lo

    def _fold(self) -> None:
        """Move the float buckets into the integers."""
        if self.hi.shape[1]:
            for g in range(self.k):
                self.ints[g] += _integer(self.hi[g]) + _integer(self.lo[g])
        self.hi = np.zeros((self.k, 0))
        self.lo = np.zeros((self.k, 0))
        self.low, self.pending = 0, 0


_scratch = threading.local()


def _split(
    x: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Each value's exponent field, and its high and low parts, in this thread's scratch
    buffers (fresh arrays of a batch's size would each cost page faults)."""
    n = x.shape[0]
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None or buffers[0].shape[0] < n:
        size = max(n, 1 << 16)
        buffers = (np.empty(size, np.uint64), np.empty(size, np.int64), np.empty(size))
        _scratch.buffers = buffers
    exponent, high, low = (b[:n] for b in buffers)
    np.right_shift(x.view(np.uint64), _SHIFT, out=exponent)
    np.bitwise_and(exponent, np.uint64(_SPECIAL), out=exponent)
    np.bitwise_and(x.view(np.int64), _HI_MASK, out=high)
    with np.errstate(invalid="ignore"):  # inf - inf: such values are added apart
        np.subtract(x, high.view(np.float64), out=low)
    return exponent.view(np.int64), high.view(np.float64), low


def _level_scratch(n: int, which: int) -> npt.NDArray[np.float64]:
    """This thread's scratch buffer ``which`` for the grids, ``n`` long."""
    buffers = getattr(_scratch, "levels", None)
    if buffers is None:
        buffers = _scratch.levels = tuple(np.empty(LEVEL_ROWS) for _ in range(4))
    return buffers[which][:n]  # type: ignore[no-any-return]


def _scaled(value: float) -> int:
    """A float's exact value times ``2**SCALE_BITS``, as an integer."""
    if value == 0.0:
        return 0
    mantissa, exponent = math.frexp(value)
    return int(mantissa * (1 << 53)) << (exponent - 53 + SCALE_BITS)


def _integer(buckets: npt.NDArray[np.float64]) -> int:
    """The exact sum of float buckets, scaled by ``2**SCALE_BITS``, as an integer."""
    values = buckets[buckets != 0]
    if not values.size:
        return 0
    mantissa, exponent = np.frexp(values)
    whole = (mantissa * (1 << 53)).astype(np.int64).tolist()
    shifts = (exponent.astype(np.int64) - 53 + SCALE_BITS).tolist()
    return sum(m << s for m, s in zip(whole, shifts, strict=True))


def _rounded(value: Fraction | float) -> float:
    """A fraction correctly rounded to float64 (inf beyond its range)."""
    if isinstance(value, float):
        return value
    try:
        return value.numerator / value.denominator  # int / int is correctly rounded
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")
