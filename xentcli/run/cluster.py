"""``--engine dask``: the same run, its pieces scored on a Dask cluster.

The client opens the inputs, plans the columns and settles the decisions on the first
rows (``_Run.settle``), exactly as ``score`` does; the input is cut into pieces of whole
Parquet row groups (a file each when there are many files), and one task per piece
(``score_piece``) opens its rows by their global positions, scores them against the
shipped decisions and returns its partials. The client merges them in input order, so
the ``Summary`` is the local engine's to the last bit. Only Dask's futures are used
(``Client.map``), never ``dask.dataframe``: xent's own readers run inside each task.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, UsageError
from ..io.persample import PartsTarget
from ..io.source import Source, open_source
from ..options import Options
from ..summary import SampleSink, Summary
from .align import Aligner, Layout
from .engine import jobs_for
from .pipeline import Piece, Progress, Settled, _Run, located, open_run

FILES_PER_WORKER = 4  # fewer files than this per worker thread: a piece per row group


@dataclass(frozen=True)
class PieceJob:
    """What a task needs to score one piece: the inputs as given (paths or URLs, which
    the worker opens itself, so no open file or credential travels), the plan of the
    columns, the settled decisions and the piece's rows (None: all of them)."""

    preds: Any
    labels: Any
    options: Options
    layout: Layout
    class_weights: dict[str, float] | None
    settled: Settled
    rows: tuple[int, int] | None
    collect: bool = False  # --per-sample: the rows come back to be written in order
    parts: PartsTarget | None = None  # --per-sample DIR: the worker writes the rows
    index: int = 0  # the piece's place in input order: its part file's number


def score_piece(job: PieceJob) -> Piece:
    """On a worker: one piece of the input read, checked and scored against the run's
    decisions; errors name the whole input's rows."""
    options = job.options
    preds = open_source(job.preds, "preds", options.preds_format, options.no_header)
    labels = (
        open_source(job.labels, "labels", options.labels_format, options.no_header)
        if job.labels is not None
        else None
    )
    run = _Run(preds, labels, job.layout, options, job.class_weights)
    run.adopt(job.settled)
    aligner = Aligner(preds, labels, job.layout, run.batch_rows(), options.classes, job.rows)
    with located(preds, labels):
        piece = run.piece_of(aligner, job.collect or job.parts is not None)
    if job.parts is not None:
        if piece.samples:
            job.parts.write(job.index, piece.samples)
        piece = Piece(piece.accumulator, piece.counts)
    return piece


