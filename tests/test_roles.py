"""Column roles and the join (SPEC "Inputs": prediction columns by default, PREDS' own
label column, pandas' index and the shared-index join; issue 10, classes 1 and 2).

Every file here is written by a real writer (pandas with and without its index,
fastparquet, pyarrow, polars), with the decoy columns first, and read in batches of 64
rows so that later batches are exercised. Each case must give scikit-learn's
``log_loss`` of the true problem, or exit 2 with one ``Error:`` line; never another
number.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, log_loss

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError
from xentcli.io.source import open_source
from xentcli.options import Options
from xentcli.run.align import plan
from xentcli.run.roles import ROLES

N, K = 300, 4
BATCH = 64
TOL = 1e-12
RNG = np.random.default_rng(2026)
P = RNG.dirichlet(np.ones(K), size=N)
Y = RNG.integers(0, K, size=N)
Y[:K] = np.arange(K)
COLS = [f"p_{i}" for i in range(K)]
REF = log_loss(Y, P, labels=list(range(K)))
REF_ACC = accuracy_score(Y, P.argmax(axis=1))
CLASSES = tuple(str(i) for i in range(K))  # the class names of p_0 .. p_3
SAMPLE_IDS = RNG.permutation(N) * 7 + 1000  # integer keys, not in row order


@pytest.fixture(autouse=True)
def _work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def preds_frame(**first: Any) -> pd.DataFrame:
    """The predictions, with ``first`` columns (the decoys) before them."""
    frame = pd.DataFrame(first)
    for i, name in enumerate(COLS):
        frame[name] = P[:, i]
    return frame


def labels_frame(**extra: Any) -> pd.DataFrame:
    return pd.DataFrame({**extra, "label": Y})


def score(preds: str, labels: str | None = None, **options: Any) -> xentcli.Summary:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xentcli.score(preds, labels, batch_rows=BATCH, **options)


def assert_true_loss(summary: Any, n: int = N, probs: np.ndarray = P) -> None:
    assert summary.n_samples == n
    ref = REF if probs is P else log_loss(Y, probs, labels=list(range(K)))
    assert summary.loss == pytest.approx(ref, rel=0, abs=TOL)
    assert summary.accuracy == pytest.approx(REF_ACC, rel=0, abs=TOL)


def written(path: str) -> np.ndarray:
    """The probabilities as the file holds them (text writers round some digits)."""
    if path.endswith(".csv"):
        frame = pd.read_csv(path)
    elif path.endswith(".jsonl"):
        frame = pd.read_json(path, lines=True, precise_float=True)
    else:
        return P
    return frame[COLS].to_numpy(np.float64)


def xent(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent", catch_exceptions=False)


def refused(*args: str) -> str:
    """The one ``Error:`` line of a refusal (exit 2)."""
    result = xent("score", *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def cli_report(*args: str) -> dict[str, Any]:
    result = xent("score", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# -- writers ---------------------------------------------------------------------------

Writer = Callable[[pd.DataFrame, str], str]


def pandas_csv(frame: pd.DataFrame, stem: str) -> str:
    frame.to_csv(f"{stem}.csv", index=False)
    return f"{stem}.csv"


def pandas_parquet(frame: pd.DataFrame, stem: str) -> str:
    frame.to_parquet(f"{stem}.parquet", index=False)
    return f"{stem}.parquet"


def pyarrow_feather(frame: pd.DataFrame, stem: str) -> str:
    feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), f"{stem}.arrow")
    return f"{stem}.arrow"


def polars_parquet(frame: pd.DataFrame, stem: str) -> str:
    pl.from_pandas(frame).write_parquet(f"{stem}.parquet")
    return f"{stem}.parquet"


def polars_csv(frame: pd.DataFrame, stem: str) -> str:
    pl.from_pandas(frame).write_csv(f"{stem}.csv")
    return f"{stem}.csv"


def pandas_jsonl(frame: pd.DataFrame, stem: str) -> str:
    frame.to_json(f"{stem}.jsonl", orient="records", lines=True)
    return f"{stem}.jsonl"


WRITERS = [pandas_csv, pandas_parquet, pyarrow_feather, polars_parquet, polars_csv, pandas_jsonl]


# -- class 1: an extra numeric column is never a class ---------------------------------

DECOYS: dict[str, dict[str, Any]] = {
    "sample_id": {"sample_id": SAMPLE_IDS},
    "id": {"id": SAMPLE_IDS},
    "fold": {"fold": np.arange(N) % 5},
    "epoch and step": {"epoch": np.full(N, 12), "step": np.arange(N) * 100},
    "seed and split": {"seed": np.full(N, 42), "split": np.arange(N) % 2},
    "upper case": {"Sample_ID": SAMPLE_IDS, "FOLD": np.arange(N) % 5, "Row": np.arange(N)},
    "idx uuid key": {"idx": np.arange(N), "uuid": SAMPLE_IDS, "key": SAMPLE_IDS + 1},
    "integer": {"n_tokens": RNG.integers(1, 500, size=N)},
    "unprefixed float": {"temperature": RNG.normal(20.0, 5.0, size=N)},
    "index-like float": {"index": SAMPLE_IDS.astype(np.float64)},
}
LEFT_OUT_REASON = {
    "sample_id": "a key by its name",
    "id": "a key by its name",
    "fold": "a counter by its name",
    "epoch": "a counter by its name",
    "step": "a counter by its name",
    "seed": "a counter by its name",
    "split": "a counter by its name",
    "Sample_ID": "a key by its name",
    "FOLD": "a counter by its name",
    "Row": "a key by its name",
    "idx": "a key by its name",
    "uuid": "a key by its name",
    "key": "a key by its name",
    "n_tokens": "integer, among float predictions",
    "temperature": "unprefixed: the predictions are the p_* columns",
    "index": "a key by its name",
}


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("decoys", DECOYS, ids=str)
def test_decoy_columns_are_left_out_with_a_reason(writer: Writer, decoys: str) -> None:
    first = DECOYS[decoys]
    preds = writer(preds_frame(**first), "preds")
    labels = pandas_csv(labels_frame(), "labels")
    summary = score(preds, labels)
    assert_true_loss(summary, probs=written(preds))
    assert summary.classes == CLASSES
    reason = summary.reasons["columns"]
    assert reason.startswith("numeric columns p_0, p_1, p_2, p_3; not ")
    for name in first:
        assert f"{name!r} ({LEFT_OUT_REASON[name]})" in reason


def test_decoys_with_labels_in_the_file_through_the_cli() -> None:
    frame = preds_frame(sample_id=SAMPLE_IDS, fold=np.arange(N) % 5)
    frame["label"] = Y
    frame.to_parquet("preds.parquet", index=False)
    data = cli_report("preds.parquet")
    assert data["loss"] == pytest.approx(REF, rel=0, abs=TOL)
    assert data["n_classes"] == K
    assert data["reasons"]["columns"] == (
        "numeric columns p_0, p_1, p_2, p_3; "
        "not 'sample_id' (a key by its name), 'fold' (a counter by its name)"
    )


def test_integer_predictions_are_kept_when_every_prediction_is_integer() -> None:
    """Integer logits (all prediction columns integer): the integer rule does not apply."""
    logits = RNG.integers(-4, 5, size=(N, K))
    frame = pd.DataFrame(logits, columns=["cat", "dog", "bird", "fish"])
    frame.insert(0, "fold", np.arange(N) % 3)
    for writer in (pandas_csv, pandas_parquet):
        summary = score(writer(frame, "preds"), pandas_csv(labels_frame(), "labels"))
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        assert summary.loss == pytest.approx(log_loss(Y, probs, labels=list(range(K))), abs=1e-12)
        assert summary.classes == ("cat", "dog", "bird", "fish")
        assert "'fold' (a counter by its name)" in summary.reasons["columns"]


def test_several_prediction_prefixes_are_refused() -> None:
    frame = preds_frame()
    for i in range(K):
        frame[f"logit_{i}"] = np.log(P[:, i]) + 3.0
    frame.to_parquet("preds.parquet", index=False)
    pandas_csv(labels_frame(), "labels")
    line = refused("preds.parquet", "labels.csv")
    assert "several prediction prefixes" in line and "--pred-cols" in line
    data = cli_report("preds.parquet", "labels.csv", "--pred-cols", "p_*")
    assert data["loss"] == pytest.approx(REF, rel=0, abs=TOL)
    assert "'logit_0' (not in --pred-cols)" in data["reasons"]["columns"]


def test_pred_cols_overrides_the_rule() -> None:
    """``--pred-cols`` may take a column the rule leaves out (here an integer one)."""
    frame = preds_frame()
    frame["p_3"] = (P[:, 3] * 0).astype(np.int64)  # 0 everywhere: an integer column
    rest = P[:, :3] / P[:, :3].sum(axis=1, keepdims=True)
    frame[["p_0", "p_1", "p_2"]] = rest
    frame.to_parquet("preds.parquet", index=False)
    pd.DataFrame({"label": Y % 3}).to_csv("labels.csv", index=False)
    summary = score("preds.parquet", "labels.csv")
    assert summary.loss == pytest.approx(
        log_loss(Y % 3, np.c_[rest, np.zeros(N)], labels=list(range(K))), abs=TOL
    )
    assert summary.classes == CLASSES  # p_3 is named like the others: a prediction
    chosen = score("preds.parquet", "labels.csv", pred_cols=("p_0", "p_1", "p_2"))
    assert chosen.loss == pytest.approx(log_loss(Y % 3, rest, labels=[0, 1, 2]), abs=TOL)
    assert chosen.reasons["columns"] == "--pred-cols p_0, p_1, p_2; not 'p_3' (not in --pred-cols)"


# -- pandas' index, written by every writer, is not a class ----------------------------


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.index = pd.Index(SAMPLE_IDS)  # not a RangeIndex: written as a column
    return frame


INDEX_WRITERS: dict[str, Callable[[pd.DataFrame], str]] = {
    "to_csv": lambda f: (f.to_csv("preds.csv"), "preds.csv")[1],
    "to_csv twice": lambda f: (
        f.to_csv("once.csv"),
        pd.read_csv("once.csv").to_csv("preds.csv"),
        "preds.csv",
    )[2],
    "to_csv named index": lambda f: (
        _indexed(f).rename_axis("sample_id").to_csv("preds.csv"),
        "preds.csv",
    )[1],
    "to_parquet index": lambda f: (_indexed(f).to_parquet("preds.parquet"), "preds.parquet")[1],
    "to_parquet named index": lambda f: (
        _indexed(f).rename_axis("sample_id").to_parquet("preds.parquet"),
        "preds.parquet",
    )[1],
    "to_parquet named index 'row_number'": lambda f: (
        _indexed(f).rename_axis("row_number").to_parquet("preds.parquet"),
        "preds.parquet",
    )[1],
    "fastparquet": lambda f: (
        _indexed(f).to_parquet("preds.parquet", engine="fastparquet"),
        "preds.parquet",
    )[1],
    "pyarrow feather with index": lambda f: (
        feather.write_feather(pa.Table.from_pandas(_indexed(f)), "preds.arrow"),
        "preds.arrow",
    )[1],
    "polars with_row_index": lambda f: (
        pl.from_pandas(f).with_row_index().write_parquet("preds.parquet"),
        "preds.parquet",
    )[1],
}


@pytest.mark.parametrize("writer", INDEX_WRITERS, ids=str)
def test_an_index_pandas_wrote_is_not_a_prediction(writer: str) -> None:
    frame = preds_frame()
    frame["label"] = Y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fastparquet's deprecation
        path = INDEX_WRITERS[writer](frame)
    summary = score(path)
    assert_true_loss(summary)
    assert summary.classes == CLASSES
    left_out = summary.reasons["columns"]
    assert "; not " in left_out and ("pandas index" in left_out or "a key by its name" in left_out)


def test_fastparquet_index_comes_from_the_pandas_metadata() -> None:
    """fastparquet names the index ``index``; the file's pandas metadata lists it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _indexed(preds_frame()).rename_axis("n").to_parquet("preds.parquet", engine="fastparquet")
    meta = json.loads(pq.read_schema("preds.parquet").metadata[b"pandas"])
    assert meta["index_columns"] == ["n"]  # a name that says nothing: only metadata tells
    pandas_csv(labels_frame(), "labels")
    summary = score("preds.parquet", "labels.csv")
    assert_true_loss(summary)
    assert "'n' (pandas index)" in summary.reasons["columns"]


