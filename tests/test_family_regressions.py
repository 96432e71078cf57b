"""Regressions of the cross-entropy family, each named after what it fixed, each
against a reference: the peer library, or the same rows scored another way."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from sklearn.metrics import log_loss

import xentcli
from xentcli.cli import cli

RTOL = 1e-12


def xent(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _label_table(block: np.ndarray, names: list[str]) -> pa.Table:
    return pa.table({n: block[:, j] for j, n in enumerate(names)})


def test_task_is_decided_on_rows_that_stay(work: Path) -> None:
    """--drop-invalid: label rows with a cell out of [0, 1] decided the task before they
    were dropped (a multilabel file was scored as soft multiclass)."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 3))
    y = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 1], [0, 0, 1], [0, 1, 0]], float)
    bad = y.copy()
    bad[0, 0] = 2.0  # an invalid cell in the first row
    names = ["a", "b", "c"]
    pq.write_table(_label_table(z, [f"logit_{n}" for n in names]), "p.parquet")
    pq.write_table(_label_table(bad, names), "y.parquet")
    code, out, err = xent("score", "p.parquet", "y.parquet", "--drop-invalid", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["task"], report["dropped"]) == ("multilabel", 1)
    expected = xentcli.cross_entropy(z[1:], y[1:], task="multilabel")
    assert math.isclose(report["loss"], expected.loss, rel_tol=RTOL)


def test_soft_targets_after_one_hot_rows(work: Path) -> None:
    """A soft-label file whose first batch is one-hot: --task multiclass reads every row
    as a target distribution (auto refuses, and says to pass it)."""
    rng = np.random.default_rng(2)
    n = 70_000  # more than the first batch
    z = rng.normal(size=(n, 3))
    t = np.eye(3)[rng.integers(0, 3, n)]
    t[-10:] = rng.dirichlet(np.ones(3), 10)
    pq.write_table(_label_table(z, ["logit_a", "logit_b", "logit_c"]), "p.parquet")
    pq.write_table(_label_table(t, ["a", "b", "c"]), "t.parquet")
    code, _out, err = xent("score", "p.parquet", "t.parquet")
    assert code == 2
    assert "pass --task multiclass to read the label columns as soft targets" in err
    code, out, err = xent("score", "p.parquet", "t.parquet", "--task", "multiclass", "--json")
    assert code == 0, err
    report = json.loads(out)
    torch_mean = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(t)).item()
    assert report["target"] == "soft"
    assert math.isclose(report["loss"], torch_mean, rel_tol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_bce_takes_log1p_of_small_probabilities(dtype: type) -> None:
    """PyTorch's BCELoss is log1p(-p): -log(1 - p) in float32 was 0.7% off at p = 3e-6."""
    p = np.array([3e-6, 1e-10, 0.3, 1 - 1e-6], dtype=dtype)
    y = np.array([0, 0, 1, 0])
    peer = torch.nn.functional.binary_cross_entropy(
        torch.from_numpy(p), torch.from_numpy(y).to(torch.from_numpy(p).dtype), reduction="sum"
    ).item()
    mine = xentcli.cross_entropy(p, y, compat="torch", input="probs", reduction="sum")
    rtol = 1e-12 if dtype == np.float64 else 4 * 2.0**-24
    assert math.isclose(mine.sum_loss, peer, rel_tol=rtol)


def test_sklearn_keeps_float16() -> None:
    """scikit-learn computes float16 input in float16 (eps = 2**-10)."""
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(3), 40).astype(np.float16)
    p[0] = [0.0, 1.0, 0.0]
    y = rng.integers(0, 3, 40)
    y[0] = 0
    table = pa.table({str(j): pa.array(p[:, j]) for j in range(3)})
    mine = xentcli.cross_entropy(table, y, compat="sklearn", input="probs")
    peer = log_loss(y, p, labels=[0, 1, 2])
    assert math.isclose(mine.loss, peer, rel_tol=2.0**-9)
    assert mine.eps == float(np.finfo(np.float16).eps)