def score_on_dask(
    preds: Any,
    labels: Any,
    options: Options,
    sink: SampleSink | PartsTarget | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Score on a Dask cluster: ``options.scheduler``, else ``DASK_SCHEDULER_ADDRESS``,
    else a local cluster of ``--jobs`` worker processes, closed when the run ends.

    Per-sample rows go to ``sink`` through the client in input order, or, given a
    ``PartsTarget``, each worker writes its piece's rows as a part file."""
    parts = sink if isinstance(sink, PartsTarget) else None
    rows_sink = None if isinstance(sink, PartsTarget) else sink
    if options.id_col is not None:
        raise UsageError(_NO_JOIN)
    if "-" in (preds, labels):
        raise UsageError(
            "--engine dask cannot read standard input: each worker opens the inputs "
            "itself; give a path or URL, or use the local engine"
        )
    run = open_run(preds, labels, options)
    with located(run.preds, run.labels):
        if run.layout.joined:
            raise UsageError(
                f"{run.layout.join}; --engine dask cannot join rows on a key yet (a join "
                "needs a shuffle across workers): use the local engine (--jobs)"
            )
        settled = run.settle()
        with dask_client(options) as client:
            threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
            pieces = piece_rows(run.preds, run.labels, max(threads, 1))
            jobs = [
                PieceJob(
                    preds,
                    labels,
                    options,
                    run.layout,
                    run.class_weights,
                    settled,
                    rows,
                    collect=rows_sink is not None,
                    parts=parts,
                    index=index,
                )
                for index, rows in enumerate(pieces)
            ]
            futures = client.map(score_piece, jobs, pure=False)
            try:
                for future, rows in zip(futures, pieces, strict=True):
                    run.absorb(_result(future), rows_sink)
                    if progress is not None:
                        done = rows[1] if rows is not None else run.preds.num_rows or 0
                        progress(done, run.preds.fraction_done(done))
            finally:
                client.cancel(futures)
        return run.finish(unmatched=0 if run.labels is not None else None)


_NO_JOIN = (
    "--id-col is not supported with --engine dask yet (a join by key needs a shuffle "
    "across workers); pair the rows by position, or use the local engine"
)


def _result(future: Any) -> Piece:
    """A task's piece; a worker lost more often than Dask retries is one error line."""
    from distributed import KilledWorker

    try:
        piece: Piece = future.result()
    except KilledWorker as error:
        raise InputError(
            f"a Dask worker died while scoring a piece ({error}); see the workers' logs "
            "(memory limits are the usual cause)"
        ) from None
    return piece


def piece_rows(preds: Source, labels: Source | None, threads: int) -> list[tuple[int, int] | None]:
    """The pieces' rows ``[start, stop)``: a piece per Parquet file when there are many
    files, else per row group; one piece of all the rows (None) for other formats."""
    if preds.parts is None:
        return [None]
    if len(preds.parts) >= FILES_PER_WORKER * threads:
        counts = [sum(groups) for groups in preds.parts]
    else:
        counts = [count for groups in preds.parts for count in groups]
    pieces: list[tuple[int, int] | None] = []
    start = 0
    for count in counts:
        if count:
            pieces.append((start, start + count))
        start += count
    if len(pieces) <= 1:
        return [None]
    if labels is not None and labels.parts is None:
        raise UsageError(
            f"--engine dask reads each piece's labels by their row numbers, which "
            f"{labels.name} ({labels.format}) cannot give; write LABELS as Parquet, or "
            "put the labels in a column of PREDS"
        )
    return pieces


def worker_version() -> str:
    """The xentcli version a worker imports (``Client.run`` calls it on each)."""
    from ..version import __version__

    return __version__


def _same_version(client: Any, address: str) -> None:
    """Workers that run another xentcli (or none) would score otherwise: refuse."""
    from ..version import __version__

    try:
        versions = client.run(worker_version)
    except Exception as error:  # a worker that cannot import xentcli fails to unpickle
        raise UsageError(
            f"the Dask workers at {address} cannot run xentcli ({type(error).__name__}: "
            f"{error}); install xentcli {__version__} on every worker"
        ) from None
    other = {v for v in versions.values() if v != __version__}
    if other:
        raise UsageError(
            f"the Dask workers at {address} run xentcli {', '.join(sorted(other))}, this "
            f"client {__version__}; install the same version on both"
        )


@contextmanager
def dask_client(options: Options) -> Iterator[Any]:
    """A client of the scheduler named by ``--scheduler`` (an address or a scheduler
    file) or ``DASK_SCHEDULER_ADDRESS``; else of a local cluster of ``--jobs`` worker
    processes (one thread each), which is always closed."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'xentcli[dask]'") from None
    address = options.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            # waits Dask's distributed.comm.timeouts.connect (30 s by default)
            file = os.path.isfile(address)
            client = Client(scheduler_file=address) if file else Client(address)
        except (OSError, TimeoutError, ValueError) as error:
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        except (AssertionError, KeyError, TypeError):  # a scheduler file without an address
            raise UsageError(
                f"{address} is not a Dask scheduler file (no scheduler address in it)"
            ) from None
        try:
            _same_version(client, address)
            yield client
        finally:
            client.close()
        return
    # Dask's workers default to MALLOC_TRIM_THRESHOLD_=65536, which halves this job's
    # throughput (each batch's fresh arrays are given back and faulted in again).
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=jobs_for(options.jobs),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # the scheduler's HTTP routes on a free local port, not 8787 with a warning
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()
