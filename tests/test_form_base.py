"""Every form's base (`admin_views/form_base.py`): WTForms' own messages in the user's
language, with WTForms' catalogue read once per language, not on every request."""
from __future__ import annotations

from babel import support
from flask import session
from wtforms import StringField
from wtforms.validators import DataRequired

from admin_views.form_base import GessinForm, wtforms_catalogue
from models import Role

from .conftest import login
from .test_workflows import desk  # noqa: F401 - fixture


class NameForm(GessinForm):
    name = StringField(validators=[DataRequired()])


def errors_in(app, language: str | None) -> list[str]:
    with app.test_request_context("/", method="POST", data={}):
        if language:
            session["language"] = language
        form = NameForm(meta={"csrf": False})
        assert not form.validate()
        return form.errors["name"]


def test_wtforms_messages_are_in_the_users_language(app):
    assert errors_in(app, None) == ["Questo campo è obbligatorio."]
    assert errors_in(app, "en") == ["This field is required."]
    assert errors_in(app, "it") == ["Questo campo è obbligatorio."]


def test_outside_a_request_the_message_is_in_the_products_language(app):
    with app.app_context():  # a form checked by a command or a task: Italian, as app.select_locale says
        form = NameForm(meta={"csrf": False}, formdata=None)
        assert not form.validate()
        assert form.errors["name"] == ["Questo campo è obbligatorio."]


def test_the_catalogue_is_read_once_not_per_request(app, client, desk, monkeypatch):
    reads = []
    load = support.Translations.load

    def counted(dirname=None, locales=None, domain=None):
        if domain == "wtforms":
            reads.append(tuple(str(locale) for locale in locales))
        return load(dirname, locales, domain)
    wtforms_catalogue.cache_clear()
    monkeypatch.setattr(support.Translations, "load", staticmethod(counted))
    login(client, desk.users[Role.ADMIN])
    for _ in range(3):  # each list page builds the actions form, whose fields' words come from there
        assert client.get("/admin/claim/").status_code == 200
    assert reads == [("it",)]
