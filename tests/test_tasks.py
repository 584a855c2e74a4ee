"""The task queue's storage: SQLite by default, Redis when REDIS_URL is set."""
from __future__ import annotations

import os

from huey import RedisHuey, SqliteHuey

from tasks import huey, make_huey


def test_huey_uses_redis_exactly_when_redis_url_is_set():
    expected = RedisHuey if os.environ.get("REDIS_URL") else SqliteHuey
    assert isinstance(huey, expected)


def test_the_queue_storage_round_trips_a_message():
    queue = make_huey()
    queue.storage.flush_queue()
    queue.storage.enqueue(b"ping")
    assert queue.storage.queue_size() == 1
    assert queue.storage.dequeue() == b"ping"
    assert queue.storage.queue_size() == 0
