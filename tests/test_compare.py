"""``xent compare`` / ``xentcli.compare``: both modes against references nobody here wrote.

Every base/new figure is checked against two ``score`` runs; the paired figures against
scipy's ``ttest_rel`` and ``binomtest`` on the per-sample losses and hits ``score`` gives;
the mirror property (``compare X Y`` is ``compare Y X`` negated) on random inputs; and
the layouts that would pair the wrong rows (a shuffled file, a row left out, labels that
disagree) stop with one line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import xentcli
from xentcli import XentError

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
DIGITS = (SAMPLE / "digits_probs.csv", SAMPLE / "digits_probs_weak.csv")
DIGIT_LABELS = SAMPLE / "digits_labels.csv"
CANCER = (SAMPLE / "cancer.csv", SAMPLE / "cancer_weak.csv")


def _per_sample(preds, labels=None, **options):
    summary, table = xentcli.score(preds, labels, per_sample=True, **options)
    frame = table.to_pandas()
    return summary, frame


def _random_models(tmp_path: Path, n: int, k: int, seed: int) -> tuple[Path, Path, Path]:
    """Two models' probabilities (Parquet by pyarrow via pandas, CSV by pandas) and
    labels (CSV), the second model a noisier copy of the first."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[labels]
    noisy = logits + rng.normal(scale=1.5, size=(n, k))

    def probs(z: np.ndarray) -> pd.DataFrame:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return pd.DataFrame(e / e.sum(axis=1, keepdims=True), columns=[f"p_{c}" for c in range(k)])

    base, new, lab = tmp_path / "base.parquet", tmp_path / "new.csv", tmp_path / "labels.csv"
    probs(logits).to_parquet(base, index=False)
    probs(noisy).to_csv(new, index=False, float_format="%.17g")
    pd.DataFrame({"label": labels}).to_csv(lab, index=False)
    return base, new, lab


# -- every figure of BASE and NEW is score's --------------------------------------------


@pytest.mark.parametrize(
    ("pair", "labels", "options"),
    [
        (DIGITS, DIGIT_LABELS, {}),
        (DIGITS, DIGIT_LABELS, {"id_col": "id", "log_base": "2", "bins": 10}),
        (CANCER, None, {"by": ("size",), "worst": 3}),
        (CANCER, None, {"label_smoothing": 0.1, "bootstrap": 50, "seed": 7}),
    ],
)
def test_paired_reports_are_two_score_runs(pair, labels, options):
    comparison = xentcli.compare(pair[0], pair[1], labels, **options)
    asked = {"ci": 0.95, **options}
    for summary, preds in ((comparison.base, pair[0]), (comparison.new, pair[1])):
        alone = xentcli.score(preds, labels, **asked)
        assert summary.to_dict() == alone.to_dict()
    for name, change in comparison.figures.items():
        base, new = getattr(comparison.base, name), getattr(comparison.new, name)
        assert change.base == base and change.new == new
        assert change.delta == (0.0 if base == new else new - base)
    for cls in comparison.per_class:
        base = next(c for c in comparison.base.per_class if c.name == cls.name)
        new = next(c for c in comparison.new.per_class if c.name == cls.name)
        assert cls.change.delta == new.mean_loss - base.mean_loss


def test_reports_mode_reads_score_json_back(tmp_path):
    base_json, new_json = tmp_path / "base.json", tmp_path / "new.json"
    base = xentcli.score(CANCER[0], by=["size"])
    new = xentcli.score(CANCER[1], by=["size"])
    base_json.write_text(json.dumps(base.to_dict()))
    new_json.write_text(json.dumps(new.to_dict()))
    comparison = xentcli.compare(base_json, new_json)
    assert comparison.mode == "reports" and comparison.paired is None
    assert comparison.figures["mean_loss"].delta == new.mean_loss - base.mean_loss
    assert comparison.figures["accuracy"].rel == (new.accuracy - base.accuracy) / base.accuracy
    by_value = {s.value: s for s in comparison.slices}
    for s in new.slices:
        b = next(x for x in base.slices if x.value == s.value)
        assert by_value[s.value].change.delta == s.mean_loss - b.mean_loss
    # the same from Summary objects and from the dicts
    assert xentcli.compare(base, new).to_dict() == comparison.to_dict()
    assert xentcli.compare(base.to_dict(), new.to_dict()).to_dict() == comparison.to_dict()


