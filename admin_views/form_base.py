"""The base class of every form: Flask-WTF's, with WTForms' own messages ("Questo campo è
obbligatorio.", "Non è una opzione valida") read from WTForms' catalogue once per language
and process.

Flask-WTF reads and parses that catalogue anew on each request that builds a form, and
every list page builds one (the actions form behind "Azione di gruppo"): a third of a
millisecond a page. The words are the same; WTForms' documented hook for them,
`Meta.get_translations`, hands them from here.
"""
from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=16)
def wtforms_catalogue(locale: str) -> support.Translations:
    """WTForms' messages in `locale`, read once."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class KeptTranslations:
    """WTForms' messages in the user's language (`app.select_locale`: Italian outside a request;
    WTForms' own English without an application)."""

    def gettext(self, string: str) -> str:
        locale = get_locale()
        return string if locale is None else wtforms_catalogue(str(locale)).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        locale = get_locale()
        if locale is None:
            return singular if n == 1 else plural
        return wtforms_catalogue(str(locale)).ungettext(singular, plural, n)


TRANSLATIONS = KeptTranslations()


class GessinForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return TRANSLATIONS
