"""``--by COL``: the named columns travel with every batch as ``Batch.keys`` (SPEC
"Evaluation figures", slices).

The keys are read off the batches the run itself sees (``Aligner`` through the first
rows' join and ``_Run.prepare``'s filtering) and held to what pandas makes of the same
files: ``read_csv``/``read_parquet``, ``merge`` on the id for joins, boolean filtering
for dropped and ignored rows. Files are written by pandas, polars and pyarrow.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss

import xentcli
from xentcli.errors import XentError
from xentcli.io.source import open_source
from xentcli.options import Options
from xentcli.run.align import Aligner, Layout, plan
from xentcli.run.firstrows import first_rows_together
from xentcli.run.inspect import inspect_file
from xentcli.run.pipeline import _Run
from xentcli.run.work import Work as _Work

N = 12_000  # more than the first rows (10,000): batches stream after them
BATCH = 37  # smaller than the first rows: the first batches are joined, then stream


def kept(preds: Any, labels: Any = None, **options: Any) -> tuple[np.ndarray, dict[str, list]]:
    """The PREDS rows a run scores, with their ``--by`` keys, batch by batch as ``score``
    sees them: aligned, the first rows joined, ignored and invalid rows filtered."""
    opts = Options(batch_rows=BATCH, **options)
    preds_source = open_source(preds, "preds")
    labels_source = open_source(labels, "labels") if labels is not None else None
    layout = plan(preds_source, labels_source, opts)
    run = _Run(preds_source, labels_source, layout, opts)
    aligner = Aligner(preds_source, labels_source, layout, run.batch_rows(), opts.classes)
    rows: list[np.ndarray] = []
    keys: dict[str, list] = {name: [] for name in opts.by}
    n_batches = 0
    for batch in first_rows_together(aligner):
        n_batches += 1
        assert list(batch.keys) == list(opts.by)
        assert all(len(values) == len(batch) for values in batch.keys.values())
        prepared = run.prepare(_Work.of(batch))
        if prepared is None:
            continue
        work, _ = prepared
        assert list(work.keys) == list(opts.by)
        rows.append(work.rows)
        for name in opts.by:
            assert len(work.keys[name]) == len(work)
            keys[name].extend(work.keys[name].to_pylist())
    assert n_batches > 1  # the keys crossed batch boundaries
    return np.concatenate(rows), keys


def plain(values: Any) -> list:
    """Values as Python objects, every kind of missing (NaN, NaT, pd.NA) as None."""
    out = []
    for value in pd.Series(values).astype(object):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out.append(None)
        elif isinstance(value, pd.Timestamp):
            out.append(value.date() if value == value.normalize() else value.to_pydatetime())
        elif isinstance(value, np.generic):
            out.append(value.item())
        else:
            out.append(value)
    return out


def frame(seed: int = 0, n: int = N) -> pd.DataFrame:
    """Binary predictions with an id, a label and slice columns of every kind, nulls in each."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    gaps = rng.random(n) < 0.1
    region = pd.Series(rng.choice(["north", "south", "east", "Zürich"], n), dtype=object)
    region[gaps] = None
    site = pd.array(rng.integers(0, 5, n), dtype="Int64")
    site[rng.random(n) < 0.1] = pd.NA
    score = rng.choice([0.5, 1.5, 2.5], n).astype(float)
    score[rng.random(n) < 0.1] = np.nan
    flag = pd.array(rng.random(n) < 0.5, dtype="boolean")
    flag[rng.random(n) < 0.1] = pd.NA
    day = pd.Series(
        pd.to_datetime("2024-03-01") + pd.to_timedelta(rng.integers(0, 4, n), "D")
    ).dt.date
    day[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "id": [f"r{i:04d}" for i in range(n)],
            "p": p,
            "label": (rng.random(n) < p).astype(int),
            "region": region,
            "site": site,
            "score_band": score,
            "flag": flag,
            "day": day,
        }
    )


SLICES = ("region", "site", "score_band", "flag", "day")


# -- the keys, from PREDS ---------------------------------------------------------------


