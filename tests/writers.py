"""Write a known problem to disk with the real writers users have: the test corpus's input.

A ``Problem`` is the truth: a float64 matrix (probabilities, logits or log-probabilities),
integer labels (indices into ``classes``) and the class names; ``Problem.loss`` is
scikit-learn's ``log_loss`` of it, computed without xent. The functions below write a
pandas frame built from it with pandas, pyarrow, polars, DuckDB, fastparquet and NumPy,
exactly as a user would call them, so that the files carry each writer's own quirks
(pandas index columns and metadata, fastparquet's ``index`` column, polars Categorical
dictionaries, DuckDB decimals and hive directories, ``np.savetxt``'s headerless ``%.18e``
rows, Dask's ``part.N.parquet`` names, Excel's semicolons and decimal commas).

Every writer takes ``(frame, path, **options)`` and returns the path it wrote; ``WRITERS``
names the frame writers that the corpus runs over.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
from scipy.special import log_softmax, softmax
from sklearn.metrics import log_loss

CLASSES = ("cat", "dog", "bird")


# -- the true problem ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The truth behind a corpus file: what xent must score, or refuse to.

    ``values`` is (n, k) float64 in the meaning ``kind`` gives it (``probs``, ``logits``
    or ``logprobs``); ``labels`` holds indices into ``classes``.
    """

    values: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    kind: str = "probs"

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def k(self) -> int:
        return len(self.classes)

    def probabilities(self) -> np.ndarray:
        """The (n, k) probabilities the values stand for."""
        if self.kind == "probs":
            return self.values
        if self.kind == "logits":
            return softmax(self.values, axis=1)
        if self.kind == "logprobs":
            return np.exp(self.values)
        raise ValueError(self.kind)

    def loss(self, keep: np.ndarray | None = None, sample_weight: Any = None) -> float:
        """scikit-learn's mean log loss over the rows ``keep`` (a boolean mask; all rows
        by default), with the class order of ``classes`` (``labels=range(k)``)."""
        rows = np.ones(self.n, dtype=bool) if keep is None else np.asarray(keep)
        weights = None if sample_weight is None else np.asarray(sample_weight)[rows]
        return float(
            log_loss(
                self.labels[rows],
                self.probabilities()[rows],
                labels=list(range(self.k)),
                sample_weight=weights,
            )
        )

    def names(self) -> np.ndarray:
        """The label of each row as its class name."""
        return np.asarray(self.classes, dtype=object)[self.labels]

    def pred_columns(self, prefix: str = "p_") -> list[str]:
        return [f"{prefix}{name}" for name in self.classes]

    def preds_frame(self, prefix: str = "p_", scale: float = 1.0) -> pd.DataFrame:
        """One float64 column per class, named ``prefix + class``; values times ``scale``
        (100 writes percentages)."""
        values = self.values * scale if scale != 1.0 else self.values
        return pd.DataFrame(values, columns=self.pred_columns(prefix))

    def labels_frame(self, as_names: bool = True, name: str = "label") -> pd.DataFrame:
        """One label column: class names, or the integer indices."""
        column = self.names() if as_names else self.labels.astype(np.int64)
        return pd.DataFrame({name: column})

    def permuted(self, order: np.ndarray) -> Problem:
        """The same problem with its rows in ``order`` (the loss does not change)."""
        return Problem(self.values[order], self.labels[order], self.classes, self.kind)


def make_problem(
    n: int,
    classes: Sequence[str] = CLASSES,
    kind: str = "probs",
    seed: int = 0,
) -> Problem:
    """A random problem with every class present in its first rows.

    Probabilities come from a Dirichlet(2) (no value near 0, so no clipping); logits from a
    normal of scale 2; log-probabilities are the log of the probabilities.
    """
    rng = np.random.default_rng(seed)
    k = len(classes)
    labels = rng.integers(0, k, size=n)
    labels[: min(k, n)] = np.arange(min(k, n))
    if kind == "logits":
        values = rng.normal(0.0, 2.0, size=(n, k))
    else:
        values = rng.dirichlet(np.full(k, 2.0), size=n)
        if kind == "logprobs":
            values = log_softmax(np.log(values), axis=1)
    return Problem(values.astype(np.float64), labels.astype(np.int64), tuple(classes), kind)


