"""How the benchmarks time a call beside its floor: in turns, with each answer checked after
the clock has stopped (a page's check reads its HTML, which is the benchmark's work, not the page's)."""
from __future__ import annotations

import statistics
import time


def time_interleaved(request, floor, runs: int) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """(median, p95) milliseconds of `request` and of its `floor` (None: none), each run
    one call of each, so both meet the same machine at the same moment. A side that returns
    a callable returns the check of its answer: it runs after the clock has stopped."""
    for _ in range(2):
        checked(request())
        if floor:
            checked(floor())
    times, floors = [], []
    for _ in range(runs):
        started = time.perf_counter()
        check = request()
        times.append((time.perf_counter() - started) * 1000)
        checked(check)
        if floor:
            started = time.perf_counter()
            check = floor()
            floors.append((time.perf_counter() - started) * 1000)
            checked(check)
    return summary(times), summary(floors) if floor else None


def checked(check) -> None:
    """Run what a timed call returned as the check of its answer, if it returned one."""
    if callable(check):
        check()


def summary(times: list[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return statistics.median(times), p95