def test_keys_from_a_pandas_csv_are_what_pandas_reads_back(tmp_path: Path) -> None:
    df = frame()
    path = str(tmp_path / "preds.csv")
    df.to_csv(path, index=False)
    back = pd.read_csv(path, keep_default_na=True)
    rows, keys = kept(path, by=SLICES)
    assert rows.tolist() == list(range(N))
    for name in ("region", "site", "score_band", "flag"):
        assert keys[name] == plain(back[name]), name
    # dates: pandas reads them as text, xent as dates; the same days, nulls in place
    assert [str(v) if v is not None else None for v in keys["day"]] == plain(back["day"])
    assert all(isinstance(v, datetime.date) for v in keys["day"] if v is not None)


def test_keys_from_a_parquet_category_column_are_its_values(tmp_path: Path) -> None:
    """A pandas ``category`` written to Parquet is an Arrow dictionary column: the keys are
    its values (decoded), nulls included, whatever the dictionary's order."""
    df = frame(1)
    df["region"] = df["region"].astype(
        pd.CategoricalDtype(["south", "Zürich", "north", "east", "never"])
    )
    path = str(tmp_path / "preds.parquet")
    df.to_parquet(path, index=False)
    assert pa.types.is_dictionary(pq.read_schema(path).field("region").type)
    back = pd.read_parquet(path)
    rows, keys = kept(path, by=SLICES)
    assert rows.tolist() == list(range(N))
    for name in SLICES:
        assert keys[name] == plain(back[name]), name


def test_keys_from_a_pandas_frame_in_memory_follow_the_rows() -> None:
    df = frame(2)
    df["region"] = df["region"].astype("category")
    _, keys = kept(df, by=("region", "score_band"))
    assert keys["region"] == plain(df["region"])
    assert keys["score_band"] == plain(df["score_band"])


def test_keys_from_a_pyarrow_table_with_every_arrow_type(tmp_path: Path) -> None:
    """Dictionary (int8 and int32 indices), large_string, int8, float32, bool, date32
    and timestamp columns as pyarrow writes them to Parquet and Feather."""
    df = frame(3)
    table = pa.table(
        {
            "p": pa.array(df["p"]),
            "label": pa.array(df["label"]),
            "cat": pa.array(plain(df["region"])).dictionary_encode(),
            "wide": pa.array(plain(df["region"]), pa.large_string()),
            "small": pa.array(plain(df["site"]), pa.int8()),
            "f32": pa.array(plain(df["score_band"]), pa.float32()),
            "flag": pa.array(plain(df["flag"]), pa.bool_()),
            "day": pa.array(plain(df["day"]), pa.date32()),
            "at": pa.array(
                [datetime.datetime(2024, 1, 1, i % 3) for i in range(N)], pa.timestamp("us")
            ),
        }
    )
    names = ("cat", "wide", "small", "f32", "flag", "day", "at")
    for path in (tmp_path / "t.parquet", tmp_path / "t.arrow"):
        if path.suffix == ".parquet":
            pq.write_table(table, path, row_group_size=50)
        else:
            import pyarrow.feather as feather

            feather.write_feather(table, path)
        _, keys = kept(str(path), by=names)
        for name in names:
            assert keys[name] == table.column(name).to_pylist(), (path.suffix, name)


# -- the keys, from LABELS, along the pairing --------------------------------------------


def test_keys_from_labels_shuffled_follow_the_id_join(tmp_path: Path) -> None:
    """LABELS written by polars in another order: each PREDS row gets the keys of its
    id's LABELS row, as ``pandas.merge`` pairs them."""
    df = frame(4)
    preds = df[["id", "p"]]
    labels = df[["id", "label", *SLICES]].sample(frac=1, random_state=7)
    preds_path, labels_path = str(tmp_path / "preds.csv"), str(tmp_path / "labels.parquet")
    preds.to_csv(preds_path, index=False)
    pl.from_pandas(labels).write_parquet(labels_path, row_group_size=64)
    merged = pd.read_csv(preds_path).merge(pd.read_parquet(labels_path), on="id", how="left")
    rows, keys = kept(preds_path, labels_path, id_col="id", by=SLICES)
    assert rows.tolist() == list(range(N))
    for name in SLICES:
        assert keys[name] == plain(merged[name]), name


