"""The real huey consumer in a subprocess, for the tests and benchmarks that kill it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = Path(sys.executable).parent / "huey_consumer"


class Consumer:
    """`huey_consumer tasks.huey` configured by the environment as in production
    (`settings` on top of this process's environment, never HUEY_IMMEDIATE nor
    MAIL_SERVER); started again after a kill, its output appended to `log_path`."""

    def __init__(self, log_path: Path, **settings: str):
        self.env = {k: v for k, v in os.environ.items() if k not in ("HUEY_IMMEDIATE", "MAIL_SERVER")}
        self.env.update(PYTHONPATH=str(ROOT), **settings)
        self.log_path, self.process, self.kills = log_path, None, 0

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen([str(CONSUMER), "tasks.huey", "--workers", "2", "--worker-type", "thread",
                                             "--max-delay", "0.5", "--flush-locks"],
                                            cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: nothing of the worker's own shutdown runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