# -- class 1: PREDS' own label column while LABELS is given ----------------------------


@pytest.mark.parametrize("writer", [pandas_csv, pandas_parquet, polars_parquet, pandas_jsonl])
@pytest.mark.parametrize("name", ["label", "target", "y", "Y_true"])
def test_preds_label_column_is_checked_not_scored(writer: Writer, name: str) -> None:
    frame = preds_frame()
    frame.insert(0, name, Y)  # a numeric label column first: it was one more "logit"
    preds = writer(frame, "preds")
    labels = pandas_parquet(labels_frame(), "labels")
    summary = score(preds, labels)
    assert_true_loss(summary, probs=written(preds))
    assert f"'{name}' (checked against LABELS row by row)" in summary.reasons["columns"]


def test_preds_label_column_named_by_label_col() -> None:
    frame = preds_frame(truth=Y)
    pandas_csv(frame, "preds")
    pd.DataFrame({"truth": Y}).to_parquet("labels.parquet")
    summary = score("preds.csv", "labels.parquet", label_col="truth")
    assert_true_loss(summary)
    assert "'truth' (checked against LABELS row by row)" in summary.reasons["columns"]


@pytest.mark.parametrize("writer", [pandas_csv, pandas_parquet])
def test_preds_label_that_disagrees_in_a_later_batch_is_refused(writer: Writer) -> None:
    wrong = Y.copy()
    wrong[250] = (Y[250] + 1) % K  # far past the first batch of 64
    frame = preds_frame()
    frame["label"] = wrong
    preds = writer(frame, "preds")
    pandas_csv(labels_frame(), "labels")
    with pytest.raises(XentError) as caught:
        score(preds, "labels.csv")
    text = str(caught.value)
    assert f"{preds} row 250" in text and "column 'label'" in text
    assert f"{str(wrong[250])!r}" in text and f"{str(Y[250])!r}" in text
    line = refused(preds, "labels.csv")
    assert "row 250" in line