def test_keys_from_labels_csv_shuffled_and_joined(tmp_path: Path) -> None:
    df = frame(5)
    preds = df[["id", "p"]].sample(frac=1, random_state=3)
    labels = df[["id", "label", "region", "site"]].sample(frac=1, random_state=11)
    preds.to_csv(tmp_path / "preds.csv", index=False)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    merged = pd.read_csv(tmp_path / "preds.csv").merge(
        pd.read_csv(tmp_path / "labels.csv"), on="id", how="left"
    )
    _, keys = kept(
        str(tmp_path / "preds.csv"),
        str(tmp_path / "labels.csv"),
        id_col="id",
        by=("site", "region"),
    )
    assert keys["site"] == plain(merged["site"])
    assert keys["region"] == plain(merged["region"])


def test_keys_from_labels_paired_by_position(tmp_path: Path) -> None:
    """No key: the rows pair by position, and so do the keys (LABELS read in other
    batches than PREDS: row groups of 50 against batches of 37)."""
    df = frame(6)
    pq.write_table(pa.Table.from_pandas(df[["p"]], preserve_index=False), tmp_path / "p.parquet")
    pq.write_table(
        pa.Table.from_pandas(df[["label", "region", "day"]], preserve_index=False),
        tmp_path / "l.parquet",
        row_group_size=50,
    )
    _, keys = kept(str(tmp_path / "p.parquet"), str(tmp_path / "l.parquet"), by=("day", "region"))
    assert keys["region"] == plain(df["region"])
    assert keys["day"] == plain(df["day"])


def test_a_column_in_both_files_is_read_from_preds(tmp_path: Path) -> None:
    """SPEC: a column of PREDS, else of LABELS. Joined on the id, the two files' columns
    need not agree; the keys are PREDS' own."""
    df = frame(7)
    preds = df[["id", "p", "region"]]
    labels = df[["id", "label"]].assign(region="elsewhere").sample(frac=1, random_state=2)
    labels = labels.reset_index(drop=True)
    rows, keys = kept(preds, labels, id_col="id", by=("region",))
    assert keys["region"] == plain(df["region"])
    layout = plan(
        open_source(preds, "preds"),
        open_source(labels, "labels"),
        Options(by=("region",), id_col="id"),
    )
    assert layout.by_in_preds == (True,)


def test_dropped_and_ignored_rows_leave_with_their_keys(tmp_path: Path) -> None:
    """``--ignore-label`` and ``--drop-invalid`` take rows out; their keys go with them,
    and the keys left are those of pandas' rows that remain."""
    df = frame(8)
    df["label"] = df["label"].astype(object)
    df.loc[df.index % 11 == 3, "label"] = -100  # ignored
    df.loc[df.index % 13 == 5, "p"] = np.nan  # invalid: dropped
    df.loc[df.index % 17 == 2, "p"] = 1.7  # out of [0, 1]: dropped
    path = str(tmp_path / "preds.csv")
    df.to_csv(path, index=False)
    back = pd.read_csv(path)
    rows, keys = kept(path, by=SLICES, ignore_label="-100", drop_invalid=True, input="probs")
    remain = (back["label"] != -100) & back["p"].between(0, 1)
    assert rows.tolist() == back.index[remain].tolist()
    assert keys["region"] == plain(back.loc[remain, "region"])
    assert keys["site"] == plain(back.loc[remain, "site"])


# -- roles, reasons and the scores ------------------------------------------------------


def test_a_by_column_is_neither_a_prediction_nor_a_stray_column() -> None:
    """A float column beside the class columns would be a prediction (and then a stray
    column) by default; named by --by it is a slice, and the loss is scikit-learn's."""
    rng = np.random.default_rng(9)
    probs = rng.dirichlet([1, 1, 1], 120)
    y = rng.integers(0, 3, 120)
    df = pd.DataFrame(probs, columns=["cat", "dog", "fox"])
    df["temperature"] = rng.choice([36.5, 37.5, 39.0], 120)
    df["label"] = np.array(["cat", "dog", "fox"])[y]
    with pytest.raises(XentError, match="temperature"):
        xentcli.score(df)
    summary = xentcli.score(df, by=["temperature"])
    assert summary.loss == pytest.approx(log_loss(y, probs), rel=1e-12)
    assert summary.reasons["columns"] == "numeric columns cat, dog, fox; not 'temperature' (--by)"
    found = inspect_file(df, by=["temperature"])
    assert {c.name: c.role for c in found.columns}["temperature"] == "slice"


