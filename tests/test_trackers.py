"""``--log wandb`` and ``--log mlflow`` with the real libraries, read back by their own means.

W&B runs offline (no API key, as on a CI machine) into a temporary directory; its
transaction log is decoded with W&B's own protobuf schema (``wandb_internal_pb2``) and
the per-class table read from the run's files. MLflow writes a sqlite store in a
temporary directory, read back with ``MlflowClient``. The commands run as subprocesses
(once per module: each library costs seconds to import) with a terminal on standard
input, so a prompt would hang them and the timeout would say so.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import xentcli
from xentcli.cli import cli
from xentcli.report import trackers

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
PREDS = SAMPLE / "digits_logits.parquet"
WEAK = SAMPLE / "digits_probs_weak.csv"
LABELS = SAMPLE / "digits_labels.csv"
pytestmark = pytest.mark.filterwarnings("ignore:.*noload.*")  # sqlalchemy, read back by mlflow
TIMEOUT = 60  # seconds: a run that prompts or hangs fails here, not in CI's own limit


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a machine with no tracker configured: no W&B key (neither in
    the environment nor in a ~/.netrc or settings file), no MLflow variables, no CI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WANDB_", "MLFLOW_")) and k not in ("GITHUB_ACTIONS", "CI")
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        NETRC=str(home / "no-netrc"),
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    return env


def run_xent(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str, float]:
    """``xent ARGS`` in a subprocess whose standard input is a terminal (a pty) that never
    closes; exit code, stdout, stderr and seconds taken."""
    controller, terminal = os.openpty()
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "xentcli", *args],
            cwd=cwd,
            env=env,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One ``score`` (a gate that fails) and one paired ``compare``, each logged to W&B
    (offline) and MLflow (sqlite), in a fresh working directory."""
    root = tmp_path_factory.mktemp("trackers")
    env = clean_env(root / "home")
    env.update(WANDB_DIR=str(root / "wandb-dir"), MLFLOW_TRACKING_URI=f"sqlite:///{root}/ml.db")
    (root / "wandb-dir").mkdir()
    score_args = [
        "score",
        str(PREDS),
        str(LABELS),
        "--json",
        "-o",
        "report.json",
        "--max-loss",
        "0.1",
        "--log",
        "wandb:xent-tests",
        "--log",
        "mlflow:xent-tests",
    ]
    compare_args = [
        "compare",
        str(PREDS),
        str(WEAK),
        str(LABELS),
        "--json",
        "--log",
        "wandb:xent-tests",
        "--log",
        "mlflow:xent-compare",
    ]
    return {
        "root": root,
        "env": env,
        "uri": env["MLFLOW_TRACKING_URI"],
        "score": run_xent(score_args, root, env),
        "compare": run_xent(compare_args, root, env),
    }


