"""Flask-Mail, as the outbox uses it, with its gaps closed here.

- `OutboxMail.connect()` reads the app's configuration when called (Flask-Mail reads it
  once, at `init_app`), and gives an `OutboxConnection`.
- `OutboxConnection.configure_host` opens the session with RFC 5321's timeouts per phase
  (tasks/smtp.py: Flask-Mail 0.10 sets no timeout, and a hung server would outlive the
  row's lock), verified TLS, and never smtplib's debug output (it prints credentials and
  bodies: `MAIL_DEBUG` is 0 and not read here). A QUIT that fails after an accepted
  message only closes the socket: it must not make the message look unsent.
- `MAIL_SUPPRESS_SEND` is set explicitly (config.py: False), so the tests, which run with
  TESTING on, deliver to a real SMTP server like production.
- `OutboxConnection.send` calls `before_data` just before DATA and keeps the server's reply
  to it, which the outbox needs for at-most-once delivery (tasks/mail.py).
"""
from __future__ import annotations

import email
import email.policy
import smtplib
import ssl
from typing import Callable

from flask import current_app
from flask_mail import Connection, Mail, Message

from . import smtp


# Headers on one line up to RFC 5322's limit: the 78-column folding Flask-Mail leaves to the
# email package breaks a subject that starts with "[" right after "Subject:", and readers
# then show it with a leading blank.
ONE_LINE_HEADERS = email.policy.SMTP.clone(max_line_length=998)


class OutboxMessage(Message):
    """Flask-Mail's message, its subject written again on one line once composed."""

    def as_bytes(self) -> bytes:
        composed = email.message_from_bytes(super().as_bytes(), policy=ONE_LINE_HEADERS)
        if self.subject:
            del composed["Subject"]
            composed["Subject"] = self.subject
        return composed.as_bytes()

    def as_string(self) -> str:
        return self.as_bytes().decode("ascii", "replace")


class OutboxConnection(Connection):
    """One SMTP session, reused for a batch of messages."""

    def configure_host(self) -> smtp.PhasedSMTP:
        state = self.mail
        host = smtp.PhasedSMTP_SSL(context=ssl.create_default_context()) if state.use_ssl else smtp.PhasedSMTP()
        try:
            host.connect(state.server, int(state.port or 25))
            if state.use_tls:
                host.starttls(context=ssl.create_default_context())
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type, exc_value, tb) -> None:
        self.close()

    def close(self) -> None:
        """QUIT, or only close the socket if QUIT fails."""
        host, self.host = self.host, None
        if host is None:
            return
        try:
            host.quit()
        except (smtplib.SMTPException, OSError):
            host.close()

    def send(self, message: Message, envelope_from=None, before_data: Callable[[], None] | None = None) -> None:
        """Flask-Mail's send; `before_data` runs just before the DATA command."""
        if self.host is None:
            raise smtplib.SMTPServerDisconnected("the SMTP session is closed")
        self.host.before_data, self.host.data_reply = before_data, None
        super().send(message, envelope_from)

    @property
    def data_reply(self) -> tuple[int, bytes] | None:
        """The server's reply to the end of the last message's DATA."""
        return self.host.data_reply if self.host is not None else None

    @property
    def awaiting_data_reply(self) -> bool:
        """True when the last send failed between the final "." and its reply: delivery unknown."""
        return bool(self.host is not None and self.host.awaiting_data_reply)


class OutboxMail(Mail):
    def connect(self) -> OutboxConnection:
        """A connection with the configuration as it is now."""
        return OutboxConnection(self.init_mail(current_app.config, current_app.debug, current_app.testing))


mail = OutboxMail()
