"""Italian error pages for the site, and the check that refuses unreadable input.

People get a page in their language for 400, 403, 404, 405, 413, 500, 503 and 507
(werkzeug's own are English); under /api/ the intake keeps answering problem details.
A fault of the database (connection lost, busy) is a 503 with `Retry-After`, a full
disk a 507: never a 500, which would say the portal has a bug.
"""
from __future__ import annotations

import logging

import peewee as pw
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, ServiceUnavailable

from models.connections import RETRY_AFTER_SECONDS, disk_full, summary, unavailable
from workflows.errors import StorageFull

log = logging.getLogger("gessin.web")

PAGES = {
    400: (_l("Richiesta non valida"), _l("La richiesta contiene dati che il portale non può leggere.")),
    403: (_l("Accesso non consentito"), _l("Il tuo utente non ha accesso a questa pagina.")),
    404: (_l("Pagina non trovata"),
          _l("La pagina o il documento cercato non esiste, o non è tra quelli che puoi vedere.")),
    405: (_l("Operazione non ammessa"), _l("Questa pagina non accetta questo tipo di richiesta.")),
    413: (_l("Invio troppo grande"), _l("Il file o il modulo inviato supera la dimensione ammessa.")),
    500: (_l("Errore interno"), _l("Il portale ha avuto un problema e l'operazione non è stata completata: "
                                   "riprova tra qualche minuto. Se si ripete, avvisa il call center RESTART.")),
    503: (_l("Portale momentaneamente occupato"),
          _l("Il database del portale non è raggiungibile o è occupato in questo momento e l'operazione non è "
             "stata completata: riprova tra qualche secondo.")),
    507: (_l("Spazio di archiviazione esaurito"),
          _l("Lo spazio per i documenti del portale è esaurito: quanto inviato non è stato salvato. Riprova più "
             "tardi e avvisa il call center RESTART.")),
}


class InsufficientStorage(HTTPException):
    code = 507
    description = "Insufficient Storage"


def error_page(exc: HTTPException):
    """The Italian page for `exc`; a message we gave with `abort(code, message)` is shown as is."""
    code = exc.code if exc.code in PAGES else 500
    title, message = PAGES[code]
    if isinstance(exc, CSRFError):
        message = _("Il modulo è scaduto o non viene da questa pagina: ricarica la pagina e riprova.")
    elif exc.description and exc.description != type(exc).description:
        message = exc.description  # ours: werkzeug's defaults are the class's own English text
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else {}
    if code == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return render_template("error.html", code=code, title=title, message=message), code, headers


def refuse_nul():
    """Text with a NUL character is refused before any view or query sees it (PostgreSQL cannot store it)."""
    values = (request.path, *request.args.keys(), *request.args.values(), *request.form.keys(),
              *request.form.values(), *(f.filename or "" for f in request.files.values()))
    if any("\x00" in value for value in values):
        log.info("request to %s refused: NUL character in the data from %s", request.path, request.remote_addr)
        raise BadRequest(_("Il testo inviato contiene un carattere non ammesso (NUL): correggi i dati e riprova."))


def init_app(app: Flask, api_error) -> None:
    """`api_error(exc)` answers for the API (problem details) and None elsewhere."""
    def handle(exc):
        return api_error(exc) or error_page(exc)

    for code in PAGES:
        app.register_error_handler(InsufficientStorage if code == 507 else code, handle)

    @app.errorhandler(pw.PeeweeException)
    def _database_fault(exc):
        if unavailable(exc):
            log.warning("%s %s answered 503: database unavailable (%s)", request.method, request.path, summary(exc))
            return handle(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))
        if disk_full(exc):
            log.error("%s %s answered 507: the database's disk is full (%s)", request.method, request.path,
                      summary(exc))
            return handle(InsufficientStorage())
        raise exc  # a bug: Flask logs it and answers 500

    @app.errorhandler(StorageFull)
    def _storage_full(exc):
        return handle(InsufficientStorage(description=str(exc.message)))

    @app.before_request
    def _refuse_nul():
        if not request.path.startswith("/api/"):
            refuse_nul()