def binary_loss(labels: np.ndarray, p_positive: np.ndarray, keep: Any = None) -> float:
    """scikit-learn's log loss of 0/1 ``labels`` given P(label = 1)."""
    rows = slice(None) if keep is None else np.asarray(keep)
    return float(log_loss(np.asarray(labels)[rows], np.asarray(p_positive)[rows], labels=[0, 1]))


def natural_parts(n: int, parts: int, seed: int = 0) -> list[slice]:
    """``parts`` consecutive row ranges of different sizes covering ``range(n)``: files of
    unequal length, so that reading them in the wrong order misaligns every later row."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), size=parts - 1, replace=False))
    bounds = [0, *cuts.tolist(), n]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


# -- pandas ----------------------------------------------------------------------------


def pandas_csv(frame: pd.DataFrame, path: Path, *, index: bool = False, **kwargs: Any) -> Path:
    """``DataFrame.to_csv``; ``index=True`` writes the index as the first column (named
    ``""`` when it has no name)."""
    frame.to_csv(path, index=index, **kwargs)
    return Path(path)


def pandas_csv_gz(frame: pd.DataFrame, path: Path, *, index: bool = False) -> Path:
    """``to_csv("x.csv.gz")``: pandas compresses by the extension."""
    frame.to_csv(path, index=index)
    return Path(path)


def pandas_tsv(frame: pd.DataFrame, path: Path, *, index: bool = False) -> Path:
    frame.to_csv(path, sep="\t", index=index)
    return Path(path)


def excel_csv(frame: pd.DataFrame, path: Path, *, decimal: str = ",") -> Path:
    """What Excel in a comma-decimal locale saves as CSV: ``;`` between fields, ``0,25``."""
    frame.to_csv(path, sep=";", decimal=decimal, index=False)
    return Path(path)


def pandas_parquet(frame: pd.DataFrame, path: Path, *, index: bool | None = None) -> Path:
    """``DataFrame.to_parquet`` (pyarrow engine): a RangeIndex goes to the pandas metadata
    only, any other index (or ``index=True``) is a column listed there as the index."""
    frame.to_parquet(path, index=index)
    return Path(path)


def pandas_feather(frame: pd.DataFrame, path: Path) -> Path:
    frame.reset_index(drop=True).to_feather(path)
    return Path(path)


def pandas_jsonl(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_json(path, orient="records", lines=True, double_precision=15)
    return Path(path)


def fastparquet_parquet(frame: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    """``to_parquet(engine="fastparquet")``: the index becomes a column (``index`` when
    unnamed) that the file's pandas metadata lists in ``index_columns``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecates the engine; users still have it
        frame.to_parquet(path, engine="fastparquet", index=index)
    return Path(path)


# -- pyarrow ---------------------------------------------------------------------------


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def pyarrow_parquet(frame: pd.DataFrame, path: Path, *, row_group_size: int = 1000) -> Path:
    """``pq.write_table`` with small row groups (many groups in one file)."""
    pq.write_table(_arrow(frame), path, row_group_size=row_group_size)
    return Path(path)


def pyarrow_feather(frame: pd.DataFrame, path: Path) -> Path:
    """Arrow IPC file (Feather v2) with ``pyarrow.feather.write_feather``."""
    feather.write_feather(_arrow(frame), str(path))
    return Path(path)


