"""A Django admin over Gessin's own tables, for `benchmarks/django_grid.py` only.

Configured in code (`setup`), not by a settings module: production-like settings
(DEBUG off, so the cached template loader; persistent connections; sessions in the
database; Italian), the contrib apps admin, auth, contenttypes, sessions and messages,
and this app, whose models are unmanaged and read the tables `claim`, `repairer`,
`asp_centre`, `lawyer` and `insurance_company` that our migrations made. Django's own
migrations create only its `auth_*` and `django_*` tables beside them.

Every database alias is named after a backend ("sqlite", "postgres"); a router sends
every read and write to the one in use (`use`), so one process can measure both.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

# username -> ASP centre id of a centre's manager: what a real project would keep in a
# column of its user model, read with the user's own row (no query of its own).
CENTRE_OF_USER: dict[str, int] = {}


class Router:
    """Every model on the backend being measured."""
    alias = "default"

    def db_for_read(self, model, **hints):
        return Router.alias

    db_for_write = db_for_read


def use(alias: str) -> None:
    Router.alias = alias


def database_settings(name: str, url: str, sqlite_path=None) -> dict:
    """Django's DATABASES entry for the database our app uses at `url` (peewee's URL, pooled or not)."""
    if name == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_path)}
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"), "USER": parts.username or "", "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "", "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": None,  # persistent, as peewee's pool on our side
        "OPTIONS": {k: v[0] for k, v in parse_qs(parts.query).items() if k not in ("max_connections", "stale_timeout")},
    }


def setup(databases: dict) -> None:
    """settings.configure(...) and django.setup(); `databases` maps alias -> settings."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only-secret-key-not-for-production-0123456789",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[
            "django.contrib.admin.apps.SimpleAdminConfig",  # our sites are built in admin.py
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django_site",
        ],
        MIDDLEWARE=[  # as `django-admin startproject` writes it
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        ROOT_URLCONF="django_site.urls",
        TEMPLATES=[{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,  # with DEBUG off: the cached loader
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]},
        }],
        DATABASES={"default": {}, **databases},  # "default" unused: the router names the backend
        DATABASE_ROUTERS=["django_site.Router"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_I18N=True,
        LANGUAGE_CODE="it",
        USE_TZ=True,
        TIME_ZONE="Europe/Rome",
        STATIC_URL="/static/",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # no password is checked
    )
    django.setup()


def migrate(alias: str) -> None:
    """Django's own migrations (auth, admin, contenttypes, sessions) on `alias`; this app has none."""
    from django.core.management import call_command
    call_command("migrate", database=alias, interactive=False, verbosity=0)


def make_users(centre_id: int):
    """(superuser, staff manager of `centre_id`) on the backend in use; the manager may view,
    change and delete claims, so its grid has the checkbox column of the default action too."""
    from django.contrib.auth.models import Permission, User

    admin = User.objects.create_user("bench-admin", is_staff=True, is_superuser=True)
    manager = User.objects.create_user("bench-manager", is_staff=True)
    manager.user_permissions.set(Permission.objects.filter(
        content_type__app_label="django_site", codename__in=("view_claim", "change_claim", "delete_claim")))
    CENTRE_OF_USER[manager.username] = centre_id
    return admin, manager
