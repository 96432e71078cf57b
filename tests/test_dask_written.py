"""Datasets that dask.dataframe itself writes, scored with one thread, every core and
the Dask engine: the loss is scikit-learn's on the rows as the user meant them.

``dd.to_parquet`` names its parts ``part.0.parquet`` .. ``part.11.parquet`` (so
``part.10`` sorts before ``part.2`` as text) and stores the frame's unnamed index as a
column ``__null_dask_index__`` (an ``int64`` among the float predictions), which pandas
reads back as an index of that name and dask.dataframe as the unnamed index. A shuffled
frame keeps its index, so pairing such a file with an indexed LABELS by position would
give a wrong number with exit 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clirun import refused, xent
from sklearn.metrics import log_loss

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
# dask's own Parquet writer calls set_index(inplace=True), which pandas 3.1 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")

ROWS = 12_000
CLASSES = ["p_0", "p_1", "p_2"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Two single-thread workers in this process; HTTP routes on a free local port."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def model(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A model's probabilities for ``ROWS`` rows (index 0..ROWS-1) and their labels."""
    rng = np.random.default_rng(seed)
    probs = pd.DataFrame(rng.dirichlet(np.ones(3) * 0.7, ROWS), columns=CLASSES)
    return probs, rng.integers(0, 3, ROWS)


def report(*args: str) -> dict:
    result = xent(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def same_on_every_engine(scheduler: str, *args: str) -> dict:
    """The report of ``--jobs 1``, after checking ``--jobs 4`` and the Dask engine give
    it byte for byte (the Dask engine only where it can run: rows paired by position)."""
    one = xent(*args, "--jobs", "1")
    assert one.exit_code == 0, one.stderr
    four = xent(*args, "--jobs", "4")
    assert four.stdout == one.stdout
    data = json.loads(one.stdout)
    if "joined" not in data["reasons"]["join"]:
        cluster = xent(*args, "--engine", "dask", "--scheduler", scheduler)
        assert cluster.exit_code == 0, cluster.stderr
        assert cluster.stdout == one.stdout
    return data


def test_parts_are_read_in_the_order_dask_numbered_them(tmp_path: Path, scheduler: str):
    """Twelve parts and a LABELS file without an index: paired by position, part.2
    before part.10, and the index column left out with its reason."""
    probs, y = model(0)
    dd.from_pandas(probs, npartitions=12).to_parquet(tmp_path / "preds")
    assert (tmp_path / "preds" / "part.11.parquet").exists()
    pd.DataFrame({"y": y}).to_parquet(tmp_path / "labels.parquet", index=False)

    data = same_on_every_engine(
        scheduler, str(tmp_path / "preds"), str(tmp_path / "labels.parquet")
    )
    assert data["n_samples"] == ROWS
    assert data["loss"] == pytest.approx(log_loss(y, probs.to_numpy()), rel=1e-12)
    assert data["reasons"]["columns"] == (
        "numeric columns p_0, p_1, p_2; not '__null_dask_index__' (pandas index)"
    )


def test_a_shuffled_dask_frame_joins_on_its_index(tmp_path: Path, scheduler: str):
    """Predictions shuffled before Dask wrote them, labels as pandas' ``to_csv`` writes
    them (index kept): pandas aligns the two on the index, and so does xent."""
    probs, y = model(1)
    shuffled = probs.sample(frac=1, random_state=3)
    dd.from_pandas(shuffled, npartitions=7, sort=False).to_parquet(tmp_path / "preds")
    pd.DataFrame({"y": y}).to_csv(tmp_path / "labels.csv")

    data = same_on_every_engine(scheduler, str(tmp_path / "preds"), str(tmp_path / "labels.csv"))
    assert data["loss"] == pytest.approx(log_loss(y, probs.to_numpy()), rel=1e-12)
    by_position = log_loss(y, shuffled.to_numpy())
    assert abs(data["loss"] - by_position) > 1e-3  # the trap is real
    assert data["reasons"]["join"].startswith("rows joined on pandas' unnamed index")


def test_shuffled_dask_labels_join_a_pandas_range_index(tmp_path: Path, scheduler: str):
    """Labels shuffled and written by Dask; predictions by pandas' ``to_parquet``,
    whose RangeIndex lives only in the file's metadata: joined on the index."""
    probs, y = model(2)
    probs.to_parquet(tmp_path / "preds.parquet")
    labels = pd.DataFrame({"y": y}).sample(frac=1, random_state=5)
    dd.from_pandas(labels, npartitions=5, sort=False).to_parquet(tmp_path / "labels")

    data = same_on_every_engine(
        scheduler, str(tmp_path / "preds.parquet"), str(tmp_path / "labels")
    )
    assert data["loss"] == pytest.approx(log_loss(y, probs.to_numpy()), rel=1e-12)
    assert "joined" in data["reasons"]["join"]


def test_the_dask_engine_names_the_join_it_cannot_do(tmp_path: Path, scheduler: str):
    """Two Dask-written frames joined on their index: the Dask engine cannot join yet,
    and its one line says which join the data asked for and what runs it."""
    probs, y = model(3)
    dd.from_pandas(probs.sample(frac=1, random_state=1), npartitions=4, sort=False).to_parquet(
        tmp_path / "preds"
    )
    labels = pd.DataFrame({"y": y}).sample(frac=1, random_state=2)
    dd.from_pandas(labels, npartitions=3, sort=False).to_parquet(tmp_path / "labels")
    line = refused(
        str(tmp_path / "preds"),
        str(tmp_path / "labels"),
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert "rows joined on pandas' unnamed index" in line
    assert "--engine dask cannot join" in line and "local engine" in line
    assert report(str(tmp_path / "preds"), str(tmp_path / "labels"))["loss"] == pytest.approx(
        log_loss(y, probs.to_numpy()), rel=1e-12
    )
