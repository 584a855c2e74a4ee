"""The real huey consumer (`huey_consumer tasks.huey`) as a subprocess that can be killed
with SIGKILL and started again: for the fault tests and `benchmarks/faults.py`."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = Path(sys.executable).parent / "huey_consumer"


class Consumer:
    """Configured by `env`, as in production; each start appends to `log_path`."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2, flush_locks: bool = False):
        self.env = {key: value for key, value in env.items() if key != "HUEY_IMMEDIATE"}
        self.env.setdefault("PYTHONPATH", str(ROOT))
        self.log_path, self.workers, self.process = log_path, workers, None
        self.options = ["--flush-locks"] if flush_locks else []  # as production starts it (Procfile)

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CONSUMER), "tasks.huey", "--workers", str(self.workers), "--worker-type", "thread",
                 "--max-delay", "0.5", *self.options], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 8000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""
