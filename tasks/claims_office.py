"""Filing a claim once its sending to the claims office is delivered (workflows/claims_office_delivery.py).

The outbox sender calls `after_sent` as soon as a message is marked sent; a failure there
never unsends it: the sweep settles, every five minutes, any sending whose messages have
all left but whose claim was not filed (a worker stopped in between). Both take ids and
re-read: settling twice files once.
"""
from __future__ import annotations

import logging

from huey import crontab

from workflows import claims_office_delivery

from . import database, flask_app, huey

log = logging.getLogger("gessin.mail")

settle_lock = huey.lock_task("claims-office-settle")


def after_sent(email_id: int) -> None:
    """In the worker, right after outbox row `email_id` was accepted by the SMTP server."""
    try:
        sending_id = claims_office_delivery.sending_of(email_id)
        if sending_id is not None:
            outcome = claims_office_delivery.settle(sending_id)
            log.info("e-mail %s of claims-office sending %s: %s", email_id, sending_id, outcome)
    except Exception:  # noqa: BLE001 - the message is sent; the sweep settles its sending later
        log.exception("e-mail %s sent, its claims-office sending not settled: left to the sweep", email_id)


@huey.periodic_task(crontab(minute="*/5"))
@settle_lock
def settle_claims_office() -> None:
    app = flask_app()
    with app.app_context(), database():
        for sending_id in claims_office_delivery.unsettled_ids():
            try:
                claims_office_delivery.settle(sending_id)
            except Exception:  # noqa: BLE001 - one claim's conflict must not stop the others
                log.exception("claims-office sending %s not settled, tried again at the next sweep", sending_id)