# -- the paired figures against scipy ---------------------------------------------------


def _reference(base_rows: pd.DataFrame, new_rows: pd.DataFrame) -> dict[str, float]:
    d = new_rows["loss"].to_numpy() - base_rows["loss"].to_numpy()
    right_b = (base_rows["pred"] == base_rows["label"]).to_numpy()
    right_n = (new_rows["pred"] == new_rows["label"]).to_numpy()
    b, c = int(np.sum(right_b & ~right_n)), int(np.sum(~right_b & right_n))
    return {
        "delta": math.fsum(d) / len(d),
        "se": float(stats.sem(d)),
        "p_loss": float(stats.ttest_rel(new_rows["loss"], base_rows["loss"]).pvalue),
        "p_accuracy": float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0,
        "wins": int(np.sum(d < 0)),
        "losses": int(np.sum(d > 0)),
        "ties": int(np.sum(d == 0)),
        "base_only": b,
        "new_only": c,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_figures_match_scipy(tmp_path, seed):
    base, new, labels = _random_models(tmp_path, 700, 4, seed)
    _, base_rows = _per_sample(base, labels)
    _, new_rows = _per_sample(new, labels)
    ref = _reference(base_rows, new_rows)
    p = xentcli.compare(base, new, labels).paired
    assert p.n == 700
    assert p.delta == pytest.approx(ref["delta"], rel=1e-14, abs=1e-16)
    assert p.se == pytest.approx(ref["se"], rel=1e-12)
    assert p.p_value_loss == pytest.approx(ref["p_loss"], rel=1e-9, abs=1e-300)
    assert p.p_value_accuracy == pytest.approx(ref["p_accuracy"], rel=1e-9)
    for key in ("wins", "losses", "ties", "base_only", "new_only"):
        assert getattr(p, key) == ref[key], key
    z = stats.norm.ppf(0.975)
    assert p.interval[0] == pytest.approx(p.delta - z * p.se, rel=1e-12)
    assert p.interval[1] == pytest.approx(p.delta + z * p.se, rel=1e-12)


def test_sample_data_paired_matches_scipy():
    _, base_rows = _per_sample(DIGITS[0], DIGIT_LABELS)
    _, new_rows = _per_sample(DIGITS[1], DIGIT_LABELS)
    ref = _reference(base_rows, new_rows)
    p = xentcli.compare(DIGITS[0], DIGITS[1], DIGIT_LABELS).paired
    assert p.delta == pytest.approx(ref["delta"], rel=1e-14)
    assert p.p_value_loss == pytest.approx(ref["p_loss"], rel=1e-9, abs=1e-300)
    assert p.p_value_accuracy == pytest.approx(ref["p_accuracy"], rel=1e-9)
    assert (p.wins, p.losses, p.ties) == (ref["wins"], ref["losses"], ref["ties"])


def test_weighted_paired_figures_follow_score_se(tmp_path):
    """With --weight-col: the weighted mean of d and score's se (n/(n-1) form); the
    t-test uses t = mean / se with n - 1 degrees of freedom (SPEC)."""
    base, new, labels = _random_models(tmp_path, 400, 3, 5)
    weights = np.random.default_rng(9).uniform(0.1, 3.0, 400)
    frame = pd.read_csv(labels).assign(w=weights)
    frame.to_csv(labels, index=False, float_format="%.17g")
    _, base_rows = _per_sample(base, labels, weight_col="w")
    _, new_rows = _per_sample(new, labels, weight_col="w")
    w = base_rows["weight"].to_numpy()
    d = new_rows["loss"].to_numpy() - base_rows["loss"].to_numpy()
    mean = np.sum(w * d) / np.sum(w)
    n = len(d)
    se = math.sqrt(n / (n - 1) * np.sum((w * d - mean * w) ** 2) / np.sum(w) ** 2)
    p = xentcli.compare(base, new, labels, weight_col="w").paired
    assert p.delta == pytest.approx(mean, rel=1e-13)
    assert p.se == pytest.approx(se, rel=1e-10)
    expected = 2 * stats.t.sf(abs(mean / se), n - 1)
    assert p.p_value_loss == pytest.approx(expected, rel=1e-9)


def test_identical_inputs_say_no_change():
    c = xentcli.compare(CANCER[0], CANCER[0])
    p = c.paired
    assert (p.delta, p.interval, p.p_value_loss, p.p_value_accuracy) == (0.0, (0.0, 0.0), 1.0, 1.0)
    assert (p.wins, p.losses, p.ties) == (0, 0, c.base.n_samples)
    assert all(change.delta == 0 for change in c.figures.values())
    assert all(change.rel in (0.0, None) for change in c.figures.values())


# -- pairing: the layouts that would pair the wrong rows ---------------------------------


def test_pairing_by_id_follows_the_ids_not_the_order(tmp_path):
    shuffled = tmp_path / "weak_shuffled.csv"
    pd.read_csv(DIGITS[1]).sample(frac=1, random_state=3).to_csv(shuffled, index=False)
    ordered = xentcli.compare(DIGITS[0], DIGITS[1], DIGIT_LABELS, id_col="id")
    mixed = xentcli.compare(DIGITS[0], shuffled, DIGIT_LABELS, id_col="id")
    assert mixed.paired == ordered.paired
    assert mixed.figures == ordered.figures
    # by position the shuffled file is refused (its ids disagree with LABELS'), not paired
    with pytest.raises(XentError, match="--id-col"):
        xentcli.compare(DIGITS[0], shuffled, DIGIT_LABELS)


def test_a_row_left_out_of_one_model_stops(tmp_path):
    bad = tmp_path / "weak_bad.csv"
    frame = pd.read_csv(CANCER[1])
    frame.loc[7, "p_benign"] = 1.5
    frame.to_csv(bad, index=False)
    with pytest.raises(XentError, match="row 7.*NEW .*left it out"):
        xentcli.compare(CANCER[0], bad, drop_invalid=True)


def test_a_shorter_model_stops(tmp_path):
    short = tmp_path / "weak_short.csv"
    pd.read_csv(CANCER[1]).iloc[:-1].to_csv(short, index=False)
    with pytest.raises(XentError, match="ended before it"):
        xentcli.compare(CANCER[0], short)
    # files that know their length (Parquet) are refused before a row is read
    whole, short_parquet = tmp_path / "base.parquet", tmp_path / "weak_short.parquet"
    pd.read_csv(CANCER[0]).to_parquet(whole, index=False)
    pd.read_csv(CANCER[1]).iloc[:-1].to_parquet(short_parquet, index=False)
    with pytest.raises(XentError, match="BASE has 171 rows and NEW 170"):
        xentcli.compare(whole, short_parquet)


def test_labels_that_disagree_stop(tmp_path):
    flipped = tmp_path / "weak_flipped.csv"
    frame = pd.read_csv(CANCER[1])
    frame.loc[5, "label"] = "malignant" if frame.loc[5, "label"] == "benign" else "benign"
    frame.to_csv(flipped, index=False)
    with pytest.raises(XentError, match="labels of BASE and NEW disagree at BASE row 5"):
        xentcli.compare(CANCER[0], flipped)


def test_a_report_and_predictions_together_is_a_usage_error(tmp_path):
    report = tmp_path / "base.json"
    report.write_text(json.dumps(xentcli.score(CANCER[0]).to_dict()))
    with pytest.raises(XentError, match="BASE is a report of xent score and NEW holds predictions"):
        xentcli.compare(report, CANCER[1])


def test_reports_of_another_schema_or_signature_stop(tmp_path):
    base = xentcli.score(CANCER[0]).to_dict()
    other = dict(base, schema=2)
    with pytest.raises(XentError, match="schema 2"):
        xentcli.compare(base, other)
    summed = xentcli.score(CANCER[1], reduction="sum").to_dict()
    with pytest.raises(
        XentError, match=r"differ in reduction \(BASE mean, NEW sum\).*--allow-mismatch"
    ):
        xentcli.compare(base, summed)
    allowed = xentcli.compare(base, summed, allow_mismatch=True)
    assert allowed.mismatch == "reduction"
    # the version field aside: a report of another xent version compares
    older = dict(base, signature=base["signature"].replace("xent:0.1", "xent:0.0"))
    assert xentcli.compare(older, base).mismatch is None


def test_different_sizes_warn():
    base = xentcli.score(CANCER[0])
    half = xentcli.score(pd.read_csv(CANCER[1]).iloc[:100])
    c = xentcli.compare(base, half)
    assert any("171" in w and "100" in w for w in c.warnings)


# -- gates -------------------------------------------------------------------------------


def test_gates_read_the_changes():
    c = xentcli.compare(
        CANCER[0],
        CANCER[1],
        max_increase=0.5,
        max_rel_increase=1.0,
        max_accuracy_drop=0.05,
        max_class_increase=0.3,
    )
    by = {g.name: g for g in c.gates}
    base, new = c.base, c.new
    assert by["max_increase"].value == c.paired.delta and by["max_increase"].passed
    rel = c.paired.delta / base.mean_loss
    assert by["max_rel_increase"].value == rel and not by["max_rel_increase"].passed
    assert by["max_accuracy_drop"].value == pytest.approx(base.accuracy - new.accuracy)
    assert not by["max_accuracy_drop"].passed
    rises = {cls.name: cls.change.delta for cls in c.per_class if cls.change.delta is not None}
    worst = max(rises, key=rises.get)
    assert by["max_class_increase"].value == rises[worst]
    assert c.gate_classes[3] == worst
    assert c.passed is False


def test_alpha_fails_only_a_significant_rise():
    """The gate's value stays the point estimate; with --alpha it fails only when the
    one-sided lower bound ``delta - z(1 - alpha) se`` is above the threshold."""
    c = xentcli.compare(CANCER[0], CANCER[1])
    delta, se = c.paired.delta, c.paired.se
    z = stats.norm.ppf(0.95)
    bound = delta - z * se
    below, above = bound - 0.01, (bound + delta) / 2  # threshold under / over the bound
    failing = xentcli.compare(CANCER[0], CANCER[1], max_increase=below, alpha=0.05)
    assert failing.gates[0].value == delta and not failing.gates[0].passed
    passing = xentcli.compare(CANCER[0], CANCER[1], max_increase=above, alpha=0.05)
    assert passing.gates[0].value == delta and passing.gates[0].passed
    without = xentcli.compare(CANCER[0], CANCER[1], max_increase=above)
    assert not without.gates[0].passed  # the point estimate is above it
    assert without.gate_bounds == (None,)
    entry = passing.to_dict()["gates"][0]
    assert entry["alpha"] == 0.05 and entry["lower_bound"] == pytest.approx(bound, rel=1e-12)
    # the relative gate's bound is over the base's mean loss
    base = c.base.mean_loss
    rel = xentcli.compare(CANCER[0], CANCER[1], max_rel_increase=0.1, alpha=0.05)
    assert rel.gate_bounds[0] == pytest.approx(bound / base, rel=1e-12)
    assert rel.gates[0].value == delta / base


# -- the mirror ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    k=st.integers(2, 4),
    seed=st.integers(0, 2**32 - 1),
    bootstrap=st.sampled_from([None, 20]),
)
def test_compare_is_its_own_mirror(n, k, seed, bootstrap):
    """``compare Y X`` is ``compare X Y`` with every change negated, wins and losses
    swapped, and the same p-values, bit for bit."""
    rng = np.random.default_rng(seed)
    labels = pd.DataFrame({"label": rng.integers(0, k, n)})
    classes = [f"p_{c}" for c in range(k)]
    x = pd.DataFrame(rng.dirichlet(np.ones(k), n), columns=classes)
    y = pd.DataFrame(rng.dirichlet(np.ones(k), n), columns=classes)
    y.iloc[: n // 3] = x.iloc[: n // 3].to_numpy()  # some ties
    forward = xentcli.compare(x, y, labels, classes=[str(c) for c in range(k)], bootstrap=bootstrap)
    back = xentcli.compare(y, x, labels, classes=[str(c) for c in range(k)], bootstrap=bootstrap)
    p, q = forward.paired, back.paired
    assert q.delta == -p.delta
    assert q.interval == (-p.interval[1], -p.interval[0])
    assert (q.wins, q.losses, q.ties) == (p.losses, p.wins, p.ties)
    assert (q.base_only, q.new_only) == (p.new_only, p.base_only)
    assert q.p_value_loss == p.p_value_loss and q.p_value_accuracy == p.p_value_accuracy
    assert q.se == p.se
    for name, change in forward.figures.items():
        other = back.figures[name]
        assert _same(other.base, change.new) and _same(other.new, change.base)
        assert _same(other.delta, None if change.delta is None else -change.delta)
    for a, b in zip(forward.per_class, back.per_class, strict=True):
        assert _same(b.change.delta, None if a.change.delta is None else -a.change.delta)


def _same(a: float | None, b: float | None) -> bool:
    """Equal, or both NaN (a figure undefined on both sides: d2 when one class is seen)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


# -- files as real writers write them ----------------------------------------------------


def test_models_written_by_polars_and_duckdb_pair_with_pandas_labels(tmp_path):
    """BASE from polars (Parquet), NEW from DuckDB (CSV with COPY), LABELS from pandas:
    the paired figures are those of the same models read from the sample CSVs."""
    import duckdb
    import polars as pl

    base, new = tmp_path / "base.parquet", tmp_path / "new.csv"
    pl.read_csv(DIGITS[0]).write_parquet(base)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv_auto('{DIGITS[1]}', all_varchar=false)) "
        f"TO '{new}' (HEADER, DELIMITER ',')"
    )
    expected = xentcli.compare(DIGITS[0], DIGITS[1], DIGIT_LABELS, id_col="id")
    got = xentcli.compare(base, new, DIGIT_LABELS, id_col="id")
    assert got.paired.wins == expected.paired.wins
    assert got.paired.delta == pytest.approx(expected.paired.delta, rel=1e-12)
    assert got.paired.p_value_loss == pytest.approx(expected.paired.p_value_loss, rel=1e-9)


def test_models_whose_columns_are_in_another_order_pair_by_class_name(tmp_path):
    """Two files may list the same classes in another order: rows pair by class name,
    and a class set that differs stops."""
    frame = pd.read_csv(DIGITS[1])
    reordered = tmp_path / "weak_reordered.csv"
    frame[["id", *[f"p_{k}" for k in (3, 1, 0, 2, 4, 5, 6, 7, 8, 9)]]].to_csv(
        reordered, index=False
    )
    plain = xentcli.compare(DIGITS[0], DIGITS[1], DIGIT_LABELS, label_type="names")
    moved = xentcli.compare(DIGITS[0], reordered, DIGIT_LABELS, label_type="names")
    assert moved.paired == plain.paired
    assert moved.figures == plain.figures
    fewer = tmp_path / "weak_nine.csv"
    nine = frame.drop(columns=["p_9"])
    nine[[f"p_{k}" for k in range(9)]] = nine[[f"p_{k}" for k in range(9)]].div(
        nine[[f"p_{k}" for k in range(9)]].sum(axis=1), axis=0
    )
    nine.to_csv(fewer, index=False)
    with pytest.raises(XentError):
        xentcli.compare(DIGITS[0], fewer, DIGIT_LABELS, label_type="names")
