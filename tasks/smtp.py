"""One SMTP session with the timeouts RFC 5321 §4.5.3.2 recommends, phase by phase.

smtplib has a single socket timeout; `PhasedSMTP` sets the socket's timeout at the
start of each phase (`sock.settimeout`, public methods only). A server that takes
minutes to acknowledge the end of DATA (content filters, slow queues) is waited for:
giving up earlier on a message it then delivers is what sent messages twice.

`before_data` is called just before the DATA command: the outbox commits its "being
sent" mark there, so a message is only ever in flight with that mark recorded.
Flask-Mail's connection opens these sessions (tasks/mailer.py `OutboxConnection`).
"""
from __future__ import annotations

import re
import smtplib
from typing import Callable

# Seconds. "command" covers EHLO/HELO, STARTTLS, AUTH, RSET and QUIT, for which the RFC
# names no figure: they get MAIL's five minutes.
TIMEOUTS = {
    "greeting": 300,   # initial 220
    "command": 300,
    "mail": 300,       # MAIL
    "rcpt": 300,       # RCPT
    "data": 120,       # DATA initiation (the 354)
    "block": 180,      # the message's bytes
    "end": 600,        # DATA termination: the reply to the final "."
}
# The longest one session can last (connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA,
# data, end): a row's lock ceiling must be past it.
SESSION_LIMIT = TIMEOUTS["greeting"] + 4 * TIMEOUTS["command"] + TIMEOUTS["mail"] + TIMEOUTS["rcpt"] \
    + TIMEOUTS["data"] + TIMEOUTS["block"] + TIMEOUTS["end"]

_LINE_END = re.compile(r"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class PhasedMixin:
    """Per-phase timeouts and the DATA hooks, over smtplib.SMTP or SMTP_SSL."""

    before_data: Callable[[], None] | None = None
    #: True from the final "." until its reply: a failure then leaves delivery unknown.
    awaiting_data_reply = False
    #: (code, text) the server answered to the end of DATA.
    data_reply: tuple[int, bytes] | None = None

    def phase(self, name: str) -> None:
        self.timeout = TIMEOUTS[name]
        if self.sock is not None:
            self.sock.settimeout(TIMEOUTS[name])

    def connect(self, host="localhost", port=0, source_address=None):
        self.timeout = TIMEOUTS["greeting"]  # the socket is made with it, and the 220 read under it
        return super().connect(host, port, source_address)

    def ehlo(self, name=""):
        self.phase("command")
        return super().ehlo(name)

    def helo(self, name=""):
        self.phase("command")
        return super().helo(name)

    def starttls(self, *args, **kwargs):
        self.phase("command")
        return super().starttls(*args, **kwargs)

    def login(self, user, password, *, initial_response_ok=True):
        self.phase("command")
        return super().login(user, password, initial_response_ok=initial_response_ok)

    def rset(self):
        self.phase("command")
        return super().rset()

    def quit(self):
        self.phase("command")
        return super().quit()

    def mail(self, sender, options=()):
        self.phase("mail")
        return super().mail(sender, options)

    def rcpt(self, recip, options=()):
        self.phase("rcpt")
        return super().rcpt(recip, options)

    def data(self, msg):
        """smtplib's DATA, with its three timeouts and `before_data` first."""
        if self.before_data is not None:
            self.before_data()
        self.phase("data")
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = _LINE_END.sub("\r\n", msg).encode("ascii")
        content = _LEADING_DOT.sub(b"..", msg)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        self.phase("block")
        self.send(content + b".\r\n")
        self.awaiting_data_reply = True
        self.phase("end")
        code, reply = self.getreply()
        self.awaiting_data_reply = False
        self.data_reply = (code, reply)
        return code, reply


class PhasedSMTP(PhasedMixin, smtplib.SMTP):
    pass


class PhasedSMTP_SSL(PhasedMixin, smtplib.SMTP_SSL):
    pass


def reply_text(reply: tuple[int, bytes] | None) -> str | None:
    """The server's answer to DATA as the outbox keeps it ("250 2.0.0 Ok: queued as 4F1C2")."""
    if reply is None:
        return None
    code, text = reply
    return f"{code} {text.decode('utf-8', 'replace')}"[:1000]
