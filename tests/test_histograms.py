"""The figures' histograms (``metrics.histograms``) against NumPy's: the counts of the
rows' ``p_true`` and losses equal ``numpy.histogram`` of the per-sample rows
``xentcli.score(..., per_sample=True)`` returns; any cut of the rows, merged in any
order, gives the same counts; the JSON report carries them and reads them back; the
paired differences' slots agree with a plain reading of sign and exponent."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import xentcli
from xentcli.comparison import D_HIGH, D_LOW, D_OCTAVES, D_SLOTS
from xentcli.metrics.histograms import (
    LOSS_BINS,
    LOSS_WIDTH,
    P_BINS,
    DifferenceHistogram,
    Histograms,
    d_slots,
    loss_counts,
)
from xentcli.metrics.rows import Rows
from xentcli.summary import Summary

PREDS, LABELS = "sample_data/digits_logits.parquet", "sample_data/digits_labels.csv"


def per_sample(**options: object) -> tuple[Summary, dict[str, np.ndarray]]:
    summary, rows = xentcli.score(PREDS, LABELS, per_sample=True, histograms=True, **options)
    return summary, {name: np.asarray(rows[name], dtype=float) for name in ("loss", "p_true")}


@pytest.mark.parametrize("log_base", ["e", "2"])
def test_counts_equal_numpy_histogram_of_the_per_sample_rows(log_base: str) -> None:
    summary, rows = per_sample(log_base=log_base)
    assert summary.histograms is not None
    p_true, row_loss = summary.histograms.p_true, summary.histograms.row_loss
    expected, edges = np.histogram(rows["p_true"], bins=P_BINS, range=(0, 1))
    assert list(p_true.counts) == expected.tolist()
    assert p_true.edges == pytest.approx(edges.tolist(), abs=0)
    # the loss bins are fixed in nats; the report gives their edges in its own base
    scale = 1.0 if log_base == "e" else math.log(2)
    nats = rows["loss"] * scale
    top = LOSS_BINS * LOSS_WIDTH
    regular, _ = np.histogram(nats[nats < top], bins=LOSS_BINS, range=(0, top))
    assert list(row_loss.counts) == regular.tolist()
    assert row_loss.overflow == int(np.count_nonzero(nats >= top))
    assert row_loss.edges[-1] == pytest.approx(top / scale)
    assert sum(p_true.counts) == sum(row_loss.counts) + row_loss.overflow == summary.n_samples


def rows_of(loss: np.ndarray, p_true: np.ndarray) -> Rows:
    n = loss.size
    ints = np.zeros(n, dtype=np.int64)
    return Rows(
        loss=loss,
        numerator=loss,
        denominator=None,
        weights=None,
        label=ints,
        pred=ints,
        hit=np.ones(n, dtype=bool),
        p_true=p_true,
        brier=np.zeros(n),
        confidence=p_true,
        outcome=np.ones(n, dtype=bool),
        rows=np.arange(n),
    )


def state(h: Histograms) -> tuple[list[int], int, list[int], int]:
    return h.p_true.tolist(), h.p_outside, h.loss.tolist(), h.loss_outside


def test_any_cut_merged_in_any_order_gives_the_same_counts() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.random(997), [0.0, 1.0, 0.5, np.nan, 1.5]])
    with np.errstate(divide="ignore"):
        loss = np.concatenate([-np.log(p[:-2]), [np.inf, np.nan]])
    whole = Histograms()
    whole.add(rows_of(loss, p))
    for cuts in ([1], [500], [3, 400, 999], list(range(50, 1000, 50))):
        parts = []
        for piece in np.split(np.arange(p.size), cuts):
            h = Histograms()
            h.add(rows_of(loss[piece], p[piece]))
            parts.append(h)
        forward = parts[0]
        for h in parts[1:]:
            forward = forward.merge(h)
        backward = parts[-1]
        for h in reversed(parts[:-1]):
            backward = h.merge(backward)
        assert state(forward) == state(backward) == state(whole)
    assert whole.p_outside == 2  # NaN and 1.5
    assert whole.loss_outside == 1 and whole.loss[-1] >= 1  # NaN apart; inf overflows


def test_the_json_report_carries_the_histograms_and_reads_them_back() -> None:
    assert "histograms" not in xentcli.score(PREDS, LABELS).to_dict()  # asked for, or none
    summary = xentcli.score(PREDS, LABELS, histograms=True)
    data = json.loads(json.dumps(summary.to_dict()))
    assert set(data["histograms"]) == {"p_true", "row_loss"}
    assert len(data["histograms"]["p_true"]["edges"]) == P_BINS + 1
    assert Summary.from_dict(data).histograms == summary.histograms
    del data["histograms"]  # a report of an earlier xent
    assert Summary.from_dict(data).histograms is None


def slot_by_hand(d: float) -> int:
    middle = D_OCTAVES + 2
    if d == 0:
        return middle
    magnitude = abs(d)
    if magnitude >= 2.0**D_HIGH:
        side = D_OCTAVES + 1
    elif magnitude < 2.0**D_LOW:
        side = 0
    else:
        side = next(e for e in range(D_LOW, D_HIGH) if 2.0**e <= magnitude < 2.0 ** (e + 1))
        side = side - D_LOW + 1
    return middle + 1 + side if d > 0 else middle - 1 - side


def test_difference_slots_by_sign_and_exponent() -> None:
    rng = np.random.default_rng(3)
    edges = [2.0**e for e in range(D_LOW - 2, D_HIGH + 2)]
    values = [0.0, -0.0, math.inf, -math.inf, 5e-324, -5e-324, *edges]
    values += [-e for e in edges] + [np.nextafter(e, 0) for e in edges]
    values += (rng.standard_cauchy(2000) * 0.01).tolist()
    d = np.asarray(values)
    assert d_slots(d).tolist() == [slot_by_hand(v) for v in values]
    h = DifferenceHistogram()
    h.add_differences(np.append(d, np.nan))
    assert h.nan == 1 and sum(h.finish()) == d.size and len(h.finish()) == D_SLOTS
    a, b = DifferenceHistogram(), DifferenceHistogram()
    a.add_differences(d[:1000])
    b.add_differences(d[1000:])
    assert b.merge(a).finish() == a.merge(b).finish() == DifferenceHistogram().merge(h).finish()


def test_paired_compare_counts_every_row_once() -> None:
    c = xentcli.compare(
        "sample_data/digits_probs.csv",
        "sample_data/digits_probs_weak.csv",
        "sample_data/digits_labels.csv",
    )
    assert c.paired is not None
    counts = c.paired.d_counts
    middle = D_OCTAVES + 2
    assert sum(counts) == c.paired.n
    assert sum(counts[middle + 1 :]) == c.paired.losses  # NEW's loss higher
    assert sum(counts[:middle]) == c.paired.wins
    assert counts[middle] == c.paired.ties


def test_loss_bins_at_their_edges_are_numpys() -> None:
    edges = np.arange(LOSS_BINS + 1) * LOSS_WIDTH
    values = np.concatenate([edges, np.nextafter(edges, -1), np.nextafter(edges, 99), [5e-324]])
    values = values[values >= 0]
    top = LOSS_BINS * LOSS_WIDTH
    regular, _ = np.histogram(values[values < top], bins=edges)
    counts = loss_counts(np.concatenate([values, [np.inf, np.nan, -1.0]]))
    assert counts[:-1].tolist() == regular.tolist()
    assert counts[-1] == np.count_nonzero(values >= top) + 1  # and inf