def test_reasons_name_by_columns_of_either_file(tmp_path: Path) -> None:
    df = frame(10)
    preds = df[["id", "p", "region"]]
    labels = df[["id", "label", "site"]].sample(frac=1, random_state=1).reset_index(drop=True)
    summary = xentcli.score(preds, labels, id_col="id", by=["site", "region"])
    reason = summary.reasons["columns"]
    assert "'region' (--by)" in reason
    assert "'site' (--by, of LABELS)" in reason
    assert summary.loss == pytest.approx(log_loss(df["label"], df["p"]), rel=1e-12)


def test_the_layout_ships_the_by_columns() -> None:
    df = frame(11)
    layout = plan(
        open_source(df[["id", "p", "region"]], "preds"),
        open_source(df[["id", "label", "site"]], "labels"),
        Options(by=("site", "region"), id_col="id"),
    )
    assert (layout.by_cols, layout.by_in_preds) == (("site", "region"), (False, True))
    again = Layout.from_dict(json.loads(json.dumps(layout.to_dict())))
    assert again == layout


def test_without_by_the_batches_carry_no_keys() -> None:
    df = frame(12)
    source = open_source(df, "preds")
    layout = plan(source, None, Options())
    assert all(batch.keys == {} for batch in Aligner(source, None, layout, 50))


# -- refusals ----------------------------------------------------------------------------


def refusal(*args: Any, **options: Any) -> str:
    """The one line a refused run says (``XentError``, exit 2 at the CLI)."""
    with pytest.raises(XentError) as caught:
        xentcli.score(*args, **options)
    text = str(caught.value)
    assert "\n" not in text
    return text


def test_a_missing_by_column_is_named_with_the_columns(tmp_path: Path) -> None:
    df = frame(13)
    df[["id", "p", "region"]].to_csv(tmp_path / "preds.csv", index=False)
    df[["id", "label", "site"]].to_csv(tmp_path / "labels.csv", index=False)
    text = refusal(
        str(tmp_path / "preds.csv"), str(tmp_path / "labels.csv"), id_col="id", by=["regoin"]
    )
    assert text == (
        f"--by 'regoin' is not a column of {tmp_path / 'preds.csv'} or "
        f"{tmp_path / 'labels.csv'} (columns: id, p, region, label, site)"
    )
    assert refusal(df[["p", "label"]], by=["region"]) == (
        "--by 'region' is not a column of preds (columns: p, label)"
    )


def _cli_has_by() -> bool:
    from xentcli.cli import cli

    return any("--by" in p.opts for p in cli.commands["score"].params)  # type: ignore[attr-defined]