def wandb_records(run_dir: Path) -> list:
    """The records of an offline run's ``run-<id>.wandb`` log, decoded with W&B's own
    protobuf schema. The file is a LevelDB-style log: a 7-byte header (``:W&B``, a
    checksum, a version), then 32 KiB blocks of chunks, each with a 7-byte header
    (crc32, length, type: 1 full, 2 first, 3 middle, 4 last)."""
    from wandb.proto import wandb_internal_pb2

    (path,) = run_dir.glob("run-*.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    block, pos, records, pending = 32768, 7, [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # a block's tail too short for a header is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (1, 2):
            pending = chunk
        else:
            pending += chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def wandb_run(root: Path, stderr: str) -> tuple[Path, dict, dict]:
    """The offline run the warning names, its summary and config as W&B recorded them."""
    (line,) = [x for x in stderr.splitlines() if x.startswith("Warning: wandb:")]
    assert line.startswith("Warning: wandb: no API key configured, so the run was logged offline")
    run_dir = Path(line.split(" offline to ")[1].split(" (upload")[0])
    assert run_dir.is_dir() and run_dir.is_relative_to(root / "wandb-dir")
    assert f"wandb sync {run_dir}" in line
    summary, config = {}, {}
    for record in wandb_records(run_dir):
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            for item in record.summary.update:
                if item.key:
                    summary[item.key] = json.loads(item.value_json)
        elif kind in ("run", "config"):  # the config goes with the run record
            updates = record.run.config.update if kind == "run" else record.config.update
            for item in updates:
                if item.key:
                    config[item.key] = json.loads(item.value_json)
    return run_dir, summary, config


def mlflow_run(uri: str, experiment: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    (run,) = client.search_runs([found.experiment_id])
    return client, run


# score ---------------------------------------------------------------------------------


def test_score_logs_and_keeps_the_gates_exit_code(logged):
    code, stdout, stderr, seconds = logged["score"]
    assert code == 1, stderr  # --max-loss 0.1 fails; the trackers change nothing
    lines = stderr.splitlines()
    assert lines[-1].startswith("Gate failed: loss 0.20925 > 0.1")
    assert lines[0].startswith("Warning: wandb: no API key configured")
    assert lines[1].startswith("mlflow: logged run ")
    assert lines[1].endswith(f"to {logged['uri']} (experiment 'xent-tests')")
    assert len(lines) == 3, stderr  # no chatter of either library
    assert json.loads(stdout)["loss"] == xentcli.score(str(PREDS), str(LABELS)).loss
    assert seconds < TIMEOUT


def test_score_in_wandb(logged):
    """Summary metrics ``xent/...`` equal the JSON report's figures; the signature's
    fields are the config; the per-class table is the report's per-class rows."""
    _, stdout, stderr, _ = logged["score"]
    report = json.loads(stdout)
    run_dir, summary, config = wandb_run(logged["root"], stderr)
    for key in ("loss", "mean_loss", "sum_loss", "perplexity", "accuracy", "d2", "brier", "ece"):
        assert summary[f"xent/{key}"] == report[key], key
    assert summary["xent/n_samples"] == 450
    assert summary["xent/passed"] == 0
    assert summary["xent/gate/max_loss/passed"] == 0
    assert summary["xent/gate/max_loss/value"] == report["loss"]
    fields = dict(part.split(":", 1) for part in report["signature"].split("|"))
    assert {k: config[k] for k in fields} == fields
    assert config["signature"] == report["signature"]
    assert config["input/preds"] == str(PREDS)
    (table_file,) = run_dir.glob("files/media/table/xent/per_class_*.table.json")
    table = json.loads(table_file.read_text())
    assert table["columns"] == ["class", "n", "mean_loss", "accuracy", "sum_loss"]
    assert [row[:4] for row in table["data"]] == [
        [c["class"], c["n"], c["mean_loss"], c["accuracy"]] for c in report["per_class"]
    ]


def test_score_in_mlflow(logged, tmp_path):
    """Metrics equal the report's figures, params hold the signature's fields, and the
    artifacts are the JSON report (equal to ``--json``) and the ``-o`` file."""
    _, stdout, _, _ = logged["score"]
    report = json.loads(stdout)
    client, run = mlflow_run(logged["uri"], "xent-tests")
    metrics, params = run.data.metrics, run.data.params
    for key in ("loss", "mean_loss", "sum_loss", "perplexity", "accuracy", "d2", "brier", "ece"):
        assert metrics[key] == report[key], key
    assert metrics["n_samples"] == 450 and metrics["passed"] == 0
    fields = dict(part.split(":", 1) for part in report["signature"].split("|"))
    assert {k: params[k] for k in fields} == fields
    assert params["signature"] == report["signature"]
    assert run.data.tags["xent.command"] == "score"
    assert run.info.status == "FINISHED"
    names = {a.path for a in client.list_artifacts(run.info.run_id, "xent")}
    assert names == {"xent/score.json", "xent/report.json", "xent/figures"}
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "xent/figures")}
    assert figures == {
        f"xent/figures/{name}.png"
        for name in ("loss_curve", "loss_histogram", "reliability", "per_class")
    }
    for name in names - {"xent/figures"}:
        local = client.download_artifacts(run.info.run_id, name, str(tmp_path))
        assert Path(local).read_text() == stdout, name


# compare -------------------------------------------------------------------------------


