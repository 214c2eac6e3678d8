"""Fit and forecast many series in worker processes, each with single-threaded BLAS.

The fits are small linear-algebra problems: BLAS threads only fight each other (and the other
worker) for the cores, so every worker limits OpenBLAS/MKL/OpenMP to one thread
(``threadpoolctl``, which also works on libraries already loaded) and the environment
variables are set for anything loaded later. One process per core.

Workers are forked from a clean *forkserver* process, not from the caller: a plain fork would
copy the caller's open database connections, and a child closing its copy can break the
parent's PostgreSQL session.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from threadpoolctl import threadpool_limits

Item = TypeVar("Item")
Result = TypeVar("Result")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def single_threaded_blas() -> None:
    """Limit this process's numerical libraries to one thread each."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    threadpool_limits(1)


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_in_processes(function: Callable[[Item], Result], items: Iterable[Item], workers: int | None = None) -> list[Result]:
    """``[function(item) for item in items]`` over ``workers`` processes (default: one per
    core), results in input order. One worker (or one item) runs in this process, with BLAS
    limited to one thread for the duration."""
    items = list(items)
    workers = min(workers or default_workers(), len(items))
    if workers <= 1:
        with threadpool_limits(1):
            return [function(item) for item in items]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["energy.forecasts.dayahead"])  # imported once, not per worker
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=single_threaded_blas) as pool:
        return list(pool.map(function, items))
