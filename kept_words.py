"""Translated words looked up once per language and process, not at every use.

Flask-Babel finds a word's translation anew at each `gettext`: the request's context, the
domain, the catalogue for the locale, then the word, some 7 µs. A grid page says about
130 words (its states, column labels, filters and actions), and a template's `_()` goes
the same way. The catalogues are compiled before the application starts and do not change
while it runs, so a word's translation in a language is kept the first time it is asked
for: `KeptDomain` serves `gettext` and `lazy_gettext` (it is `GessinBabel`'s domain), and
`install_template_words` gives the templates' `_()` the same.

Only words are kept, each with its language: the code's and the templates' literal
strings, a bounded set (`MAX_KEPT_WORDS` guards it should text ever be passed in). Variables
are put in afterwards, as Flask-Babel does, and plural forms (`ngettext`) are not kept.
"""
from __future__ import annotations

from functools import cached_property

from babel import Locale
from flask_babel import Babel, Domain, get_locale, get_translations

MAX_KEPT_WORDS = 20_000  # the catalogue has under 900 words, in two languages


class KeptDomain(Domain):
    """Flask-Babel's domain, with each word's translation kept per language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept: dict[tuple[Locale | None, str], str] = {}

    def word(self, string: str) -> str:
        """`string` in the current language."""
        key = (get_locale(), string)  # babel's Locale hashes its parts: no identifier string made per word
        word = self.kept.get(key)
        if word is None:
            word = self.get_translations().ugettext(string)
            if len(self.kept) < MAX_KEPT_WORDS:
                self.kept[key] = word
        return word

    def gettext(self, string, **variables):
        word = self.word(string)
        return word % variables if variables else word


class GessinBabel(Babel):
    """Flask-Babel, its default domain a `KeptDomain`."""

    @cached_property
    def domain_instance(self):
        return KeptDomain(domain=self.domain)


def install_template_words(app, babel: GessinBabel) -> None:
    """The templates' `_()` / `gettext()` through the kept words (Jinja's i18n extension, which
    Flask-Babel installs, formats and escapes them as before); plural forms as Flask-Babel's."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: babel.domain_instance.word(string),
        ngettext=lambda singular, plural, n: get_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: get_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: get_translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