def pyarrow_parts(
    frame: pd.DataFrame,
    directory: Path,
    *,
    parts: int = 12,
    template: str = "part.{i}.parquet",
    seed: int = 0,
) -> Path:
    """A dataset as Dask writes it: ``part.0.parquet .. part.11.parquet`` in row order,
    parts of unequal length (written with pyarrow; dask is not installed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    table = _arrow(frame)
    for i, rows in enumerate(natural_parts(len(frame), parts, seed)):
        pq.write_table(
            table.slice(rows.start, rows.stop - rows.start), directory / template.format(i=i)
        )
    return directory


def pyarrow_hive(frame: pd.DataFrame, directory: Path, *, partition_by: str = "label") -> Path:
    """``pq.write_to_dataset(partition_cols=[...])``: ``label=cat/<uuid>.parquet``."""
    pq.write_to_dataset(_arrow(frame), str(directory), partition_cols=[partition_by])
    return Path(directory)


# -- polars ----------------------------------------------------------------------------


def _polars(frame: pd.DataFrame, categorical: Iterable[str]) -> pl.DataFrame:
    data = pl.from_pandas(frame.reset_index(drop=True))
    cats = [name for name in categorical if data.schema.get(name) == pl.String]
    if cats:
        data = data.with_columns(
            [pl.col(name).cast(pl.String).cast(pl.Categorical) for name in cats]
        )
    return data


def polars_parquet(frame: pd.DataFrame, path: Path, *, categorical: Iterable[str] = ()) -> Path:
    _polars(frame, categorical).write_parquet(path)
    return Path(path)


def polars_ipc(frame: pd.DataFrame, path: Path, *, categorical: Iterable[str] = ("label",)) -> Path:
    """``write_ipc`` with a text label column as ``pl.Categorical``: Arrow
    ``dictionary<uint32, string_view>``."""
    _polars(frame, categorical).write_ipc(path)
    return Path(path)


def polars_csv(frame: pd.DataFrame, path: Path) -> Path:
    _polars(frame, ()).write_csv(path)
    return Path(path)


# -- DuckDB ----------------------------------------------------------------------------


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_parquet(
    frame: pd.DataFrame, path: Path, *, decimal: Mapping[str, tuple[int, int]] | None = None
) -> Path:
    """``COPY (SELECT ...) TO 'x.parquet'``; columns named in ``decimal`` are cast to
    ``DECIMAL(precision, scale)`` (Parquet's decimal logical type)."""
    decimal = decimal or {}
    select = ", ".join(
        f"CAST({_sql_name(c)} AS DECIMAL({decimal[c][0]}, {decimal[c][1]})) AS {_sql_name(c)}"
        if c in decimal
        else _sql_name(c)
        for c in frame.columns
    )
    with duckdb.connect() as con:
        con.register("frame", frame.reset_index(drop=True))
        con.execute(f"COPY (SELECT {select} FROM frame) TO {_sql_path(path)} (FORMAT parquet)")
    return Path(path)


def duckdb_hive(frame: pd.DataFrame, directory: Path, *, partition_by: str = "label") -> Path:
    """``COPY ... TO 'dir' (FORMAT parquet, PARTITION_BY (label))``: one directory per
    value, ``label=cat/data_0.parquet``, the column itself left out of the files."""
    with duckdb.connect() as con:
        con.register("frame", frame.reset_index(drop=True))
        con.execute(
            f"COPY frame TO {_sql_path(directory)} "
            f"(FORMAT parquet, PARTITION_BY ({_sql_name(partition_by)}))"
        )
    return Path(directory)


# -- NumPy -----------------------------------------------------------------------------


def numpy_savetxt(array: np.ndarray, path: Path, **kwargs: Any) -> Path:
    """``np.savetxt``: by default no header, values ``%.18e`` separated by one space;
    ``header="a b"`` writes the first line ``# a b``."""
    np.savetxt(path, array, **kwargs)
    return Path(path)


def numpy_save(array: np.ndarray, path: Path) -> Path:
    np.save(path, array)
    return Path(path)


def numpy_savez(path: Path, *arrays: np.ndarray, **named: np.ndarray) -> Path:
    np.savez(path, *arrays, **named)
    return Path(path)


# -- the table writers the corpus runs over ---------------------------------------------

Writer = Callable[..., Path]

#: name -> (writer, file extension): every way the corpus writes one pandas frame to a file.
WRITERS: dict[str, tuple[Writer, str]] = {
    "pandas_csv": (pandas_csv, ".csv"),
    "pandas_csv_gz": (pandas_csv_gz, ".csv.gz"),
    "pandas_tsv": (pandas_tsv, ".tsv"),
    "pandas_parquet": (pandas_parquet, ".parquet"),
    "pandas_feather": (pandas_feather, ".feather"),
    "pandas_jsonl": (pandas_jsonl, ".jsonl"),
    "pyarrow_parquet": (pyarrow_parquet, ".parquet"),
    "pyarrow_feather": (pyarrow_feather, ".arrow"),
    "polars_parquet": (polars_parquet, ".parquet"),
    "polars_ipc": (polars_ipc, ".arrow"),
    "polars_csv": (polars_csv, ".csv"),
    "duckdb_parquet": (duckdb_parquet, ".parquet"),
    "fastparquet": (fastparquet_parquet, ".parquet"),
}


def write(frame: pd.DataFrame, directory: Path, stem: str, writer: str, **options: Any) -> Path:
    """Write ``frame`` to ``directory/stem.<ext>`` with the writer named ``writer``."""
    function, extension = WRITERS[writer]
    return function(frame, Path(directory) / f"{stem}{extension}", **options)
