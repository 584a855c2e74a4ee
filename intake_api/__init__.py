"""The WinCar intake endpoint: /api/v1."""
from __future__ import annotations

from flask import Blueprint

from .problems import ApiProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
def _http_error(exc):
    return ApiProblem(exc.code, exc.description or "").response()


@bp.errorhandler(500)
def _server_error(exc):
    return ApiProblem(500, "Errore interno del portale: la pratica non è stata registrata, riprovare più tardi."
                      ).response()


from . import docs, views  # noqa: E402,F401 - routes register on import


def init_api(app) -> None:
    from extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