def test_preds_label_names_and_labels_agree_as_text() -> None:
    """``1``, ``1.0`` and ``"1"`` are the same label."""
    frame = preds_frame()
    frame["label"] = Y.astype(np.float64)
    frame.to_parquet("preds.parquet", index=False)
    pd.DataFrame({"label": [str(y) for y in Y]}).to_csv("labels.csv", index=False)
    assert_true_loss(score("preds.parquet", "labels.csv"))


@pytest.mark.parametrize(
    ("extra", "options"),
    [
        ({"label": Y}, ["--pred-cols", "p_0,p_1,p_2,p_3,label"]),
        ({"sample_id": SAMPLE_IDS}, ["--pred-cols", "p_*,sample_id", "--id-col", "sample_id"]),
        ({"w": np.ones(N)}, ["--pred-cols", "p_*,w", "--weight-col", "w"]),
    ],
    ids=["label", "id", "weight"],
)
def test_pred_cols_naming_another_role_is_a_usage_error(
    extra: dict[str, Any], options: list[str]
) -> None:
    frame = preds_frame(**extra)
    frame["label"] = Y
    pandas_csv(frame, "preds")
    line = refused("preds.csv", *options)
    assert "--pred-cols names" in line and "a column plays one part" in line


def test_pred_cols_naming_preds_label_beside_labels_is_a_usage_error() -> None:
    frame = preds_frame(target=Y)
    pandas_parquet(frame, "preds")
    pandas_csv(labels_frame(), "labels")
    line = refused("preds.parquet", "labels.csv", "--pred-cols", "p_*,target")
    assert "'target'" in line and "label column" in line


