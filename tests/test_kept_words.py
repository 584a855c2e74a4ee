"""Translated words kept per language (`kept_words.py`): each word in the user's language,
lazy or not, in code and in templates, with the catalogue consulted once per word and
language rather than at every use."""
from __future__ import annotations

from flask import render_template_string, session
from flask_babel import force_locale, get_domain, gettext, lazy_gettext

import kept_words


def counting_lookups(monkeypatch) -> list:
    """Each time the default domain looks in its catalogue, from now on."""
    domain, lookups = get_domain(), []
    catalogue = domain.get_translations

    def looked_up():
        lookups.append(1)
        return catalogue()
    monkeypatch.setattr(domain, "get_translations", looked_up)
    return lookups


def test_words_are_in_the_users_language_lazy_or_not(app):
    state = lazy_gettext("Stato")
    with app.test_request_context("/"):
        assert gettext("Stato") == "Stato" and str(state) == "Stato"
    with app.test_request_context("/"):
        session["language"] = "en"
        assert gettext("Stato") == "Status" and str(state) == "Status"
        with force_locale("it"):  # an e-mail written in Italian during an English request
            assert gettext("Stato") == "Stato" and str(state) == "Stato"
        assert gettext("Applica a tutte le %(count)s pratiche filtrate", count=7) == "Apply to all 7 filtered claims"


def test_the_catalogue_is_consulted_once_per_word_and_language(app, monkeypatch):
    with app.test_request_context("/"):
        session["language"] = "en"
        lookups = counting_lookups(monkeypatch)
        words = [gettext("Carrozzeria") for _ in range(5)] + [str(lazy_gettext("Carrozzeria")) for _ in range(5)]
        assert set(words) == {"Body shop"} and len(lookups) <= 1


def test_templates_words_are_kept_and_escaped_as_before(app, monkeypatch):
    template = "{{ _('Carrozzeria') }}|{{ _('Applica a tutte le %(count)s pratiche filtrate', count=n) }}"
    with app.test_request_context("/"):
        session["language"] = "en"
        lookups = counting_lookups(monkeypatch)
        pages = {render_template_string(template, n="<b>3</b>") for _ in range(4)}
        assert pages == {"Body shop|Apply to all &lt;b&gt;3&lt;/b&gt; filtered claims"}
        assert len(lookups) <= 2  # one per word at most, not per use


def test_the_kept_words_are_bounded(app, monkeypatch):
    monkeypatch.setattr(kept_words, "MAX_KEPT_WORDS", 3)
    with app.test_request_context("/"):
        domain = get_domain()
        monkeypatch.setattr(domain, "kept", {})
        words = [gettext(word) for word in ("Stato", "Carrozzeria", "Legale", "Compagnia", "Targa")]
        assert words == ["Stato", "Carrozzeria", "Legale", "Compagnia", "Targa"]  # all still translated
        assert len(domain.kept) == 3
