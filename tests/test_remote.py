"""Remote inputs (``s3://`` URLs) against a real S3 server: moto's, on 127.0.0.1 only.

The reference is the same files read locally: a remote run's ``--json`` report must
equal the local run's byte for byte but for ``inputs``. Failures a user can cause (a
missing object or bucket, a glob that matches nothing) are exit 2 with one ``Error:``
line naming the URL.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from clirun import refused, xent

from xentcli.io.remote import shown_name

moto_server = pytest.importorskip("moto.server")
pafs = pytest.importorskip("pyarrow.fs")


def _table(rng: np.random.Generator, n: int) -> pa.Table:
    probs = rng.dirichlet(np.ones(3), n)
    return pa.table(
        {"a": probs[:, 0], "b": probs[:, 1], "c": probs[:, 2], "y": rng.choice(["a", "b", "c"], n)}
    )


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files, written by pyarrow's own writers: single files and a hive dataset."""
    root = tmp_path_factory.mktemp("remote")
    rng = np.random.default_rng(14)
    one = _table(rng, 700)
    pq.write_table(one, root / "one.parquet", row_group_size=200)
    pacsv.write_csv(one, root / "one.csv")
    (root / "one.csv.gz").write_bytes(gzip.compress((root / "one.csv").read_bytes()))
    pacsv.write_csv(one.select(["y"]), root / "labels.csv")
    pq.write_table(one.drop_columns(["y"]), root / "preds.parquet")
    for i, fold in enumerate((0, 1, 0, 1, 1)):
        part = root / "ds" / f"fold={fold}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(_table(rng, 50 + 7 * i), part / f"part.{i * 5}.parquet")
    (root / "ds" / "_SUCCESS").write_bytes(b"")
    return root


@pytest.fixture(scope="module")
def bucket(local: Path) -> Iterator[str]:
    """A moto S3 server on loopback holding the files under ``s3://bkt/``; the
    endpoint and credentials in the environment, as a user would set them."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        s3 = pafs.S3FileSystem(
            endpoint_override=f"{host}:{port}", scheme="http", allow_bucket_creation=True
        )
        s3.create_dir("bkt")
        for path in sorted(local.rglob("*")):
            if path.is_file():
                with s3.open_output_stream(f"bkt/{path.relative_to(local).as_posix()}") as out:
                    out.write(path.read_bytes())
        try:
            yield f"{host}:{port}"
        finally:
            server.stop()


def _report(*args: str) -> dict:
    result = xent(*args)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    report.pop("inputs")
    return report


@pytest.mark.parametrize(
    ("remote", "here", "more"),
    [
        ("one.parquet", "one.parquet", ("--label-col", "y")),
        ("one.csv", "one.csv", ("--label-col", "y")),
        ("one.csv.gz", "one.csv.gz", ("--label-col", "y")),
        ("ds", "ds", ("--label-col", "y")),
        ("ds/**/*.parquet", "ds/**/*.parquet", ("--label-col", "y")),
        ("ds/*/*.parquet", "ds/*/*.parquet", ("--label-col", "y", "--by", "fold")),
    ],
)
def test_remote_report_equals_local(
    bucket: str, local: Path, monkeypatch: pytest.MonkeyPatch, remote: str, here: str, more
) -> None:
    monkeypatch.chdir(local)
    theirs = _report(here, *more)
    ours = _report(f"s3://bkt/{remote}", *more)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)


def test_remote_labels_and_inputs_named_by_url(
    bucket: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(local)
    result = xent("s3://bkt/preds.parquet", "s3://bkt/labels.csv")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"] == {"preds": "s3://bkt/preds.parquet", "labels": "s3://bkt/labels.csv"}
    report.pop("inputs")
    assert report == _report("preds.parquet", "labels.csv")


def test_endpoint_in_the_query(bucket: str, local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.chdir(local)
    url = f"s3://bkt/ds?endpoint_override={bucket}&scheme=http"
    assert _report(url, "--label-col", "y") == _report("ds", "--label-col", "y")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://bkt/nothing.parquet", "Error: s3://bkt/nothing.parquet: no such file"),
        ("s3://nobkt/one.parquet", "Error: s3://nobkt/one.parquet: no such bucket 'nobkt'"),
        (
            "s3://bkt/ds/*.csv",
            "Error: s3://bkt/ds/*.csv: no such file, and no file matches it as a pattern",
        ),
        (
            "s3://bkt/one.*",
            "Error: s3://bkt/one.csv: is not a Parquet file (it lacks the PAR1 magic bytes); "
            "the pattern 's3://bkt/one.*' is read as one Parquet dataset",
        ),
    ],
)
def test_remote_refusals_name_the_url(bucket: str, url: str, message: str) -> None:
    assert refused(url, "--label-col", "y") == message


def test_missing_labels_object(bucket: str) -> None:
    line = refused("s3://bkt/preds.parquet", "s3://bkt/gone.csv")
    assert line == "Error: s3://bkt/gone.csv: no such file"


def test_shown_name_drops_secrets() -> None:
    assert shown_name("s3://KEY:SECRET@bkt/a.csv") == "s3://bkt/a.csv"
    assert shown_name("s3://bkt/a?endpoint_override=h:1&secret_key=s") == (
        "s3://bkt/a?endpoint_override=h:1"
    )
    assert shown_name("abfs://box@acct.dfs.core.windows.net/a") == (
        "abfs://box@acct.dfs.core.windows.net/a"
    )
    assert shown_name("s3://bkt/part-?.parquet") == "s3://bkt/part-?.parquet"  # a wildcard


@pytest.mark.parametrize(
    ("remote", "more"),
    [
        ("one.parquet", ("--label-col", "y")),  # four row groups: four pieces
        ("ds/*/*.parquet", ("--label-col", "y", "--by", "fold")),
        ("preds.parquet", ()),  # LABELS a CSV object: the file is one piece
    ],
)
def test_a_local_dask_cluster_reads_the_bucket_as_the_local_engine(
    bucket: str, remote: str, more: tuple[str, ...]
) -> None:
    """The issue's "done when": ``xent score 's3://bkt/...' --engine dask`` on a local
    cluster of worker processes (each opens the URLs itself, from the environment)
    prints the local engine's JSON byte for byte."""
    pytest.importorskip("distributed")
    args = [f"s3://bkt/{remote}", *(["s3://bkt/labels.csv"] if not more else []), *more]
    here = xent(*args, "--jobs", "1")
    there = xent(*args, "--engine", "dask", "--jobs", "2")
    assert here.exit_code == 0, here.stderr
    assert there.exit_code == 0, there.stderr
    assert there.stdout == here.stdout
