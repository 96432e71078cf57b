"""``--engine dask``: the report of a Dask cluster is the local engine's, byte for byte,
on datasets written by pyarrow and pandas (SPEC "Engines")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError
from xentcli.io.persample import PartsTarget

distributed = pytest.importorskip("distributed")

CLASSES = ("cat", "dog", "emu", "owl")
SIZES = (3000, 11000, 0, 7000, 9000, 5000, 13000)  # seven files, one of them empty


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent")


def two_workers(processes: bool) -> distributed.LocalCluster:
    """Two single-thread workers; the scheduler's HTTP routes on a free local port."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local cluster of two single-thread workers in this process (0.1 s to start)."""
    cluster = two_workers(processes=False)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def dataset(folder: Path, task: str, seed: int = 0) -> dict[str, Any]:
    """Seven Parquet files of uneven length (row groups of 4000 rows) holding a model's
    predictions, labels, weights and a slice column; and the rows as one frame."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    frames = []
    for i, n in enumerate(SIZES):
        data: dict[str, Any] = {}
        logits = rng.normal(0, 3, (n, 4))
        if task == "binary":
            data["p"] = rng.uniform(0.001, 0.999, n)
            data["label"] = rng.integers(0, 2, n)
        else:
            for j in range(4):
                data[f"c{j}"] = logits[:, j]
            if task == "multilabel":
                data.update({f"c{j}": 1 / (1 + np.exp(-logits[:, j])) for j in range(4)})
                data.update({f"y{j}": rng.integers(0, 2, n) for j in range(4)})
            else:  # class names: the columns p_cat .. p_owl, the labels the names
                data = {f"p_{name}": data[f"c{j}"] for j, name in enumerate(CLASSES)}
                data["label"] = rng.choice(CLASSES, n)
        data["w"] = rng.uniform(0, 2, n)
        data["region"] = rng.choice(["north", "south"], n)
        frame = pd.DataFrame(data)
        frame.to_parquet(folder / f"part-{i}.parquet", index=False, row_group_size=4000)
        frames.append(frame)
    return {"folder": folder, "frame": pd.concat(frames, ignore_index=True)}


CASES = {
    "binary": ("binary", {"pred_cols": ("p",)}),
    "binary-weighted-figures": (
        "binary",
        {
            "pred_cols": ("p",),
            "weight_col": "w",
            "by": ("region",),
            "bootstrap": 30,
            "worst": 5,
            "histograms": True,
        },
    ),
    "multiclass-names": ("multiclass", {"input": "logits"}),
    "multiclass-class-weights": (
        "multiclass",
        {
            "input": "logits",
            "class_weights": "cat=2,dog=1,emu=1,owl=3",
            "drop_invalid": True,
            "label_smoothing": 0.1,
        },
    ),
    "multilabel": (
        "multilabel",
        {"pred_cols": ("c0", "c1", "c2", "c3"), "task": "multilabel", "ci": 0.9},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cluster_gives_the_local_engines_report(
    case: str, tmp_path: Path, scheduler: str
) -> None:
    task, options = CASES[case]
    data = dataset(tmp_path / "preds", task)
    labels = None
    if task == "multilabel":  # the labels as a dataset of their own, in another layout
        frame = data["frame"][[f"y{j}" for j in range(4)]]
        frame.columns = [f"c{j}" for j in range(4)]
        (tmp_path / "labels").mkdir()
        cuts = [0, 10000, 31000, len(frame)]
        for i in range(3):
            part = frame.iloc[cuts[i] : cuts[i + 1]]
            part.to_parquet(tmp_path / "labels" / f"l{i}.parquet", index=False)
        labels = str(tmp_path / "labels")
    preds = str(data["folder"])
    local = xentcli.score(preds, labels, jobs=1, **options).to_dict()
    remote, rows = xentcli.score(
        preds, labels, engine="dask", scheduler=scheduler, per_sample=True, **options
    )
    assert json.dumps(remote.to_dict(), sort_keys=True) == json.dumps(local, sort_keys=True)
    assert rows.column("row").to_pylist() == list(range(sum(SIZES)))
    _, local_rows = xentcli.score(preds, labels, jobs=1, per_sample=True, **options)
    assert rows.equals(local_rows)


def test_a_csv_file_is_one_piece_and_gives_the_same_report(tmp_path: Path, scheduler: str) -> None:
    data = dataset(tmp_path / "preds", "binary")
    path = tmp_path / "preds.csv"
    data["frame"].to_csv(path, index=False)
    local = invoke("score", str(path), "--pred-cols", "p", "--json", "--jobs", "1")
    remote = invoke(
        "score",
        str(path),
        "--pred-cols",
        "p",
        "--json",
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert local.exit_code == remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout


def test_the_first_bad_row_in_input_order_is_the_error(tmp_path: Path, scheduler: str) -> None:
    """A bad probability in file 5 and another in file 6: both engines name file 5's
    row, by its position in the whole dataset, and leave no output behind."""
    data = dataset(tmp_path / "preds", "binary")
    first5 = sum(SIZES[:5])
    for i, row in ((5, 17), (6, 3)):
        frame = pd.read_parquet(data["folder"] / f"part-{i}.parquet")
        frame.loc[row, "p"] = 1.5
        frame.to_parquet(data["folder"] / f"part-{i}.parquet", index=False, row_group_size=4000)
    out = tmp_path / "report.json"
    lines = []
    for engine in (["--jobs", "1"], ["--engine", "dask", "--scheduler", scheduler]):
        result = invoke("score", str(data["folder"]), "--pred-cols", "p", *engine, "-o", str(out))
        assert result.exit_code == 2
        lines.append(result.stderr)
        assert not out.exists()
    assert lines[0] == lines[1]
    assert f"row {first5 + 17}" in lines[0] and lines[0].count("\n") == 1


def test_labels_of_another_length_are_refused_naming_both(tmp_path: Path, scheduler: str) -> None:
    data = dataset(tmp_path / "preds", "binary")
    data["frame"][["label"]].iloc[:-5].to_parquet(tmp_path / "labels.parquet", index=False)
    preds = data["folder"].with_name("preds_only")
    preds.mkdir()
    for part in sorted(data["folder"].iterdir()):
        pq.write_table(pq.read_table(part, columns=["p"]), preds / part.name)
    result = invoke(
        "score",
        str(preds),
        str(tmp_path / "labels.parquet"),
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert result.exit_code == 2
    assert f"{sum(SIZES)} rows" in result.stderr and f"{sum(SIZES) - 5}" in result.stderr


def test_csv_labels_for_a_parquet_dataset_are_refused(tmp_path: Path, scheduler: str) -> None:
    data = dataset(tmp_path / "preds", "binary")
    data["frame"][["label"]].to_csv(tmp_path / "labels.csv", index=False)
    result = invoke(
        "score",
        str(data["folder"]),
        str(tmp_path / "labels.csv"),
        "--label-col",
        "label",
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "write LABELS as Parquet" in result.stderr


def test_id_col_is_a_usage_error_for_now(tmp_path: Path) -> None:
    data = dataset(tmp_path / "preds", "binary")
    with pytest.raises(XentError, match="--id-col is not supported with --engine dask"):
        xentcli.score(str(data["folder"]), engine="dask", id_col="region")


def test_an_unreachable_scheduler_is_one_error_line(tmp_path: Path) -> None:
    import dask

    data = dataset(tmp_path / "preds", "binary")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = invoke(
            "score", str(data["folder"]), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"
        )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert result.stderr.count("\n") == 1


def test_a_local_cluster_of_processes_started_by_xent(tmp_path: Path) -> None:
    """No --scheduler: xent starts worker processes (every object pickled across), and
    none outlives the command; the JSON is the local engine's byte for byte, and the
    workers' Parquet parts hold the local engine's per-sample table."""
    data = dataset(tmp_path / "preds", "multiclass")
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    command = [sys.executable, "-m", "xentcli", "score", str(data["folder"]), "--input", "logits"]
    command.append("--json")
    local = subprocess.run(
        [*command, "--per-sample", str(tmp_path / "local.parquet")],
        capture_output=True,
        env=env,
        timeout=120,
    )
    remote = subprocess.run(
        [*command, "--engine", "dask", "--jobs", "2", "--per-sample", str(tmp_path / "rows.pq")],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert pq.read_table(tmp_path / "rows.pq").equals(pq.read_table(tmp_path / "local.parquet"))


def _per_sample(args: list[str], target: Path) -> Result:
    return invoke("score", *args, "--json", "-q", "--per-sample", str(target))


@pytest.mark.parametrize("name", ["rows", "rows.tsv", "rows.parquet"])
def test_per_sample_is_a_folder_of_parts_the_workers_write(
    tmp_path: Path, scheduler: str, name: str
) -> None:
    """``--per-sample DIR``: a part file per piece that has rows, numbered in input
    order, in the format the folder's name says (CSV without one). Read in name order
    they are the local engine's per-sample file: the same bytes for text, the same
    table for Parquet."""
    data = dataset(tmp_path / "preds", "binary")
    args = [str(data["folder"]), "--pred-cols", "p", "--weight-col", "w"]
    fmt = {"rows": "csv", "rows.tsv": "tsv", "rows.parquet": "parquet"}[name]
    local = _per_sample([*args, "--jobs", "1"], tmp_path / f"local.{fmt}")
    remote = _per_sample([*args, "--engine", "dask", "--scheduler", scheduler], tmp_path / name)
    assert local.exit_code == remote.exit_code == 0, remote.stderr
    parts = sorted((tmp_path / name).iterdir())
    # a piece per 4000-row group (the empty file's group of no rows is no piece)
    pieces = sum(-(-n // 4000) for n in SIZES)
    assert [p.name for p in parts] == [f"part-{i:05d}.{fmt}" for i in range(pieces)]
    if fmt == "parquet":
        assert pq.read_table(tmp_path / name).equals(pq.read_table(tmp_path / "local.parquet"))
    else:
        texts = [p.read_bytes().split(b"\n", 1) for p in parts]
        assert len({head for head, _ in texts}) == 1  # every part has the one header
        joined = texts[0][0] + b"\n" + b"".join(body for _, body in texts)
        assert joined == (tmp_path / f"local.{fmt}").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_parts_folder_replaces_an_earlier_runs_and_no_other(
    tmp_path: Path, scheduler: str
) -> None:
    """A second run into the same folder leaves only its own parts (a stale part of a
    longer run is gone); a folder holding a file xent did not write is refused, one
    line, untouched; a run that fails leaves no folder and no temporary behind."""
    data = dataset(tmp_path / "preds", "binary")
    args = [str(data["folder"]), "--pred-cols", "p", "--engine", "dask", "--scheduler", scheduler]
    out = tmp_path / "rows"
    out.mkdir()
    (out / "part-00099.csv").write_text("row,label\n")
    assert _per_sample(args, out).exit_code == 0
    assert "part-00099.csv" not in {p.name for p in out.iterdir()}
    assert len(list(out.iterdir())) == sum(-(-n // 4000) for n in SIZES)

    (out / "notes.txt").write_text("mine")
    before = sorted(p.name for p in out.iterdir())
    refused = _per_sample(args, out)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "'notes.txt'" in refused.stderr and "remove it, or name another folder" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == before

    frame = pd.read_parquet(data["folder"] / "part-5.parquet")
    frame.loc[17, "p"] = 1.5
    frame.to_parquet(data["folder"] / "part-5.parquet", index=False, row_group_size=4000)
    failed = _per_sample(args, tmp_path / "new_rows")
    assert failed.exit_code == 2 and "row" in failed.stderr
    assert not (tmp_path / "new_rows").exists()
    assert [p.name for p in tmp_path.iterdir() if "xent-tmp" in p.name] == []


def test_a_parts_folder_the_worker_cannot_see_is_one_error() -> None:
    """On a cluster whose workers do not share the client's disk, the temporary folder
    the client made is missing on the worker: the task's error says so."""
    target = PartsTarget("no/such/folder.xent-tmp", "csv", "rows")
    with pytest.raises(XentError, match="every worker shares") as caught:
        target.write(3, [])
    assert "rows/part-00003.csv" in str(caught.value)