# -- class 2: rows joined on the index pandas wrote in both files ----------------------


def _shuffled_labels() -> pd.DataFrame:
    return labels_frame().sample(frac=1.0, random_state=5)


PAIRS: dict[str, Callable[[], tuple[str, str]]] = {
    "csv and csv": lambda: (
        (
            preds_frame().to_csv("preds.csv"),
            _shuffled_labels().to_csv("labels.csv"),
        )
        and ("preds.csv", "labels.csv")
    ),
    "parquet RangeIndex and parquet": lambda: (
        (
            preds_frame().to_parquet("preds.parquet"),
            _shuffled_labels().to_parquet("labels.parquet"),
        )
        and ("preds.parquet", "labels.parquet")
    ),
    "parquet RangeIndex and csv": lambda: (
        (
            preds_frame().to_parquet("preds.parquet"),
            _shuffled_labels().to_csv("labels.csv"),
        )
        and ("preds.parquet", "labels.csv")
    ),
    "csv and parquet": lambda: (
        (
            preds_frame().to_csv("preds.csv"),
            _shuffled_labels().to_parquet("labels.parquet"),
        )
        and ("preds.csv", "labels.parquet")
    ),
    "named index parquet": lambda: (
        (
            _indexed(preds_frame()).rename_axis("sample_id").to_parquet("preds.parquet"),
            _indexed(labels_frame())
            .rename_axis("sample_id")
            .sample(frac=1.0, random_state=3)
            .to_parquet("labels.parquet"),
        )
        and ("preds.parquet", "labels.parquet")
    ),
    "fastparquet both": lambda: (
        (
            _indexed(preds_frame()).to_parquet("preds.parquet", engine="fastparquet"),
            _indexed(labels_frame())
            .sample(frac=1.0, random_state=3)
            .to_parquet("labels.parquet", engine="fastparquet"),
        )
        and ("preds.parquet", "labels.parquet")
    ),
    "fastparquet and to_csv": lambda: (
        (
            _indexed(preds_frame()).to_parquet("preds.parquet", engine="fastparquet"),
            _indexed(labels_frame()).sample(frac=1.0, random_state=3).to_csv("labels.csv"),
        )
        and ("preds.parquet", "labels.csv")
    ),
    "feather index and csv": lambda: (
        (
            feather.write_feather(pa.Table.from_pandas(_indexed(preds_frame())), "preds.arrow"),
            _indexed(labels_frame()).sample(frac=1.0, random_state=3).to_csv("labels.csv"),
        )
        and ("preds.arrow", "labels.csv")
    ),
}


