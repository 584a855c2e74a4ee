"""The clients of the intake benchmark: threads posting claims to gunicorn, each on its own
HTTP connection, and what a pass measured."""
from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from intake_payloads import DOCUMENTS, ENDPOINT, Post
from intake_server import Server, machine_cpu, postgres_cpu


class Client:
    """One WinCar client: a connection kept open while the server keeps it."""

    def __init__(self, port: int):
        self.port, self.conn, self.opened = port, None, 0

    def post(self, post: Post) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.opened += 1
        try:
            self.conn.request("POST", ENDPOINT, body=post.pieces, headers=post.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Result:
    ref: str
    status: int | str
    seconds: float
    answer: dict = field(default_factory=dict)


@dataclass
class Pass:
    label: str
    clients: int
    results: list[Result]
    wall: float
    client_cpu: float
    workers_cpu: float
    workers_system_cpu: float  # of which in the kernel
    postgres_cpu: float
    machine_busy: float  # share of all cores busy during the pass
    connections: int
    server_ms: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.results) / self.wall

    def latencies_ms(self) -> list[float]:
        return sorted(r.seconds * 1000 for r in self.results)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms())

    def p95_ms(self) -> float:
        times = self.latencies_ms()
        return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]

    def statuses(self) -> Counter:
        return Counter(r.status for r in self.results)


def run_pass(label: str, server: Server, batches: list[list[Post]]) -> Pass:
    """Each batch posted by its own client thread, all starting together; wall time to the last answer."""
    results: list[list[Result]] = [[] for _ in batches]
    clients = [Client(server.port) for _ in batches]
    start = threading.Barrier(len(batches) + 1)

    def work(k: int) -> None:
        start.wait()
        for post in batches[k]:
            began = time.perf_counter()
            try:
                status, data = clients[k].post(post)
            except Exception as exc:  # noqa: BLE001 - counted and reported: the pass fails loudly
                results[k].append(Result(post.ref, f"{type(exc).__name__}: {exc}", time.perf_counter() - began))
                continue
            elapsed = time.perf_counter() - began
            try:
                answer = json.loads(data)
            except ValueError:
                answer = {"raw": data[:300].decode(errors="replace")}
            results[k].append(Result(post.ref, status, elapsed, answer))
        clients[k].close()

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(len(batches))]
    for thread in threads:
        thread.start()
    cpu0, workers0, pg0, (busy0, total0) = time.process_time(), server.workers_cpu(), postgres_cpu(), machine_cpu()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    busy1, total1 = machine_cpu()
    workers1 = server.workers_cpu()
    return Pass(label, len(batches), [r for rs in results for r in rs], wall, time.process_time() - cpu0,
                workers1[0] - workers0[0], workers1[1] - workers0[1], postgres_cpu() - pg0,
                (busy1 - busy0) / max(total1 - total0, 1), sum(c.opened for c in clients))


def combined(label: str, passes: list[Pass]) -> Pass:
    """The rounds of one kind of pass as one: their posts together, their times and CPU added."""
    wall = sum(p.wall for p in passes)
    return Pass(label, max(p.clients for p in passes), [r for p in passes for r in p.results], wall,
                sum(p.client_cpu for p in passes), sum(p.workers_cpu for p in passes),
                sum(p.workers_system_cpu for p in passes), sum(p.postgres_cpu for p in passes), sum(p.machine_busy * p.wall for p in passes) / wall,
                sum(p.connections for p in passes))


def require_created(result: Pass) -> None:
    """Every post answered 201 with its claim number and five documents added; else fail loudly."""
    bad = [r for r in result.results if r.status != 201 or r.answer.get("attachments_added") != len(DOCUMENTS)]
    if bad:
        first = bad[0]
        raise RuntimeError(f"{result.label}: {len(bad)} of {len(result.results)} posts not created "
                           f"(statuses {dict(result.statuses())}); first: {first.ref}: {first.status} "
                           f"{json.dumps(first.answer, ensure_ascii=False)[:500]}")
    numbers = [r.answer["number"] for r in result.results]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"{result.label}: the same claim number given twice")


def print_pass(result: Pass, cores: int) -> None:
    n = len(result.results)
    server = result.server_ms
    print(f"{result.label}: {n} claims from {result.clients} client(s) in {result.wall:.2f} s: "
          f"{result.rate:.1f} claims/s")
    print(f"  latency ms: median {result.median_ms:.1f}, p95 {result.p95_ms():.1f}, max {result.latencies_ms()[-1]:.1f}; "
          f"server-side (IntakeEvent.duration_ms) median {statistics.median(server):.0f}, max {server[-1]}")
    print(f"  HTTP statuses: {dict(result.statuses())}; {result.connections} connections opened")
    print(f"  CPU per claim: gunicorn workers {result.workers_cpu / n * 1000:.0f} ms "
          f"({result.workers_system_cpu / n * 1000:.0f} in the kernel), PostgreSQL "
          f"{result.postgres_cpu / n * 1000:.0f} ms, this client {result.client_cpu / n * 1000:.1f} ms; the machine "
          f"{result.machine_busy * cores * result.wall / n * 1000:.0f} ms ({result.machine_busy:.0%} of {cores} cores busy)")

