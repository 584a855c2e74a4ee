"""Starting real servers for tests: a free port on 127.0.0.1, and waiting until one answers."""
from __future__ import annotations

import http.client
import socket
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, processes: list, read_log, seconds: float = 60) -> None:
    """Until the app on `port` answers its OpenAPI document; fails with `read_log()` if a process dies first."""
    deadline = time.monotonic() + seconds
    while True:
        for proc in processes:
            assert proc.poll() is None, read_log()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, read_log()
        time.sleep(0.2)
