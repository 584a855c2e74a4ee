"""The WinCar intake endpoint: /api/v1."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_api(app) -> None:
    from extensions import csrf

    from . import docs, views  # noqa: F401 - routes register on import
    from .problems import ApiProblem

    csrf.exempt(bp)

    @bp.errorhandler(404)
    @bp.errorhandler(405)
    @bp.errorhandler(413)
    def _http_error(exc):
        return ApiProblem(exc.code, exc.description or "").response()

    app.register_blueprint(bp)