@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_shuffled_labels_join_on_the_shared_pandas_index(pair: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        preds, labels = PAIRS[pair]()
    summary = score(preds, labels)
    assert_true_loss(summary)
    assert summary.reasons["join"].startswith("rows joined on ")
    assert "as pandas aligns them" in summary.reasons["join"]
    assert summary.unmatched_labels == 0


def test_join_through_the_cli_says_why() -> None:
    PAIRS["csv and parquet"]()
    data = cli_report("preds.csv", "labels.parquet")
    assert data["loss"] == pytest.approx(REF, rel=0, abs=TOL)
    assert data["accuracy"] == pytest.approx(REF_ACC, rel=0, abs=TOL)
    assert data["reasons"]["join"] == (
        "rows joined on pandas' unnamed index, which both files carry ('' in preds.csv, "
        "'__index_level_0__' in labels.parquet), as pandas aligns them (keys compared as text)"
    )


def test_same_range_index_pairs_by_position() -> None:
    preds_frame().to_parquet("preds.parquet")
    labels_frame().to_parquet("labels.parquet")
    summary = score("preds.parquet", "labels.parquet")
    assert_true_loss(summary)
    assert summary.reasons["join"] == (
        "rows paired by position: both files carry pandas' unnamed index as the same RangeIndex"
    )


def test_an_index_in_one_file_only_pairs_by_position_and_says_so() -> None:
    preds_frame().to_csv("preds.csv")
    labels_frame().to_csv("labels.csv", index=False)
    summary = score("preds.csv", "labels.csv")
    assert_true_loss(summary, probs=written("preds.csv"))
    assert summary.reasons["join"] == (
        "rows paired by position (only preds.csv carries a pandas index)"
    )


def test_join_on_index_with_missing_keys_counts_them() -> None:
    preds_frame().to_csv("preds.csv")
    _shuffled_labels().iloc[:-5].to_csv("labels.csv")
    line = refused("preds.csv", "labels.csv")
    assert "5 ids of preds.csv are not in labels.csv" in line and "index=False" in line


def test_join_on_index_with_duplicate_keys_is_refused() -> None:
    preds_frame().to_csv("preds.csv")
    labels = _shuffled_labels()
    labels.index = [*labels.index[:-2], labels.index[0], labels.index[1]]
    labels.to_csv("labels.csv")
    line = refused("preds.csv", "labels.csv")
    assert "2 ids appear more than once" in line


def test_labels_with_more_keys_than_preds_are_counted() -> None:
    preds_frame().iloc[:-20].to_csv("preds.csv")
    _shuffled_labels().to_csv("labels.csv")
    summary = score("preds.csv", "labels.csv")
    assert summary.n_samples == N - 20
    assert summary.loss == pytest.approx(
        log_loss(Y[:-20], P[:-20], labels=list(range(K))), rel=0, abs=TOL
    )
    assert summary.unmatched_labels == 20


@pytest.mark.parametrize("id_col", ["", "Unnamed: 0"])
@pytest.mark.parametrize("labels_kind", ["csv", "csv twice", "parquet"])
def test_id_col_names_the_unnamed_index(id_col: str, labels_kind: str) -> None:
    """``--id-col ''`` and ``--id-col 'Unnamed: 0'`` name pandas' unnamed index, however
    each file spells it ("" from to_csv, 'Unnamed: 0' read back, __index_level_0__)."""
    preds_frame().to_csv("preds.csv")
    labels = _shuffled_labels()
    if labels_kind == "csv":
        labels.to_csv("labels.csv")
    elif labels_kind == "csv twice":
        labels.to_csv("once.csv")
        pd.read_csv("once.csv").to_csv("labels.csv", index=False)
        assert Path("labels.csv").read_text().startswith("Unnamed: 0,label")
    else:
        labels.to_parquet("labels.parquet")
    name = "labels.parquet" if labels_kind == "parquet" else "labels.csv"
    data = cli_report("preds.csv", name, "--id-col", id_col)
    assert data["loss"] == pytest.approx(REF, rel=0, abs=TOL)
    assert data["reasons"]["join"] == f"rows joined on --id-col {id_col!r} (keys compared as text)"


def test_the_csv_reader_names_the_empty_header_cell_empty() -> None:
    preds_frame().to_csv("preds.csv")
    assert open_source("preds.csv", "preds").columns[0] == ""


def test_a_key_both_files_carry_must_agree_when_rows_pair_by_position() -> None:
    """Both CSVs carry ``sample_id`` (not a pandas index: CSV cannot say): position
    pairing is checked on it, and a shuffled file is refused naming --id-col."""
    preds_frame(sample_id=SAMPLE_IDS).to_csv("preds.csv", index=False)
    labels_frame(sample_id=SAMPLE_IDS).to_csv("labels.csv", index=False)
    summary = score("preds.csv", "labels.csv")
    assert_true_loss(summary)
    assert summary.reasons["join"] == (
        "rows paired by position, checked to agree on the column 'sample_id' that both files carry"
    )
    shuffled = labels_frame(sample_id=SAMPLE_IDS)
    order = np.arange(N)
    order[[200, 201]] = [201, 200]  # two rows swapped, in the fourth batch
    shuffled.iloc[order].to_parquet("labels.parquet", index=False)
    with pytest.raises(XentError) as caught:
        score("preds.csv", "labels.parquet")
    assert "preds.csv row 200" in str(caught.value) and "--id-col 'sample_id'" in str(caught.value)
    line = refused("preds.csv", "labels.parquet")
    assert "key 'sample_id' differs" in line
    joined = score("preds.csv", "labels.parquet", id_col="sample_id")
    assert_true_loss(joined)


# -- the roles object -------------------------------------------------------------------


def test_every_column_has_one_role_and_the_layout_is_plain_data() -> None:
    frame = preds_frame(sample_id=SAMPLE_IDS, fold=np.arange(N) % 5, note=["x"] * N)
    frame["label"] = Y
    frame["temperature"] = 1.0
    frame.to_csv("preds.csv")
    labels_frame(sample_id=SAMPLE_IDS).to_parquet("labels.parquet", index=False)
    layout = plan(
        open_source("preds.csv", "preds"), open_source("labels.parquet", "labels"), Options()
    )
    roles = layout.roles
    assert [r.column for r in roles.preds] == open_source("preds.csv", "preds").columns
    assert {r.column: r.role for r in roles.preds} == {
        "": "index",
        "sample_id": "key",
        "fold": "key",
        "note": "text",
        **dict.fromkeys(COLS, "prediction"),
        "label": "label",
        "temperature": "unprefixed",
    }
    assert {r.column: r.role for r in roles.labels} == {"sample_id": "unused", "label": "label"}
    assert all(r.role in ROLES and r.reason for r in roles.preds + roles.labels)
    assert layout.pred_cols == tuple(COLS)
    data = json.loads(json.dumps(layout.to_dict()))
    assert data["roles"]["preds"][0] == {"column": "", "role": "index", "reason": "pandas index"}
    assert data["label_check"] == "label" and data["shared_keys"] == ["sample_id"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.roles = roles  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        roles.preds[0].role = "prediction"  # type: ignore[misc]


# -- generated tables: the true loss, or a refusal; never another number ----------------

DECOY_KINDS = ("sample_id", "fold", "epoch", "n_tokens", "own label", "csv index", "seed")


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(2, 5),
    n=st.integers(1, 150),
    decoys=st.sets(st.sampled_from(DECOY_KINDS)),
    fmt=st.sampled_from(["csv", "parquet"]),
    index=st.sampled_from(["none", "both", "labels shuffled"]),
    batch_rows=st.sampled_from([1, 7, 64]),
    seed=st.integers(0, 2**16),
)
def test_generated_decoys_give_the_true_loss_or_stop(
    tmp_path_factory: pytest.TempPathFactory,
    k: int,
    n: int,
    decoys: set[str],
    fmt: str,
    index: str,
    batch_rows: int,
    seed: int,
) -> None:
    folder = tmp_path_factory.mktemp("generated")
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k), size=n)
    y = rng.integers(0, k, size=n)
    preds = pd.DataFrame({f"p_{i}": probs[:, i] for i in range(k)})
    extra = {
        "sample_id": rng.permutation(n) + 10,
        "fold": np.arange(n) % 5,
        "epoch": np.full(n, 3),
        "n_tokens": rng.integers(0, 1000, size=n),
        "seed": np.full(n, seed),
    }
    for position, name in enumerate(sorted(decoys - {"own label", "csv index"})):
        preds.insert(position, name, extra[name])
    if "own label" in decoys:
        preds.insert(0, "label", y)
    labels = pd.DataFrame({"label": y})
    if index != "none":
        keys = pd.Index(rng.permutation(n) * 3 + 1)
        preds.index, labels.index = keys, keys
    if index == "labels shuffled":
        labels = labels.sample(frac=1.0, random_state=seed)
    write_index = index != "none"
    preds_path, labels_path = folder / f"preds.{fmt}", folder / f"labels.{fmt}"
    if fmt == "csv":
        preds.to_csv(preds_path, index=write_index or "csv index" in decoys)
        labels.to_csv(labels_path, index=write_index)
        held = pd.read_csv(preds_path)[[f"p_{i}" for i in range(k)]].to_numpy(np.float64)
    else:
        preds.to_parquet(preds_path, index=write_index or None)
        labels.to_parquet(labels_path, index=write_index or None)
        held = probs
    try:
        summary = xentcli.score(str(preds_path), str(labels_path), batch_rows=batch_rows)
    except XentError as error:
        assert "\n" not in str(error)
        event(f"refused: {str(error)[:60]}")
        return
    event("scored")
    assert summary.n_samples == n
    expected = log_loss(y, held, labels=list(range(k))) if n else None
    assert summary.loss == pytest.approx(expected, rel=0, abs=1e-12)


