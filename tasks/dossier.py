"""The dossier of a claim, built in the worker (`workflows/dossier.py`).

The task takes the dossier's id, takes the build (a second task for the same build finds
nothing to do) and writes the files under STORAGE_DIR. A build left "under way" by a worker
that stopped is sent again when a consumer starts: a queued one at once, one a worker had
started once `workflows.dossier.STALE_AFTER` has passed since (it may be still at work).
"""
from __future__ import annotations

import logging
import threading

from workflows import dossier

from . import database, flask_app, huey

log = logging.getLogger("gessin.tasks")

_resent = threading.Event()
_resending = threading.Lock()


@huey.task()
def build_dossier(dossier_id: int) -> str:
    app = flask_app()
    with app.app_context(), database():
        try:
            row = dossier.build(dossier_id, app.config["STORAGE_DIR"])
        except Exception as exc:
            log.exception("dossier %s failed", dossier_id)
            dossier.fail(dossier_id, f"{type(exc).__name__}: {exc}")
            return "failed"
    return "skipped" if row is None else "ready"


@huey.on_startup()
def resend_dossiers() -> None:
    with _resending:
        if _resent.is_set():
            return
        _resent.set()
    app = flask_app()
    with app.app_context(), database():
        due = dossier.under_way()
    for dossier_id, delay in due:
        if delay:
            build_dossier.schedule((dossier_id,), delay=delay)
        else:
            build_dossier(dossier_id)
    if due:
        log.info("consumer start: %d dossier build(s) sent to the workers", len(due))
