"""gunicorn for the intake benchmark, and where the CPU goes: its workers, PostgreSQL, the machine.

The server starts in the repository, so it reads `gunicorn.conf.py` (the production
settings); its output goes to a log file in the benchmark's temp directory.
"""
from __future__ import annotations

import http.client
import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MALLOC_TUNABLES = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["MALLOC_TUNABLES"]  # as the README sets it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_bin() -> str:
    local = Path(sys.executable).parent / "gunicorn"
    return str(local) if local.exists() else (shutil.which("gunicorn") or str(ROOT / ".venv" / "bin" / "gunicorn"))


APP = ("app", "app:create_app()", "/api/v1/openapi.json")  # (name, gunicorn's target, a GET it answers 200)
FLOOR = ("floor", "benchmarks.intake_floor_app:app", "/ping")


class Server:
    """gunicorn serving `served` (APP or FLOOR) on a free port of 127.0.0.1; its output goes
    to a log file."""

    def __init__(self, workers: int, env: dict, work_dir: Path, served: tuple[str, str, str] = APP):
        self.workers, self.env = workers, env
        self.name, self.target, self.probe = served
        self.port = free_port()
        malloc = "tuned" if "GLIBC_TUNABLES" in env else "default"
        self.log_path = work_dir / f"gunicorn-{self.name}-{workers}w-{malloc}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [gunicorn_bin(), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--no-control-socket", self.target],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every worker is up and the app answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", self.probe)
                    status = conn.getresponse().status
                    conn.close()
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not answering on 127.0.0.1:{self.port} after {timeout:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The workers: processes whose parent is gunicorn's master."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return pids

    def workers_cpu(self) -> tuple[float, float]:
        """CPU seconds the workers have used so far: (user + system, system). The system
        (kernel) part is where an untuned malloc shows, faulting in fresh pages."""
        ticks = os.sysconf("SC_CLK_TCK")
        user = system = 0
        for pid in self.worker_pids():
            fields = _stat(pid)
            if fields is not None:
                user, system = user + int(fields[11]), system + int(fields[12])
        return (user + system) / ticks, system / ticks

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _stat(pid) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def postgres_cpu() -> float:
    """CPU seconds of the local PostgreSQL server: its live processes, plus what its exited
    children (a backend per connection) left in the postmaster's cutime/cstime. Includes
    other clients' backends; 0 when the server is not local or not visible."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    processes[int(entry.name)] = _stat(entry.name)
            except OSError:
                continue
    total = 0.0
    for fields in processes.values():
        if fields is None:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if int(fields[1]) not in processes:  # the postmaster: its reaped children too
            total += int(fields[13]) + int(fields[14])
    return total / ticks


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return total - idle, total


def background_busy(seconds: float = 2.0) -> float:
    """Share of the cores busy while this benchmark does nothing: other processes' load."""
    busy0, total0 = machine_cpu()
    time.sleep(seconds)
    busy1, total1 = machine_cpu()
    return (busy1 - busy0) / max(total1 - total0, 1)


