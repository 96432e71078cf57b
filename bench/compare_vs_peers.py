"""How far ``xent compare``'s figures are from their references, as a table.

    python bench/compare_vs_peers.py            # 40 random pairs of models + the sample data

For each case (two models' probabilities on the same labels, written as Parquet and CSV,
random sizes and class counts; then the sample data): the p-values against scipy's
``ttest_rel`` on the per-sample losses and ``binomtest(b, b + c, 0.5)`` on the discordant
rows, the paired mean against ``math.fsum`` of the differences, and every figure of the
BASE and NEW reports against a ``score`` run of each file alone. Prints the largest
absolute and relative difference per figure. Needs the test extra (scipy).
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import xentcli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _case(folder: Path, rng: np.random.Generator, i: int) -> tuple[Path, Path, Path]:
    n, k = int(rng.integers(20, 3000)), int(rng.integers(2, 12))
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + rng.uniform(0, 3) * np.eye(k)[labels]
    noisy = logits + rng.normal(scale=rng.uniform(0.1, 2), size=(n, k))

    def probs(z: np.ndarray) -> pd.DataFrame:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return pd.DataFrame(e / e.sum(axis=1, keepdims=True), columns=[f"p_{c}" for c in range(k)])

    base, new, lab = folder / f"b{i}.parquet", folder / f"n{i}.csv", folder / f"l{i}.csv"
    probs(logits).to_parquet(base, index=False)
    probs(noisy).to_csv(new, index=False, float_format="%.17g")
    pd.DataFrame({"label": labels}).to_csv(lab, index=False)
    return base, new, lab


def _record(worst: dict[str, tuple[float, float]], name: str, got: float, want: float) -> None:
    if math.isnan(got) and math.isnan(want):
        return
    absolute = abs(got - want)
    relative = absolute / abs(want) if want else (0.0 if got == want else math.inf)
    old = worst.get(name, (0.0, 0.0))
    worst[name] = (max(old[0], absolute), max(old[1], relative))


def measure(cases: list[tuple[Path, Path, Path | None]]) -> dict[str, tuple[float, float]]:
    worst: dict[str, tuple[float, float]] = {}
    for base, new, labels in cases:
        comparison = xentcli.compare(base, new, labels)
        p = comparison.paired
        b_summary, b_rows = xentcli.score(base, labels, per_sample=True, ci=0.95)
        n_summary, n_rows = xentcli.score(new, labels, per_sample=True, ci=0.95)
        lb = b_rows.column("loss").to_numpy()
        ln = n_rows.column("loss").to_numpy()
        right_b = b_rows.column("pred").to_numpy() == b_rows.column("label").to_numpy()
        right_n = n_rows.column("pred").to_numpy() == n_rows.column("label").to_numpy()
        bb, cc = int(np.sum(right_b & ~right_n)), int(np.sum(~right_b & right_n))
        _record(
            worst, "p_value.loss vs scipy ttest_rel", p.p_value_loss, stats.ttest_rel(ln, lb).pvalue
        )
        mcnemar = stats.binomtest(bb, bb + cc, 0.5).pvalue if bb + cc else 1.0
        _record(worst, "p_value.accuracy vs scipy binomtest", p.p_value_accuracy, mcnemar)
        _record(worst, "delta.loss vs fsum(d)/n", p.delta, math.fsum(ln - lb) / len(lb))
        _record(worst, "ci se vs scipy sem(d)", p.se, float(stats.sem(ln - lb)))
        difference = n_summary.mean_loss - b_summary.mean_loss
        _record(worst, "delta.loss vs the two score runs' mean_loss", p.delta, difference)
        for side, summary, alone in (
            ("base", comparison.base, b_summary),
            ("new", comparison.new, n_summary),
        ):
            for key, value in alone.to_dict().items():
                if isinstance(value, float):
                    _record(worst, f"{side}.{key} vs score", getattr(summary, key), value)
    return worst


def main() -> None:
    rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[Path, Path, Path | None]] = [_case(Path(tmp), rng, i) for i in range(40)]
        cases.append(
            (
                SAMPLE / "digits_probs.csv",
                SAMPLE / "digits_probs_weak.csv",
                SAMPLE / "digits_labels.csv",
            )
        )
        cases.append((SAMPLE / "cancer.csv", SAMPLE / "cancer_weak.csv", None))
        worst = measure(cases)
    print(f"{len(cases)} cases (40 random pairs of models, the two sample pairs)\n")
    print("| figure | max abs diff | max rel diff |")
    print("|---|---:|---:|")
    for name, (absolute, relative) in worst.items():
        print(f"| {name} | {absolute:.3g} | {relative:.3g} |")


if __name__ == "__main__":
    main()