# -- whole-number floats in text ---------------------------------------------------------


def test_float_logits_written_as_whole_numbers_in_text_are_not_dropped(tmp_path: Path) -> None:
    """pyarrow's CSV writer drops the ``.0`` of a whole float, so a logit column whose
    first values are whole numbers reads as integers: in text that is no evidence of a
    counter, and xent refuses rather than score the other columns alone (found by the
    fuzz test). In Parquet the type is stored, and the same table gives the true loss."""
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, size=(200, 3))
    logits[:, 0] = np.round(logits[:, 0])  # whole numbers, still float64
    y = rng.integers(0, 3, 200)
    table = pa.table({"cat": logits[:, 0], "dog": logits[:, 1], "bird": logits[:, 2], "y": y})
    pacsv.write_csv(table, tmp_path / "p.csv")
    pq.write_table(table, tmp_path / "p.parquet")
    assert (tmp_path / "p.csv").read_text().splitlines()[1].split(",")[0].lstrip("-").isdigit()
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "p.csv")], prog_name="xent")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--pred-cols" in lines[0]
    assert "'cat'" in lines[0]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    truth = log_loss(y, probs, labels=[0, 1, 2])
    for path, extra in (
        (tmp_path / "p.parquet", []),
        (tmp_path / "p.csv", ["--pred-cols", "cat,dog,bird"]),
    ):
        result = CliRunner().invoke(cli, ["score", str(path), "--json", *extra], prog_name="xent")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["loss"] == pytest.approx(truth, rel=TOL)