def test_compare_logs_the_changes_and_p_values(logged):
    code, stdout, stderr, _ = logged["compare"]
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["mode"] == "paired"
    _, summary, config = wandb_run(logged["root"], stderr)
    client, run = mlflow_run(logged["uri"], "xent-compare")
    metrics = run.data.metrics
    for logged_metrics, prefix in ((summary, "xent/"), (metrics, "")):
        assert logged_metrics[f"{prefix}delta/loss"] == report["delta"]["loss"]
        assert logged_metrics[f"{prefix}rel_delta/loss"] == report["rel_delta"]["loss"]
        assert logged_metrics[f"{prefix}p_value/loss"] == report["p_value"]["loss"]
        assert logged_metrics[f"{prefix}p_value/accuracy"] == report["p_value"]["accuracy"]
        assert logged_metrics[f"{prefix}ci/delta_loss_lo"] == report["ci"]["loss"][0]
        assert logged_metrics[f"{prefix}wins"] == report["wins"]
        assert logged_metrics[f"{prefix}base/loss"] == report["base"]["loss"]
        assert logged_metrics[f"{prefix}new/accuracy"] == report["new"]["accuracy"]
    assert config["mode"] == "paired"
    assert run.data.params["signature"] == report["signature"]
    local = client.download_artifacts(run.info.run_id, "xent/compare.json", str(logged["root"]))
    assert Path(local).read_text() == stdout


# failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("gate, code", [([], 0), (["--max-loss", "0.1"], 1)])
def test_a_failing_tracker_is_one_warning(tmp_path, monkeypatch, gate, code):
    """An MLflow store that cannot be created (its folder is a file) is one ``Warning:``
    line and the exit code stays the gates'; stdout is the report alone."""
    (tmp_path / "a-file").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a-file/ml.db")
    args = ["score", str(PREDS), str(LABELS), "--json", "--log", "mlflow", *gate]
    result = CliRunner().invoke(cli, args, prog_name="xent")
    assert result.exit_code == code, result.stderr
    warnings = [x for x in result.stderr.splitlines() if x.startswith("Warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: mlflow: nothing logged: ")
    assert len(result.stderr.splitlines()) == 1 + code  # and the gate's line
    assert json.loads(result.stdout)["passed"] is (code == 0)


def test_a_tracker_that_hangs_is_given_up(tmp_path):
    """A W&B key and a server that never answers: bounded by --log-timeout, one warning."""
    env = clean_env(tmp_path / "home")
    env.update(WANDB_API_KEY="x" * 40, WANDB_BASE_URL="http://127.0.0.1:9", WANDB_DIR=str(tmp_path))
    args = ["score", str(PREDS), str(LABELS), "-q", "--log", "wandb", "--log-timeout", "2"]
    code, stdout, stderr, seconds = run_xent(args, tmp_path, env)
    assert code == 0 and stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith("Warning: wandb: "), stderr
    assert seconds < 20


def test_wandb_mode_disabled_logs_nothing(tmp_path):
    env = clean_env(tmp_path / "home")
    env.update(WANDB_MODE="disabled", WANDB_DIR=str(tmp_path))
    args = ["score", str(PREDS), str(LABELS), "-q", "--log", "wandb", "--max-loss", "0.1"]
    code, _, stderr, _ = run_xent(args, tmp_path, env)
    assert code == 1
    assert stderr.splitlines()[0] == "Gate failed: loss 0.20925 > 0.1 (--max-loss)"
    assert not list(tmp_path.glob("wandb/*run-*"))


@pytest.mark.parametrize("tracker", ["wandb", "mlflow"])
def test_without_the_extra_it_is_a_usage_error(tmp_path, monkeypatch, tracker):
    """The library missing (hidden from the import system): exit 2, one line naming the
    extra, and no report left behind (the check comes before the run)."""
    monkeypatch.setitem(sys.modules, tracker, None)
    out = tmp_path / "r.json"
    args = ["score", str(PREDS), str(LABELS), "-o", str(out), "--log", tracker]
    result = CliRunner().invoke(cli, args, prog_name="xent")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --log {tracker} needs the {tracker} library: pip install 'xentcli[{tracker}]'\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("neptune", "--log neptune: unknown tracker 'neptune'"),
        ("wandb:", "--log wandb:: give a name after ':' or none at all"),
    ],
)
def test_a_bad_log_value_is_a_usage_error(value, message):
    result = CliRunner().invoke(cli, ["score", str(PREDS), "--log", value], prog_name="xent")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}") and result.stderr.count("\n") == 1


