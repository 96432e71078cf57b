"""Experiment trackers: ``--log wandb[:PROJECT]`` and ``--log mlflow[:EXPERIMENT]``.

A run's figures are first gathered into a tracker-neutral ``Record`` (metrics, the
signature's fields as config, the per-class table, the JSON report, the written files,
figures as PNG bytes), then each tracker sends it with its own library. wandb and mlflow
are extras, imported here only, inside the functions that send. Nothing here prints: a
tracker's outcome is one ``Line`` (where it logged, or a warning) that the command
prints on standard error. A tracker that fails or outlives ``timeout`` is a warning,
never an error: the run's exit code stays that of its gates.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io
import logging
import math
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..comparison import Comparison
from ..errors import UsageError
from ..summary import Summary

TRACKERS = ("wandb", "mlflow")
DEFAULT_PROJECT = "xent"
"""The W&B project and MLflow experiment when neither ``:NAME`` nor the tracker's own
environment variable (``WANDB_PROJECT``, ``MLFLOW_EXPERIMENT_NAME``) names one."""
DEFAULT_MLFLOW_URI = "sqlite:///mlruns.db"
"""SPEC: the sqlite store in the working directory when ``MLFLOW_TRACKING_URI`` is unset."""
SCORE_FIGURES = (
    "loss",
    "mean_loss",
    "sum_loss",
    "perplexity",
    "accuracy",
    "baseline_loss",
    "d2",
    "normalized_entropy",
    "brier",
    "ece",
    "mce",
    "n_samples",
    "n_classes",
    "clipped",
    "renormalized",
    "dropped",
    "ignored",
    "passed",
)
"""The headline figures of a score report that become metrics, by their JSON key."""


@dataclass(frozen=True)
class Target:
    """One ``--log`` value: the tracker and the project (W&B) or experiment (MLflow)."""

    tracker: str
    name: str | None = None

    @property
    def extra(self) -> str:
        """The install command of the extra this tracker needs."""
        return f"pip install 'xentcli[{self.tracker}]'"


def parse_target(text: str) -> Target:
    """``wandb``, ``wandb:PROJECT``, ``mlflow`` or ``mlflow:EXPERIMENT`` as a ``Target``.

    >>> parse_target("wandb:my-evals")
    Target(tracker='wandb', name='my-evals')
    >>> parse_target("mlflow")
    Target(tracker='mlflow', name=None)
    """
    tracker, sep, name = text.partition(":")
    if tracker not in TRACKERS:
        raise UsageError(
            f"--log {text}: unknown tracker {tracker!r}; use wandb[:PROJECT] or mlflow[:EXPERIMENT]"
        )
    if sep and not name:
        raise UsageError(f"--log {text}: give a name after ':' or none at all")
    return Target(tracker, name or None)


def check_installed(target: Target) -> None:
    """Refuse up front a tracker whose library is not installed, naming its extra.
    ``find_spec`` looks without importing (importing mlflow alone takes 1.5 s)."""
    try:
        found = importlib.util.find_spec(target.tracker) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UsageError(
            f"--log {target.tracker} needs the {target.tracker} library: {target.extra}"
        )


@dataclass(frozen=True)
class Line:
    """What a tracker has to say: ``text`` for standard error; a warning is printed even
    with ``--quiet``, where the other lines are not."""

    text: str
    warning: bool = False


@dataclass(frozen=True)
class Record:
    """Everything a tracker sends for one run of ``score`` or ``compare``.

    ``metrics`` are flat names (``loss``, ``delta/loss``) to numbers; ``config`` the
    signature's fields (``task``, ``input``, ...), the signature itself and the inputs;
    ``table`` the per-class rows under ``columns``; ``report`` the JSON report's text;
    ``files`` the reports this run wrote; ``figures`` PNG bytes by name.
    """

    command: str
    signature: str
    config: dict[str, str]
    metrics: dict[str, float]
    columns: tuple[str, ...]
    table: tuple[tuple[Any, ...], ...]
    report: str
    run_name: str
    files: tuple[str, ...] = ()
    figures: Mapping[str, bytes] = field(default_factory=dict)


def signature_fields(signature: str) -> dict[str, str]:
    """The fields of a signature as a dict, e.g. ``{"xent": "0.1", "task": "binary", ...}``.

    >>> signature_fields("xent:0.1|task:binary|base:e")
    {'xent': '0.1', 'task': 'binary', 'base': 'e'}
    """
    pairs = (part.partition(":") for part in signature.split("|") if part)
    return {key: value for key, _, value in pairs}


def _number(value: Any) -> float | None:
    """A metric's value: numbers and booleans as floats; anything else is no metric."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def _summary_metrics(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The headline figures, intervals and gates of a score report's JSON dict."""
    metrics: dict[str, float] = {}
    for key in SCORE_FIGURES:
        number = _number(data.get(key))
        if number is not None:
            metrics[prefix + key] = number
    ci = data.get("ci")
    if ci:
        for what in ("loss", "accuracy"):
            lo, hi = ci[what]
            metrics[f"{prefix}ci/{what}_lo"], metrics[f"{prefix}ci/{what}_hi"] = lo, hi
    for gate in data.get("gates", ()):
        metrics[f"{prefix}gate/{gate['name']}/passed"] = 1.0 if gate["passed"] else 0.0
        value = _number(gate["value"])
        if value is not None:
            metrics[f"{prefix}gate/{gate['name']}/value"] = value
    return metrics


def _inputs(summary: Summary) -> dict[str, str]:
    return {k: str(v) for k, v in summary.inputs.items() if v is not None}


def _run_name(command: str, inputs: Mapping[str, str], first: str) -> str:
    path = inputs.get(first) or ""
    return f"xent {command} {os.path.basename(path) or '-'}".strip()


def summary_record(
    summary: Summary, files: Sequence[str] = (), figures: Mapping[str, bytes] | None = None
) -> Record:
    """The ``Record`` of one ``xent score`` run."""
    from .formats import json_text

    data = summary.to_dict()
    inputs = _inputs(summary)
    config = {**signature_fields(summary.signature), "signature": summary.signature}
    config.update({f"input/{k}": v for k, v in inputs.items()})
    rows = tuple((c.name, c.n, c.mean_loss, c.accuracy, c.sum_loss) for c in summary.per_class)
    return Record(
        command="score",
        signature=summary.signature,
        config=config,
        metrics=_summary_metrics(data),
        columns=("class", "n", "mean_loss", "accuracy", "sum_loss"),
        table=rows,
        report=json_text(data),
        run_name=_run_name("score", inputs, "preds"),
        files=tuple(files),
        figures=dict(figures or {}),
    )


def comparison_record(
    comparison: Comparison,
    files: Sequence[str] = (),
    figures: Mapping[str, bytes] | None = None,
) -> Record:
    """The ``Record`` of one ``xent compare`` run: both sides' figures (``base/...``,
    ``new/...``), the changes (``delta/...``, ``rel_delta/...``) and, paired, the
    interval of the change, the p-values and the rows each model won."""
    from .formats import json_text

    data = comparison.to_dict()
    metrics = {
        **_summary_metrics(data["base"], "base/"),
        **_summary_metrics(data["new"], "new/"),
    }
    for section in ("delta", "rel_delta", "p_value"):
        for key, value in (data.get(section) or {}).items():
            number = _number(value)
            if number is not None:
                metrics[f"{section}/{key}"] = number
    if comparison.paired is not None:
        lo, hi = data["ci"]["loss"]
        metrics["ci/delta_loss_lo"], metrics["ci/delta_loss_hi"] = lo, hi
        for key in ("n_paired", "wins", "losses", "ties"):
            metrics[key] = float(data[key])
    for gate in data["gates"]:
        metrics[f"gate/{gate['name']}/passed"] = 1.0 if gate["passed"] else 0.0
        value = _number(gate["value"])
        if value is not None:
            metrics[f"gate/{gate['name']}/value"] = value
    metrics["passed"] = 1.0 if comparison.passed else 0.0
    base_inputs, new_inputs = _inputs(comparison.base), _inputs(comparison.new)
    config = {
        **signature_fields(comparison.signature),
        "signature": comparison.signature,
        "mode": comparison.mode,
    }
    config.update({f"base/{k}": v for k, v in base_inputs.items()})
    config.update({f"new/{k}": v for k, v in new_inputs.items()})
    rows = tuple(
        (c.name, c.change.base, c.change.new, c.change.delta) for c in comparison.per_class
    )
    return Record(
        command="compare",
        signature=comparison.signature,
        config=config,
        metrics=metrics,
        columns=("class", "base_mean_loss", "new_mean_loss", "delta"),
        table=rows,
        report=json_text(data),
        run_name=_run_name("compare", new_inputs, "preds"),
        files=tuple(files),
        figures=dict(figures or {}),
    )


def figures_for(result: Summary | Comparison) -> dict[str, bytes]:
    """The figures a tracker logs, as PNG bytes by name: the seam to ``report.figures``.

    Uses ``report.figures.png_figures(result)`` when that module exists, exposes it and
    matplotlib (extra ``xentcli[plot]``) is installed; else no figures. A tracker never
    fails for want of a figure.
    """
    if importlib.util.find_spec("matplotlib") is None:
        return {}
    try:
        module = importlib.import_module(f"{__package__}.figures")
    except ImportError:
        return {}
    make: Callable[[Any], Mapping[str, bytes]] | None = getattr(module, "png_figures", None)
    if make is None:
        return {}
    try:
        return dict(make(result))
    except Exception:  # a figure that cannot be drawn costs the figure, not the run
        return {}


def send(targets: Sequence[Target], record: Record, timeout: float) -> list[Line]:
    """Send ``record`` to every target, each given at most ``timeout`` seconds; one
    ``Line`` per target. What the libraries print on ``sys.stdout`` (which may carry
    the JSON report) is swallowed, and so are their Python warnings; their logging is
    raised to errors only. A tracker still running when given up keeps its output
    swallowed to the end: nothing of it may reach standard output after the report."""
    senders: dict[str, Callable[[Target, Record, float], str]] = {
        "wandb": _send_wandb,
        "mlflow": _send_mlflow,
    }
    stdout = sys.stdout
    sys.stdout = io.StringIO()
    gave_up = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lines = []
            for target in targets:
                line, alive = _bounded(
                    target,
                    functools.partial(senders[target.tracker], target, record, timeout),
                    timeout,
                )
                gave_up = gave_up or alive
                lines.append(line)
    finally:
        if not gave_up:
            sys.stdout = stdout
    return lines


class _Offline(Exception):
    """W&B ran offline because no API key is configured: a warning that still logged."""


def _bounded(target: Target, work: Callable[[], str], timeout: float) -> tuple[Line, bool]:
    """Run ``work`` in a daemon thread, waiting at most ``timeout`` seconds (a tracker
    library may block on a network that never answers); its outcome as a ``Line``, and
    whether the thread is still running."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["text"] = work()
        except _Offline as exc:
            outcome["offline"] = str(exc)
        except BaseException as exc:  # whatever the library raises is a warning
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"xent-{target.tracker}", daemon=True)
    worker.start()
    worker.join(timeout)
    name = target.tracker
    if worker.is_alive():
        return Line(f"Warning: {name}: gave up after {timeout:g} s (--log-timeout)", True), True
    if "offline" in outcome:
        return Line(f"Warning: {name}: {outcome['offline']}", True), False
    if "error" in outcome:
        text = _error_text(outcome["error"])
        return Line(f"Warning: {name}: nothing logged: {text}", True), False
    return Line(f"{name}: {outcome['text']}"), False


