"""The processes that do timed work (huey consumers), each alive while its heartbeat is recent."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel, utcnow


class Worker(BaseModel):
    """One consumer process. Work it holds (an outbox row, a lease) names it in a lock
    column; the lock is free once the worker is gone: its heartbeat stale, or its
    process no longer running on its host."""

    name = pw.CharField(max_length=64, unique=True, verbose_name=_l("Processo di invio"))
    host = pw.CharField(max_length=255, verbose_name=_l("Host"))
    pid = pw.IntegerField(verbose_name=_l("Processo"))
    heartbeat_at = pw.DateTimeField(default=utcnow, index=True, verbose_name=_l("Ultimo segnale"))