def logit_files(folder: Path, files: int, rows: int, seed: int) -> Path:
    """``files`` Parquet files of ``rows`` rows of 8 float32 logits and a label ``y``, in
    row groups of 20,000: work long enough to interrupt."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for i in range(files):
        logits = rng.normal(0, 2, (rows, 8)).astype(np.float32)
        y = rng.integers(0, 8, rows)
        table = pa.table({**{f"c{j}": logits[:, j] for j in range(8)}, "y": y})
        pq.write_table(table, folder / f"part-{i:02d}.parquet", row_group_size=20_000)
    return folder


@pytest.mark.parametrize("retries", [3, 0])
def test_a_worker_killed_mid_run_is_retried_or_the_run_stops(tmp_path: Path, retries: int) -> None:
    """SIGKILL one of two worker processes while the pieces are scored: Dask runs its
    pieces again on the other (the report is the local engine's), or, allowed no
    retry, the run ends with one error line."""
    import signal
    import threading
    import time

    import dask

    folder = logit_files(tmp_path / "preds", 24, 60_000, seed=9)
    options = {"label_col": "y", "input": "logits", "bootstrap": 200}
    local = xentcli.score(str(folder), jobs=1, **options).to_dict()
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        cluster = two_workers(processes=True)
    try:
        with distributed.Client(cluster) as client:
            pids = client.run(os.getpid)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["summary"] = xentcli.score(
                    str(folder), engine="dask", scheduler=cluster.scheduler_address, **options
                )
            except XentError as error:
                outcome["error"] = str(error)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.0)
        running_at_kill = thread.is_alive()
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        thread.join(120)
    finally:
        cluster.close()
    assert running_at_kill, "the run ended before the kill: make the data larger"
    if retries:
        assert "summary" in outcome, outcome
        remote = outcome["summary"].to_dict()
        assert json.dumps(remote, sort_keys=True) == json.dumps(local, sort_keys=True)
    else:
        assert outcome.get("error", "").startswith("a Dask worker died while scoring a piece")


def test_workers_running_another_xentcli_are_refused(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xentcli.run import cluster

    monkeypatch.setattr(cluster, "worker_version", lambda: "0.0.1")
    data = dataset(tmp_path / "preds", "binary")
    result = invoke(
        "score",
        str(data["folder"]),
        "--pred-cols",
        "p",
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert result.exit_code == 2
    assert "run xentcli 0.0.1, this client" in result.stderr and result.stderr.count("\n") == 1


def _descendants(root: int) -> set[int]:
    """The processes under ``root`` now, from /proc."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


def test_ctrl_c_stops_the_cluster_and_leaves_no_worker(tmp_path: Path) -> None:
    """SIGINT while the local cluster scores: exit 130, one line, no output file, and no
    process that xent started is left running."""
    import signal
    import time

    folder = logit_files(tmp_path / "preds", 16, 80_000, seed=11)
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    command = [sys.executable, "-m", "xentcli", "score", str(folder), "--label-col", "y"]
    command += ["--input", "logits", "--bootstrap", "300", "--engine", "dask", "--jobs", "2"]
    child = subprocess.Popen([*command, "-o", str(out)], stderr=subprocess.PIPE, env=env)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2:  # the 2 worker processes
        time.sleep(0.1)
        workers = _descendants(child.pid)
    time.sleep(1.0)
    assert child.poll() is None, "the run ended before Ctrl-C: make the data larger"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert b"Traceback" not in err
    assert not out.exists()
    deadline = time.monotonic() + 10  # a worker told to stop ends on its own
    while time.monotonic() < deadline and {pid for pid in workers if _running(pid)}:
        time.sleep(0.1)
    assert not {pid for pid in workers if _running(pid)}


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (ended, not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_standard_input_and_a_bad_scheduler_file_are_one_line(tmp_path: Path) -> None:
    """Workers cannot read the client's standard input; a JSON file without an address
    is no scheduler file. Each is one error line, exit 2, before any work."""
    data = dataset(tmp_path / "preds", "binary")
    data["frame"].to_csv(tmp_path / "preds.csv", index=False)
    text = (tmp_path / "preds.csv").read_text()
    result = CliRunner().invoke(
        cli, ["score", "-", "--pred-cols", "p", "--engine", "dask"], input=text
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cannot read standard input" in result.stderr
    (tmp_path / "sched.json").write_text("{}")
    result = invoke(
        "score",
        str(data["folder"]),
        "--pred-cols",
        "p",
        "--engine",
        "dask",
        "--scheduler",
        str(tmp_path / "sched.json"),
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "not a Dask scheduler file" in result.stderr