def _error_text(exc: BaseException) -> str:
    """One line of a library's exception: its first line, type when it has no text."""
    text = str(exc).strip().splitlines()
    first = text[0].strip() if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _png_files(figures: Mapping[str, bytes], folder: str) -> dict[str, str]:
    """Write each figure as ``NAME.png`` in ``folder``; the paths by name."""
    paths = {}
    for name, png in figures.items():
        path = os.path.join(folder, f"{name}.png")
        with open(path, "wb") as f:
            f.write(png)
        paths[name] = path
    return paths


# W&B ---------------------------------------------------------------------------------


def _send_wandb(target: Target, record: Record, timeout: float) -> str:
    """One W&B run: the metrics as its summary (``xent/loss``, ...), the per-class table,
    the figures, the signature's fields as config (the reports go to MLflow only).
    ``WANDB_MODE`` is honoured; with no API key configured the run is offline (never a
    prompt); ``init_timeout`` bounds a network that does not answer."""
    import wandb

    wandb.setup(settings=wandb.Settings(silent=True))  # login's own lines too
    mode = os.environ.get("WANDB_MODE", "").strip().lower() or None
    offline_reason = None
    # prompt=False: a terminal on stdin must not be asked for a key
    if mode in (None, "online", "run") and not wandb.login(prompt=False, verify=False):
        if mode is not None:
            raise RuntimeError(
                f"WANDB_MODE={mode} but no API key is configured (wandb login, or WANDB_API_KEY)"
            )
        offline_reason = "no API key configured"
        mode = "offline"
    settings = wandb.Settings(
        silent=True,
        console="off",  # never wrap our stdout/stderr
        init_timeout=timeout,
        save_code=False,
        disable_git=True,
        x_save_requirements=False,
        x_disable_stats=True,
        x_disable_machine_info=True,
    )
    project = target.name or os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT
    run = wandb.init(
        project=project,
        mode=mode,  # type: ignore[arg-type]
        job_type="eval",
        name=None if os.environ.get("WANDB_NAME") else record.run_name,
        config=record.config,
        settings=settings,
    )
    try:
        if run.disabled:
            return "WANDB_MODE=disabled: nothing logged"
        run.summary.update({f"xent/{k}": v for k, v in record.metrics.items()})
        logged: dict[str, Any] = {
            "xent/per_class": wandb.Table(  # W&B keeps MAX_ROWS of a logged table
                columns=list(record.columns),
                data=[list(r) for r in record.table[: wandb.Table.MAX_ROWS]],
            )
        }
        with tempfile.TemporaryDirectory(prefix="xent-wandb-") as folder:
            for name, path in _png_files(record.figures, folder).items():
                logged[f"xent/figures/{name}"] = wandb.Image(path)
            run.log(logged)
            where = run.settings.sync_dir if run.offline else run.url
            offline = run.offline
        run.finish()
    except BaseException:
        run.finish(exit_code=1)
        raise
    if offline_reason is not None:
        raise _Offline(
            f"{offline_reason}, so the run was logged offline to {where} "
            f"(upload it with: wandb sync {where})"
        )
    if offline:
        return f"logged offline to {where} (upload it with: wandb sync {where})"
    return f"logged run {record.run_name!r} to {where}"


