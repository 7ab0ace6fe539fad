"""Tasks run in forked workers give the results a serial loop gives."""

from __future__ import annotations

from audits._parallel import TaskPool, chunked


def test_chunks_cover_every_task_once():
    tasks = list(range(103))
    chunks = chunked(tasks, n_jobs=2)
    assert [t for c in chunks for t in c] == tasks
    assert len(chunks) >= 16


def test_workers_run_a_closure_and_return_everything():
    offset = 1000

    def runner(task):
        return task + offset

    tasks = list(range(40))
    with TaskPool(runner, tasks, n_jobs=2) as pool:
        parallel = sorted(r for chunk in pool.results() for r in chunk)
    with TaskPool(runner, tasks, n_jobs=1) as pool:
        serial = [r for chunk in pool.results() for r in chunk]
    assert parallel == serial == [t + offset for t in tasks]
