"""The benchmarks' timer (benchmarks/timing.py): a page's check of its answer (reading 100 KB of
HTML for a claim number) is the benchmark's work, so it runs after the clock has stopped, on
every run, and a failed check stops the benchmark."""
from __future__ import annotations

import pytest

from benchmarks import timing


@pytest.fixture
def events(monkeypatch):
    """What happened, in order: 'clock' for each reading of the timer's clock."""
    happened: list[str] = []

    def clock() -> float:  # one second more at each reading
        happened.append("clock")
        return float(happened.count("clock"))
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    return happened


def test_a_pages_check_runs_after_its_clock_stops_on_every_run(events):
    def request():
        events.append("request")
        return lambda: events.append("check")

    def floor():
        events.append("floor")
        return (20, [])  # a floor's rows are not a check

    timing.time_interleaved(request, floor, runs=3)

    warm_ups, timed = events[:6], events[6:]
    assert warm_ups == ["request", "check", "floor"] * 2
    assert timed == ["clock", "request", "clock", "check", "clock", "floor", "clock"] * 3
    assert events.count("check") == 2 + 3  # the warm-ups are checked too


def test_a_failed_check_stops_the_benchmark(events):
    def wrong():
        raise RuntimeError("no claim number on the page")

    with pytest.raises(RuntimeError, match="no claim number"):
        timing.time_interleaved(lambda: wrong, None, runs=3)


def test_a_call_that_returns_no_check_is_timed_alone(events):
    (median, _p95), floor = timing.time_interleaved(lambda: events.append("request"), None, runs=4)
    assert floor is None
    assert events[2:] == ["clock", "request", "clock"] * 4
    assert median == 1000.0  # one tick of the fake clock between the readings around each call