def test_per_class_means_are_class_means_under_torch_class_weights() -> None:
    """The per-class mean loss is the class's own mean, whatever the headline divides by
    (it was scaled by the class weight under --compat torch)."""
    rng = np.random.default_rng(4)
    z = rng.normal(size=200) * 3
    y = rng.integers(0, 2, 200)
    s = xentcli.cross_entropy(z, y, compat="torch", class_weights={"0": 0.5, "1": 2.0})
    plain = xentcli.cross_entropy(z, y)
    for weighted, unweighted in zip(s.per_class, plain.per_class, strict=True):
        assert math.isclose(weighted.mean_loss, unweighted.mean_loss, rel_tol=1e-6)
    w = torch.where(torch.tensor(y) == 1, 2.0, 0.5).double()
    peer = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y).double(), weight=w
    ).item()
    assert math.isclose(s.loss, peer, rel_tol=1e-12)


def test_zero_sample_weights_are_refused_under_keras() -> None:
    with pytest.raises(xentcli.XentError, match="sum to 0"):
        xentcli.cross_entropy([[1.0, 2.0], [0.0, 1.0]], [0, 1], weights=[0, 0], compat="keras")


def test_a_typo_in_a_class_weights_file_is_not_a_header(work: Path) -> None:
    Path("p.csv").write_text("logit_cat,logit_dog,label\n1,2,cat\n2,1,dog\n")
    Path("w.csv").write_text("cat,2x\ndog,3\n")
    code, _out, err = xent("score", "p.csv", "--class-weights", "w.csv")
    assert code == 2
    assert err.strip() == "Error: w.csv: line 1: weight '2x' of 'cat' is not a number"
    Path("h.csv").write_text("class,weight\n\ncat,2\ndog,3\n")
    code, out, err = xent("score", "p.csv", "--class-weights", "h.csv", "--json")
    assert code == 0, err
    assert "class(cat=2;dog=3)" in json.loads(out)["signature"]


def test_a_list_column_is_chosen_by_its_name(work: Path) -> None:
    p = np.random.default_rng(5).dirichlet(np.ones(4), 20)
    pq.write_table(pa.table({"probs": pa.array(p.tolist()), "label": np.arange(20) % 4}), "l.pq")
    code, out, err = xent("score", "l.pq", "--pred-cols", "probs", "--json")
    assert code == 0, err
    expected = xentcli.cross_entropy(p, np.arange(20) % 4)
    assert json.loads(out)["loss"] == expected.loss


def test_one_column_cannot_be_weight_and_id(work: Path) -> None:
    Path("p.csv").write_text("id,p,label\n1,0.2,1\n2,0.7,0\n")
    code, _out, err = xent("score", "p.csv", "--weight-col", "id", "--id-col", "id")
    assert code == 2
    assert err.strip() == "Error: --weight-col 'id' is also the id or label column"


def test_multilabel_per_sample_names_each_rows_labels() -> None:
    """The per-sample label text is made once per distinct row of flags (it was a Python
    loop over rows, 6x slower): the same text as joining each row's names."""
    from xentcli.run.work import joined as _joined

    flags = np.random.default_rng(6).random((500, 11)) < 0.4
    flags[0] = False  # a row with no label at all
    names = tuple(f"c{j}" for j in range(11))
    expected = ["|".join(n for n, f in zip(names, row, strict=True) if f) for row in flags]
    assert _joined(flags, names).to_pylist() == expected


def test_inspect_decides_where_score_does_when_the_first_batch_is_dropped(work: Path) -> None:
    """inspect ran its own copy of the first-batch steps and gave up on a first batch
    that --drop-invalid emptied; score went on to the next. Both now run the same steps."""
    n = 70_000  # the whole first batch
    z = np.full((n + 5, 2), np.nan)
    z[n:] = np.random.default_rng(7).normal(size=(5, 2)) * 4
    labels = np.zeros(n + 5, dtype=np.int64)
    pq.write_table(pa.table({"a": z[:, 0], "b": z[:, 1], "label": labels}), "p.parquet")
    code, out, err = xent("score", "p.parquet", "--drop-invalid", "--json")
    assert code == 0, err
    scored = json.loads(out)
    code, out, err = xent("inspect", "p.parquet", "--drop-invalid", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found["problem"] is None
    assert (
        (found["task"], found["input"])
        == (scored["task"], scored["input"])
        == (
            "multiclass",
            "logits",
        )
    )
    assert found["reasons"]["input"] == scored["reasons"]["input"]
    assert scored["dropped"] == n