# the extras stay unimported ------------------------------------------------------------


def test_no_extra_is_imported_without_its_option(tmp_path):
    """``xent score``, ``xent compare`` and the help of each import none of matplotlib,
    wandb or mlflow (each costs 0.3-1.5 s of start-up)."""
    code = textwrap.dedent(f"""
        import sys
        from xentcli.cli import cli
        for args in (
            ["score", {str(PREDS)!r}, {str(LABELS)!r}, "-q", "-o", {str(tmp_path / "r.md")!r}],
            ["compare", {str(PREDS)!r}, {str(WEAK)!r}, {str(LABELS)!r}, "-q"],
            ["--help"], ["score", "--help"], ["compare", "--help"],
        ):
            try:
                cli(args, prog_name="xent")
            except SystemExit as exc:
                assert exc.code == 0, (args, exc.code)
        heavy = {{"matplotlib", "wandb", "mlflow"}}
        print(sorted({{m.split(".")[0] for m in sys.modules}} & heavy), file=sys.stderr)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


# the figures' seam ---------------------------------------------------------------------


def test_figures_reach_mlflow_as_png(tmp_path, monkeypatch):
    """``Record.figures`` (PNG bytes by name; ``figures_for`` fills it from
    ``report.figures`` when that exists) arrive as artifacts ``xent/figures/NAME.png``."""
    import io

    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    monkeypatch.chdir(tmp_path)  # the store keeps artifacts in ./mlruns
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/ml.db")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    summary = xentcli.score(str(PREDS), str(LABELS))
    record = trackers.summary_record(summary, figures={"loss_curve": png})
    (line,) = trackers.send([trackers.Target("mlflow", "seam")], record, 30)
    assert not line.warning, line.text
    client, run = mlflow_run(f"sqlite:///{tmp_path}/ml.db", "seam")
    local = client.download_artifacts(run.info.run_id, "xent/figures/loss_curve.png", str(tmp_path))
    assert Path(local).read_bytes() == png


# in process: MLflow alone, which keeps no global state between runs ---------------------


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/ml.db"
    monkeypatch.chdir(tmp_path)  # the store keeps artifacts in ./mlruns: not in the repository
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    return uri


def test_compare_of_reports_quietly(tmp_path, mlflow_store):
    """Reports mode: the changes are logged; ``-q`` leaves standard error empty when the
    tracker succeeds, and without it one line says where."""
    runner = CliRunner()
    for name, preds in (("base.json", SAMPLE / "digits_probs.csv"), ("new.json", WEAK)):
        args = ["score", str(preds), str(LABELS), "-q", "-o", str(tmp_path / name)]
        assert runner.invoke(cli, args, prog_name="xent").exit_code == 0
    reports = [str(tmp_path / "base.json"), str(tmp_path / "new.json")]
    quiet = runner.invoke(
        cli, ["compare", *reports, "-q", "--log", "mlflow:quiet"], prog_name="xent"
    )
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    loud = runner.invoke(
        cli, ["compare", *reports, "--json", "--log", "mlflow:loud"], prog_name="xent"
    )
    (line,) = loud.stderr.splitlines()
    assert line.startswith("mlflow: logged run ") and line.endswith("(experiment 'loud')")
    report = json.loads(loud.stdout)
    _, run = mlflow_run(mlflow_store, "quiet")
    assert run.data.metrics["delta/loss"] == report["delta"]["loss"]
    assert run.data.metrics["rel_delta/accuracy"] == report["rel_delta"]["accuracy"]
    assert "p_value/loss" not in run.data.metrics  # reports mode has no paired test
    assert run.data.params["mode"] == "reports"


def test_mlflow_run_id_logs_into_that_run_and_leaves_it_open(mlflow_store, monkeypatch):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.create_experiment("mine")
    mine = client.create_run(experiment).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", mine)
    args = ["score", str(PREDS), str(LABELS), "-q", "--log", "mlflow"]
    assert CliRunner().invoke(cli, args, prog_name="xent").exit_code == 0
    run = client.get_run(mine)
    assert run.data.metrics["n_samples"] == 450
    assert run.info.status == "RUNNING"
