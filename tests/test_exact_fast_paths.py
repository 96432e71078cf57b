"""The fast ways of the partials give the bits of the plain ones: the grids of
``ExactSums`` against ``math.fsum`` and the buckets alone, the bins' lookup table against
``bin_of`` (values on and beside every edge), the shared per-batch counts against a run
of the partials on their own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xentcli.metrics import exact
from xentcli.metrics.calibration import bin_lookup, bin_of
from xentcli.metrics.exact import ExactSums
from xentcli.metrics.rows import Rows
from xentcli.metrics.shared import class_tally, loss_by_class


def _values(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "losses":
        return np.logaddexp(0.0, rng.normal(0, 4, n))
    if kind == "squares":
        return (1.0 - 1.0 / (1.0 + np.exp(-rng.normal(0, 6, n)))) ** 2
    if kind == "wide":  # every binade from 1e-300 to 1e300, both signs
        return rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-300, 300, n)
    if kind == "subnormal":
        return rng.normal(0, 1, n) * 5e-324 * 2.0 ** rng.integers(0, 60, n)
    if kind == "cancel":
        x = rng.normal(0, 1, n) * 2.0 ** rng.integers(-40, 40, n)
        x[: n // 2] = -x[n // 2 : 2 * (n // 2)]
        return rng.permutation(x)
    if kind == "ties":  # halfway between grid points, where rounding to even decides
        return (rng.integers(0, 1 << 20, n) + 0.5) * 2.0 ** rng.integers(-60, -30, n)
    if kind == "zeros":
        x = np.zeros(n)
        x[rng.integers(0, n, 3)] = -0.0
        return x
    if kind == "constant":
        return np.full(n, 0.1)
    if kind == "narrow":  # positive, within a few binades: one grid is enough
        return rng.uniform(0.5, 900.0, n)
    if kind == "narrow_edge":  # the smallest right at the one-grid bound, and just below
        x = rng.uniform(1.0, 2.0, n)
        m = min(n, exact.LEVEL_ROWS).bit_length()
        x[rng.integers(0, n, 4)] = math.ldexp(1.0, 1 + 2 * m - 55)
        x[rng.integers(0, n, 1)] = np.nextafter(math.ldexp(1.0, 1 + 2 * m - 55), 0.0)
        return x
    if kind == "huge":
        return rng.normal(0, 1, n) * 1e305
    raise AssertionError(kind)


KINDS = [
    *("losses", "squares", "wide", "subnormal", "cancel", "ties", "zeros", "constant"),
    *("narrow", "narrow_edge", "huge"),
]


def _buckets_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exact, "LEVEL_MIN_ROWS", 1 << 62)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [1, 2, 15])
@pytest.mark.parametrize("n", [1024, 5000, 65536, 150_001])
def test_grids_give_the_correctly_rounded_sum(kind, k, n, monkeypatch):
    rng = np.random.default_rng(hash((kind, k, n)) % 2**32)
    x = _values(kind, n, rng)
    groups = rng.integers(0, k, n) if k > 1 else None
    fast = ExactSums(k)
    cut = int(rng.integers(0, n))
    fast.add(x[:cut], None if groups is None else groups[:cut])
    fast.add(x[cut:], None if groups is None else groups[cut:])
    owners = np.zeros(n, dtype=np.int64) if groups is None else groups
    expected = []
    for g in range(k):
        try:
            expected.append(math.fsum(x[owners == g].tolist()))
        except OverflowError:
            expected.append(math.nan)  # fsum's intermediate overflow: checked below
    _buckets_only(monkeypatch)
    slow = ExactSums(k)
    slow.add(x, groups)
    assert fast.totals().tolist() == slow.totals().tolist()
    assert fast.exact() == slow.exact()
    for got, want in zip(fast.totals().tolist(), expected, strict=True):
        if not math.isnan(want):
            assert got == want


def test_grids_leave_non_finite_values_to_ieee_rules():
    x = np.linspace(0, 1, 4096)
    x[6] = math.inf
    s = ExactSums()
    s.add(x)
    assert s.totals()[0] == math.inf
    x[9] = math.nan
    t = ExactSums(2)
    t.add(x, np.arange(4096) % 2)
    assert t.totals()[0] == math.inf and math.isnan(t.totals()[1])


def test_grids_merge_with_buckets_in_any_order(monkeypatch):
    rng = np.random.default_rng(5)
    parts = [_values(kind, 3000, rng) for kind in ("losses", "wide", "cancel", "narrow")]
    fast = [ExactSums(3) for _ in parts]
    for s, x in zip(fast, parts, strict=True):
        s.add(x, np.arange(x.size) % 3)
    _buckets_only(monkeypatch)
    slow = [ExactSums(3) for _ in parts]
    for s, x in zip(slow, parts, strict=True):
        s.add(x, np.arange(x.size) % 3)
    a = fast[0].merge(slow[1]).merge(fast[2]).merge(slow[3])
    b = fast[3].merge(slow[2]).merge(fast[1]).merge(slow[0])
    assert a.exact() == b.exact()


@pytest.mark.parametrize("bins", [1, 2, 3, 7, 10, 15, 16, 20, 33, 100, 1000, 4096])
def test_lookup_bins_are_bin_of(bins):
    rng = np.random.default_rng(bins)
    table = bin_lookup(bins)
    edges = np.concatenate([np.arange(bins + 1) / bins, np.linspace(0, 1, bins + 1)])
    cells = np.arange(table.cells + 1) / table.cells
    near = [edges, cells]
    for points in (edges, cells):
        down = up = points
        for _ in range(3):
            down, up = np.nextafter(down, -1.0), np.nextafter(up, 2.0)
            near += [down, up]
    c = np.concatenate(
        [*near, rng.random(100_000), rng.random(1000) ** 40, [0.0, -0.0, 5e-324, 1.0]]
    )
    c = c[(c >= 0.0) & (c <= 1.0)]
    assert np.array_equal(table(c), bin_of(c, bins))
    outside = np.array([-1e-300, 0.5, np.nextafter(1.0, 2.0), math.nan])
    assert np.array_equal(table(outside[:3]), bin_of(outside[:3], bins))


@pytest.mark.parametrize("k", [2, 3, 10])
def test_class_tally_counts_a_class_rows_and_right_rows(k):
    rng = np.random.default_rng(k)
    n = 5000
    label, hit = rng.integers(0, k, n), rng.random(n) < 0.6
    zeros = np.zeros(n)
    rows = Rows(zeros, zeros, None, None, label, label, hit, zeros, zeros, zeros, hit, label)
    count, right = class_tally(rows, k)
    assert count.tolist() == np.bincount(label, minlength=k).tolist()
    assert right.tolist() == np.bincount(label[hit], minlength=k).tolist()
    assert class_tally(rows, k) is class_tally(rows, k)  # made once per batch
    sums = loss_by_class(rows, k)
    assert sums is loss_by_class(rows, k)


@pytest.mark.parametrize("k", [2, 3])
def test_a_group_beyond_k_is_an_error_on_every_way(k):
    with pytest.raises(ValueError):
        ExactSums(k).add(np.ones(5000), np.full(5000, k))
