"""People who log in to the portal."""
from __future__ import annotations

import functools
import secrets

import peewee as pw
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .base import BaseModel, built_once
from .parties import AspCentre, Lawyer, Repairer, ValidatedModel
from .validators import InvalidValue


class Role:
    ADMIN = "admin"
    ASP_MANAGER = "asp_manager"
    LAWYER = "lawyer"
    REPAIRER = "repairer"

    LABELS = {
        ADMIN: _l("Call center / amministratore"),
        ASP_MANAGER: _l("Responsabile Centro ASP"),
        LAWYER: _l("Legale"),
        REPAIRER: _l("Carrozzeria"),
    }
    CHOICES = tuple(LABELS.items())
    ALL = tuple(LABELS)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


PASSWORD_MIN_LENGTH = 8


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most used passwords, as zxcvbn ships them (lower-case)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str | None):
    """Why `password` may not be a portal password (an Italian message), or None."""
    if not password or len(password) < PASSWORD_MIN_LENGTH:
        return _l("La password deve avere almeno %(num)d caratteri.", num=PASSWORD_MIN_LENGTH)
    if password.lower() in _common_passwords():
        return _l("Questa password è tra le più usate e si indovina in pochi tentativi: scegline un'altra.")
    return None


@functools.cache
def _dummy_password_hash() -> str:
    """A hash made the way users' passwords are (werkzeug's default), of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16))


def check_no_password(password: str) -> bool:
    """For a login that does not exist: as long as `User.check_password`, and always False."""
    check_password_hash(_dummy_password_hash(), password or "")
    return False


class User(ValidatedModel):
    LANGUAGES = (("it", "Italiano"), ("en", "English"))

    login = pw.CharField(max_length=64, unique=True, verbose_name=_l("Nome utente"))
    full_name = pw.CharField(max_length=200, null=True, verbose_name=_l("Nome e cognome"))
    email = pw.CharField(max_length=254, null=True, verbose_name=_l("E-mail"))
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=20, choices=Role.CHOICES, index=True, verbose_name=_l("Ruolo"))
    asp_centre = pw.ForeignKeyField(AspCentre, null=True, backref="users", on_delete="RESTRICT", verbose_name=_l("Centro ASP"))
    lawyer = pw.ForeignKeyField(Lawyer, null=True, backref="users", on_delete="RESTRICT", verbose_name=_l("Legale"))
    repairer = pw.ForeignKeyField(Repairer, null=True, backref="users", on_delete="RESTRICT", verbose_name=_l("Carrozzeria"))
    active = pw.BooleanField(default=True, verbose_name=_l("Attivo"))
    language = pw.CharField(max_length=2, choices=LANGUAGES, default="it", verbose_name=_l("Lingua"))
    last_login_at = pw.DateTimeField(null=True, verbose_name=_l("Ultimo accesso"))
    # With a device's own token, what that device's session and remember-me cookies carry
    # (Flask-Login's get_id, `UserSession`); a new one ends every session the user has open.
    session_token = pw.CharField(max_length=64, unique=True, default=new_session_token)
    device_token: str | None = None  # the device (`UserSession`) this request comes from: not a column

    unique_messages = {"login": _l("Esiste già un utente con questo nome utente.")}

    # The one party each role must be linked to, and only that one.
    LINK_FOR_ROLE = {
        Role.ADMIN: None,
        Role.ASP_MANAGER: "asp_centre",
        Role.LAWYER: "lawyer",
        Role.REPAIRER: "repairer",
    }

    def validate(self) -> None:
        if self.role not in Role.ALL:
            raise InvalidValue("role", _l("Ruolo sconosciuto: %(value)s", value=self.role))
        wanted = self.LINK_FOR_ROLE[self.role]
        for link in ("asp_centre", "lawyer", "repairer"):
            linked = getattr(self, f"{link}_id") is not None
            if link == wanted and not linked:
                raise InvalidValue(link, _l("Questo ruolo richiede il collegamento indicato."))
            if link != wanted and linked:
                raise InvalidValue(link, _l("Questo ruolo non può essere collegato a questa anagrafica."))
        if self.email:
            self._clean_contacts()

    def set_password(self, password: str) -> None:
        problem = password_problem(password)
        if problem:
            raise InvalidValue("password", problem)
        self.password_hash = generate_password_hash(password)
        self.renew_session_token()

    def renew_session_token(self) -> None:
        """Sessions opened with the old token end (saved with the rest of the row)."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """`<user token>.<device token>`: a new user token ends every device, a device's row gone ends it alone."""
        return f"{self.session_token}.{self.device_token}"

    def open_device(self) -> None:
        """A login on a new device (browser), with a row of its own; before Flask-Login's `login_user`."""
        self.device_token = UserSession.create(user=self.id).token

    @classmethod
    def by_session_token(cls, login_id: str) -> "User | None":
        """The user of the session `login_id` (`get_id`), if its user token is current and its
        device still logged in: Flask-Login's user_loader, on every request.

        The statement's text is built once (`models.base.built_once`), not node by node on each
        request, which cost more than the round trip (some 250 us)."""
        token, _, device = login_id.partition(".")
        if not token or not device:
            return None
        sql = built_once("user by session token", lambda: (
            cls.select().join(UserSession, on=(UserSession.user == cls.id))
            .where(cls.session_token == token, UserSession.token == device).sql()[0]))
        user = next(iter(cls.raw(sql, token, device)), None)
        if user is not None:
            user.device_token = device
        return user

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __str__(self) -> str:
        return self.full_name or self.login


class UserSession(BaseModel):
    """One device's login (a browser, a phone): leaving Gessin there deletes its row, so that
    device's cookies, or a copy of them, open nothing more, while the user's other devices stay
    logged in. A new user token (leaving every device, a new password, a deactivation) ends them
    all at once. Rows older than the remember-me cookie are purged each night."""

    user = pw.ForeignKeyField(User, backref="devices", on_delete="CASCADE")
    token = pw.CharField(max_length=64, unique=True, default=new_session_token)


class LoginAttempt(BaseModel):
    """Each staff login attempt (created_at is when), read to slow down password guessing."""

    login = pw.CharField(max_length=64)  # as typed, whether or not such a user exists
    address = pw.CharField(max_length=64, null=True)
    success = pw.BooleanField()

    class Meta:
        table_name = "login_attempt"
        indexes = (
            (("login", "created_at"), False),
            (("address", "created_at"), False),
            (("login", "address", "success"), False),
        )
