"""Write sample_data/ from real models, so the README scores real predictions.

Trains scikit-learn models with a fixed seed on data sets that ship with
scikit-learn (digits: 10 classes; breast cancer: binary) and writes the held-out
predictions and labels. Needs the test extra (scikit-learn):

    python scripts/make_sample_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0
OUT = Path(__file__).resolve().parent.parent / "sample_data"


def digits() -> None:
    """10 classes: logits as Parquet, probabilities as CSV, labels as CSV, joined by ``id``;
    the probabilities and labels also as ``np.savetxt`` writes them (no header)."""
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    model.fit(x_train, y_train)
    ids = [f"d{i:04d}" for i in range(len(y_test))]
    logits = model.decision_function(x_test)
    probs = model.predict_proba(x_test)
    frame = pd.DataFrame(logits, columns=[f"logit_{k}" for k in range(10)])
    frame.insert(0, "id", ids)
    frame.to_parquet(OUT / "digits_logits.parquet", index=False)
    frame = pd.DataFrame(probs, columns=[f"p_{k}" for k in range(10)])
    frame.insert(0, "id", ids)
    frame.to_csv(OUT / "digits_probs.csv", index=False, float_format="%.10g")
    pd.DataFrame({"id": ids, "label": y_test}).to_csv(OUT / "digits_labels.csv", index=False)
    # NumPy's own text form, as a notebook saves arrays: no header, space-separated
    np.savetxt(OUT / "digits_probs.txt", probs)
    np.savetxt(OUT / "digits_labels.txt", y_test, fmt="%d")
    # a second, weaker model on the same rows, for `xent compare`: half the pixels
    # (every other row of the 8x8 image)
    pixels = [8 * r + c for r in range(0, 8, 2) for c in range(8)]
    weak = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    weak.fit(x_train[:, pixels], y_train)
    frame = pd.DataFrame(
        weak.predict_proba(x_test[:, pixels]), columns=[f"p_{k}" for k in range(10)]
    )
    frame.insert(0, "id", ids)
    frame.to_csv(OUT / "digits_probs_weak.csv", index=False, float_format="%.10g")


def breast_cancer() -> None:
    """Binary: the probability of 'benign', the label as a name, and the tumour's size
    (its mean radius in thirds of the test set: small, medium, large), a column worth
    slicing by (``--by size``), in one CSV."""
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    model.fit(x_train, y_train)
    names = np.asarray(data.target_names)  # 0 = malignant, 1 = benign
    pd.DataFrame(
        {
            "p_benign": model.predict_proba(x_test)[:, 1],
            "label": names[y_test],
            "size": _thirds(x_test[:, list(data.feature_names).index("mean radius")]),
        }
    ).to_csv(OUT / "cancer.csv", index=False, float_format="%.10g")
    # a second, weaker model on the same rows, for `xent compare`: the first three features
    weak = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    weak.fit(x_train[:, :3], y_train)
    pd.DataFrame(
        {
            "p_benign": weak.predict_proba(x_test[:, :3])[:, 1],
            "label": names[y_test],
            "size": _thirds(x_test[:, list(data.feature_names).index("mean radius")]),
        }
    ).to_csv(OUT / "cancer_weak.csv", index=False, float_format="%.10g")


def _thirds(values: np.ndarray) -> np.ndarray:
    """Each value's third of the sample: 'small', 'medium' or 'large'."""
    edges = np.quantile(values, [1 / 3, 2 / 3])
    return np.array(["small", "medium", "large"])[np.searchsorted(edges, values, side="right")]


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    digits()
    breast_cancer()