@pytest.mark.skipif(not _cli_has_by(), reason="xent score --by lands with the CLI's options")
def test_the_cli_refuses_a_missing_by_column_with_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xentcli.cli import cli

    df = frame(13)
    df[["id", "p", "region"]].to_csv(tmp_path / "preds.csv", index=False)
    df[["id", "label"]].to_csv(tmp_path / "labels.csv", index=False)
    out = tmp_path / "out.json"
    args = [str(tmp_path / "preds.csv"), str(tmp_path / "labels.csv"), "--id-col", "id"]
    result = CliRunner().invoke(cli, ["score", *args, "--by", "regoin", "--output", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: --by 'regoin' is not a column of {tmp_path / 'preds.csv'} or "
        f"{tmp_path / 'labels.csv'} (columns: id, p, region, label)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("files", "options"),
    [
        ("own", {"by": ["label"]}),  # PREDS' own label column
        ("labels", {"by": ["label"]}),  # LABELS' label column
        ("labels", {"by": ["y"], "label_col": "y"}),
        ("both", {"by": ["label"]}),  # PREDS' label, checked against LABELS
    ],
)
def test_the_label_column_cannot_be_the_slices(files: str, options: dict) -> None:
    df = frame(14)
    if files == "own":
        args: tuple = (df[["p", "label"]],)
    elif files == "labels":
        name = options.get("label_col", "label")
        args = (df[["p"]], df[["label"]].rename(columns={"label": name}))
    else:
        args = (df[["p", "label"]], df[["label"]])
    text = refusal(*args, **options)
    assert text.startswith(f"--by {options['by'][0]!r} names the label column; it can't be both")


def test_a_prediction_column_cannot_be_the_slices() -> None:
    df = frame(15).assign(q=lambda d: 1 - d["p"])
    text = refusal(df[["p", "q", "label"]], by=["q"], pred_cols=["p", "q"])
    assert text == (
        "--pred-cols and --by both name 'q'; it can't be both a prediction column and the slices"
    )


def test_a_by_column_named_twice_is_refused() -> None:
    df = frame(16)
    text = refusal(df[["p", "label", "region"]], by=["region", "region"])
    assert text == "--by names 'region' twice; name each column once"


def test_ambiguous_numbers_in_a_csv_slice_column_stop_with_the_row(tmp_path: Path) -> None:
    """A text column whose first rows look like numbers and later rows do not cannot be
    read as either without guessing: exit 2 naming the column and its row."""
    n = 20_000
    df = pd.DataFrame({"p": np.full(n, 0.5), "label": np.arange(n) % 2})
    df["zone"] = [str(i % 7) for i in range(n)]
    df.loc[n - 3, "zone"] = "7b"
    df.to_csv(tmp_path / "preds.csv", index=False)
    text = refusal(str(tmp_path / "preds.csv"), by=["zone"])
    assert "'zone'" in text and str(n - 3) in text


def test_no_nan_sneaks_into_float_keys(tmp_path: Path) -> None:
    """A missing float cell is null, not NaN: one slice value, as pandas' dropna=False
    groupby gives one group for it."""
    df = frame(17)
    df.to_parquet(tmp_path / "p.parquet", index=False)
    _, keys = kept(str(tmp_path / "p.parquet"), by=("score_band",))
    assert not any(isinstance(v, float) and math.isnan(v) for v in keys["score_band"])
    groups = df.groupby("score_band", dropna=False).size()
    assert len(set(keys["score_band"])) == len(groups)


def test_keys_from_hive_partitions_count_as_pandas_groups_them(tmp_path: Path) -> None:
    """A dataset partitioned by pandas (``fold=0/site=a/...``): the partition columns
    are columns, and slice keys like any other; per (fold, site) as many rows as
    pandas' groupby counts."""
    df = frame(18)[["p", "label"]].assign(
        fold=np.arange(N) % 3, site=np.where(np.arange(N) % 5 == 0, "a", "b")
    )
    df.to_parquet(tmp_path / "hive", partition_cols=["fold", "site"])
    rows, keys = kept(str(tmp_path / "hive"), by=("site", "fold"))
    assert len(rows) == N
    counted = pd.Series(list(zip(keys["fold"], keys["site"], strict=True))).value_counts()
    expected = pd.read_parquet(tmp_path / "hive").groupby(["fold", "site"], observed=True).size()
    assert {tuple(map(str, k)): v for k, v in counted.items()} == {
        tuple(map(str, k)): v for k, v in expected.items()
    }


def test_slices_from_a_shuffled_labels_file_follow_the_shared_pandas_index(
    tmp_path: Path,
) -> None:
    """The layout people really have: both files written by ``DataFrame.to_csv()`` with
    their index, the LABELS file shuffled and holding the slice column. xent joins the rows
    on the shared index (issue 10); the slices must follow that join, not the position."""
    rng = np.random.default_rng(5)
    n = 300
    p = rng.uniform(0.01, 0.99, n)
    y = (rng.uniform(size=n) < p).astype(int)
    region = rng.choice(["north", "south", "east"], n)
    y[region == "north"] = 1 - y[region == "north"]  # a region the model gets wrong
    pd.DataFrame({"p": p}).to_csv(tmp_path / "preds.csv")
    labels = pd.DataFrame({"label": y, "region": region}).sample(frac=1, random_state=2)
    labels.to_csv(tmp_path / "labels.csv")
    summary = xentcli.score(
        str(tmp_path / "preds.csv"), str(tmp_path / "labels.csv"), by=["region"]
    )
    assert summary.mean_loss == pytest.approx(log_loss(y, p), rel=1e-12)
    got = {s.value: (s.n, s.mean_loss) for s in summary.slices}
    for name in ("north", "south", "east"):
        rows = region == name
        expected = (int(rows.sum()), log_loss(y[rows], p[rows], labels=[0, 1]))
        assert got[name][0] == expected[0]
        assert got[name][1] == pytest.approx(expected[1], rel=1e-12)
