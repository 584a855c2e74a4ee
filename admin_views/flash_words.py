"""Flask-Admin's own flash messages in plain Italian.

Flask-Admin flashes "Record was successfully saved." through its catalog, whose Italian
("Record stato salvato con successo.") wins over any catalog of ours: a message domain
merges the app's catalog first and the library's over it. So the messages are reworded
where they are shown (the `messages` block of gessin_base.html), by their msgid or by
the text Flask-Admin's catalog gives for it.
"""
from __future__ import annotations

from flask_admin.babel import gettext as admin_gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

OURS = {
    "Record was successfully created.": _l("Scheda creata."),
    "Record was successfully saved.": _l("Modifiche salvate."),
    "Failed to create record.": _l("Scheda non creata: correggi i campi segnalati."),
    "Failed to save record.": _l("Modifiche non salvate: correggi i campi segnalati."),
    "Record does not exist.": _l("La scheda non esiste."),
    "Permission denied.": _l("Non hai il permesso di farlo."),
}


def plain_italian(message) -> str:
    """`message` as flashed, or our wording when it is one of Flask-Admin's (ours that carry
    a link were flashed as markup, escaped when they were made, and stay so)."""
    if isinstance(message, Markup):
        return message
    text = str(message)
    for msgid, ours in OURS.items():
        if text == msgid or text == admin_gettext(msgid):
            return str(ours)
    return text
