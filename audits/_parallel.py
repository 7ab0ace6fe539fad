"""Run many small independent tasks in worker processes, cheaply.

Audit runs take milliseconds, so process start-up and pickling decide the
cost. On Linux the pool forks: workers inherit the imported modules and the
runner object (which holds the user's callable, possibly a closure) without
pickling it, and only small task tuples and result dictionaries cross the
pipe. Elsewhere the pool spawns, which needs a picklable runner.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

_RUNNER: Callable[[Any], Any] | None = None


def _install(runner: Callable[[Any], Any]) -> None:
    global _RUNNER
    _RUNNER = runner


def _run_chunk(chunk: Sequence[Any]) -> list[Any]:
    assert _RUNNER is not None, "worker started without a runner"
    return [_RUNNER(task) for task in chunk]


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def chunked(tasks: Sequence[Any], n_jobs: int) -> list[Sequence[Any]]:
    """Split tasks into chunks: about eight per worker, for balance and steady progress."""
    size = max(1, len(tasks) // (8 * max(n_jobs, 1)))
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


class TaskPool:
    """Apply a runner to every task, in worker processes when ``n_jobs > 1``.

    Every chunk is submitted when the pool is entered, so the workers are
    forked before the caller starts any thread of its own (a progress bar).

    Parameters
    ----------
    runner : callable
        Applied to each task.
    tasks : sequence
        Small picklable task descriptions.
    n_jobs : int
        Worker processes; 1 runs in this process, as the results are consumed.
    """

    def __init__(self, runner: Callable[[Any], Any], tasks: Sequence[Any], n_jobs: int):
        self._runner = runner
        self._chunks = chunked(tasks, n_jobs)
        self._n_jobs = n_jobs if len(self._chunks) > 1 else 1
        self._pool: ProcessPoolExecutor | None = None
        self._pending: set[Future] = set()

    def __enter__(self) -> TaskPool:
        if self._n_jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self._n_jobs, mp_context=_context(), initializer=_install,
                initargs=(self._runner,),
            )
            self._pending = {self._pool.submit(_run_chunk, chunk) for chunk in self._chunks}
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def results(self) -> Iterator[list[Any]]:
        """Yield the results of each chunk (in chunk order within it) as chunks finish."""
        if self._pool is None:
            for chunk in self._chunks:
                yield [self._runner(task) for task in chunk]
            return
        while self._pending:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
