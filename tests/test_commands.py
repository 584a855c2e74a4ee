"""The command-line tools: migrations and create-user."""
from __future__ import annotations

import re

import pytest

from models import ALL_MODELS, Role, User
from models.migrate import router


def test_migrations_describe_exactly_the_models(app):
    from peewee_migrate.router import compile_migrations

    from models import db
    migrations = router()
    assert migrations.diff == [], "migrations not applied"
    # peewee-migrate re-emits every index as drop+add; indexes are compared below instead.
    changes = [line.strip() for line in compile_migrations(migrations.migrator, ALL_MODELS).splitlines()
               if line.strip() and "_index(" not in line]
    assert not changes, "models changed without a migration:\n" + "\n".join(changes)
    for model in ALL_MODELS:
        table = model._meta.table_name
        expected = {declared(db, index) for index in model._meta.fields_to_index()}
        actual = {(tuple(i.columns), bool(i.unique)) for i in db.get_indexes(table)
                  if not i.name.endswith("_pkey") and not i.name.startswith("sqlite_autoindex")}
        assert actual == expected, table


def declared(db, index) -> tuple[tuple[str, ...], bool]:
    """(columns, unique) of a model's index, read from the CREATE INDEX peewee writes for it."""
    sql, _params = db.get_sql_context().sql(index).query()
    columns = re.search(r'ON "[^"]+" \(([^)]*)\)', sql).group(1)
    return tuple(c.strip().strip('"') for c in columns.split(",")), sql.startswith("CREATE UNIQUE INDEX")


def test_db_upgrade_is_idempotent(app):
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0
    assert "già aggiornato" in result.output


def test_create_user_makes_an_admin_with_a_hashed_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "primo.admin", "--role", "admin",
                                                "--password", "una-password-lunga"])
    assert result.exit_code == 0, result.output
    user = User.get(User.login == "primo.admin")
    assert user.role == Role.ADMIN and user.check_password("una-password-lunga")
    assert "una-password-lunga" not in user.password_hash


def test_create_user_prompts_for_the_password_when_not_given(app):
    result = app.test_cli_runner().invoke(args=["create-user", "chiede", "--role", "admin"],
                                          input="segreta-123\nsegreta-123\n")
    assert result.exit_code == 0, result.output
    assert User.get(User.login == "chiede").check_password("segreta-123")


@pytest.mark.parametrize("args, message", [
    (["--role", "asp_manager", "--centre", "99999999999"], "non trovata"),
    (["--role", "asp_manager"], "richiede"),
    (["--role", "admin", "--password", "corta"], "almeno 8"),
])
def test_create_user_refuses_bad_input_in_italian(app, args, message):
    if "--password" not in args:
        args = args + ["--password", "password-valida"]
    result = app.test_cli_runner().invoke(args=["create-user", "nuovo"] + args)
    assert result.exit_code != 0
    assert message in result.output
    assert not User.select().where(User.login == "nuovo").exists()


def test_create_user_links_a_repairer_by_vat_number(app, f):
    repairer = f.repairer()
    result = app.test_cli_runner().invoke(args=["create-user", "officina", "--role", "repairer",
                                                "--repairer", repairer.vat_number, "--password", "password-valida"])
    assert result.exit_code == 0, result.output
    assert User.get(User.login == "officina").repairer_id == repairer.id


def test_create_user_refuses_a_duplicate_login(app, f):
    existing = f.user()
    result = app.test_cli_runner().invoke(args=["create-user", existing.login, "--role", "admin",
                                                "--password", "password-valida"])
    assert result.exit_code != 0 and "Esiste già" in result.output
