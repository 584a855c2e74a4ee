"""The WinCar intake endpoint: /api/v1."""
from __future__ import annotations

from flask import Blueprint, request

from .problems import ApiProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Werkzeug's own texts are English: WinCar's software house reads these instead.
HTTP_DETAILS = {
    404: "Indirizzo non trovato: le pratiche si inviano con POST /api/v1/claims.",
    405: "Metodo non ammesso: le pratiche si inviano con POST /api/v1/claims.",
    413: "La richiesta supera il limite di dimensione.",
}


def _api_error(exc):
    """Problem details for any error under /api/ (a wrong address never reaches the blueprint)."""
    if not request.path.startswith(bp.url_prefix + "/"):
        return exc  # the rest of the site keeps Flask's own pages
    if exc.code == 500:
        return ApiProblem(500, "Errore interno del portale: la pratica non è stata registrata, riprovare "
                          "più tardi.").response()
    return ApiProblem(exc.code, HTTP_DETAILS[exc.code]).response()


from . import docs, views  # noqa: E402,F401 - routes register on import


def init_api(app) -> None:
    from extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    for code in (*HTTP_DETAILS, 500):
        app.register_error_handler(code, _api_error)
