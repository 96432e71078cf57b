"""Engines: how the batches of a run are spread over threads (``--jobs``) and the pieces'
partials come back in input order, so that every figure is the one of a single thread.

The pool is a standard ``concurrent.futures.Executor``: the local engine's threads here,
a Dask client's executor for ``--engine dask`` (``run.dask``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # concurrent.futures is imported when a second batch needs threads
    from concurrent.futures import Executor, Future, ThreadPoolExecutor

MAX_DEFAULT_JOBS = 8  # SPEC: the machine's cores, at most 8

T = TypeVar("T")
R = TypeVar("R")


def jobs_for(jobs: int | None) -> int:
    """``--jobs``, or the cores this process may run on, at most ``MAX_DEFAULT_JOBS``."""
    if jobs is not None:
        return jobs
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_JOBS))


@contextmanager
def threads(jobs: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``jobs`` threads; work not started when the run ends (an error,
    Ctrl-C) is cancelled, and the work running finishes before this returns."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(jobs, thread_name_prefix="xent")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def in_order(
    pool: Executor, work: Callable[[T], R], items: Iterable[T], jobs: int
) -> Iterator[tuple[T, R]]:
    """``(item, work(item))`` for each item, computed on ``pool`` and given back in the
    items' order, with at most ``2 * jobs`` items read ahead (memory stays bounded).

    A failure comes in the order one thread would meet it: a piece's error raises when
    its turn comes, after the pieces before it; an error in reading the items raises
    after every piece read before it has been given back (or has raised its own).
    """
    pending: deque[tuple[T, Future[R]]] = deque()
    ahead = 2 * jobs
    stream = iter(items)
    try:
        while True:
            try:
                item = next(stream)
            except StopIteration:
                break
            except Exception:
                while pending:  # the pieces before the failure first, as one thread meets them
                    done, future = pending.popleft()
                    yield done, future.result()
                raise
            pending.append((item, pool.submit(work, item)))
            if len(pending) >= ahead:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        for _, future in pending:
            future.cancel()