# MLflow ------------------------------------------------------------------------------


def _send_mlflow(target: Target, record: Record, timeout: float) -> str:
    """One MLflow run through ``MlflowClient`` (no global active run): the metrics, the
    signature's fields as params, the JSON report, written files and figures as
    artifacts under ``xent/``. ``MLFLOW_RUN_ID`` logs into that run and leaves it open."""
    for name in ("mlflow", "alembic"):  # "Creating initial MLflow database tables..."
        logging.getLogger(name).setLevel(logging.ERROR)
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    for name in ("mlflow", "alembic"):  # mlflow sets its level again on import
        logging.getLogger(name).setLevel(logging.ERROR)
    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_MLFLOW_URI
    client = MlflowClient(tracking_uri=uri)
    run_id = os.environ.get("MLFLOW_RUN_ID")
    if run_id:
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id).name
    else:
        experiment = target.name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_PROJECT
        found = client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id if found is not None else client.create_experiment(experiment)
        )
        run = client.create_run(experiment_id, run_name=record.run_name)
        run_id = run.info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in record.metrics.items() if not math.isnan(v)]
    params = [Param(k, v) for k, v in record.config.items()]
    tags = [RunTag("xent.command", record.command)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    client.log_text(run_id, record.report, f"xent/{record.command}.json")
    for path in record.files:
        client.log_artifact(run_id, path, "xent")
    if record.figures:
        with tempfile.TemporaryDirectory(prefix="xent-mlflow-") as folder:
            _png_files(record.figures, folder)
            client.log_artifacts(run_id, folder, "xent/figures")
    if not os.environ.get("MLFLOW_RUN_ID"):
        client.set_terminated(run_id)
    return f"logged run {run_id} to {uri} (experiment {experiment!r})"
