"""The WinCar intake endpoint: /api/v1."""
from __future__ import annotations

from flask import Blueprint, request

from .problems import ApiProblem, storage_full, try_again

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Werkzeug's own texts are English: WinCar's software house reads these instead.
HTTP_DETAILS = {
    400: "Richiesta non leggibile.",
    403: "Accesso non consentito.",
    404: "Indirizzo non trovato: le pratiche si inviano con POST /api/v1/claims.",
    405: "Metodo non ammesso: le pratiche si inviano con POST /api/v1/claims.",
    413: "La richiesta supera il limite di dimensione.",
}


@bp.before_request
def _refuse_nul():
    """A NUL character in the UserID or the Idempotency-Key is refused before any query
    (PostgreSQL cannot store or compare it); those in the body are refused by the schema."""
    auth = request.authorization
    sent = {"Authorization": (auth.username or "") if auth else "",
            "Idempotency-Key": request.headers.get("Idempotency-Key", "")}
    wrong = [name for name, value in sent.items() if "\x00" in value]
    if wrong:
        return ApiProblem(400, "La richiesta contiene un carattere NUL (\\u0000) non ammesso.",
                          [{"field": name, "message": "carattere NUL non ammesso"} for name in wrong]).response()
    return None


def api_error(exc):
    """Problem details for any error under /api/ (a wrong address never reaches the blueprint).

    None elsewhere: the rest of the site has its own pages (error_pages.py, which calls this first).
    """
    if not request.path.startswith(bp.url_prefix + "/"):
        return None
    if exc.code == 503:
        return try_again("Il portale non ha potuto completare la richiesta: il suo database non è raggiungibile "
                         "o è occupato in questo momento.").response()
    if exc.code == 507:
        return storage_full("Spazio di archiviazione esaurito sul portale.").response()
    if exc.code not in HTTP_DETAILS:
        return ApiProblem(500, "Errore interno del portale: la pratica non è stata registrata, riprovare "
                          "più tardi.").response()
    return ApiProblem(exc.code, HTTP_DETAILS[exc.code]).response()


from . import docs, ping, views  # noqa: E402,F401 - routes register on import


def init_api(app) -> None:
    from extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
