"""`GET /api/v1/ping`: a body shop tests its WinCar set-up and learns who the portal sees."""
from __future__ import annotations

import json
import time

from flask import jsonify, request

from workflows import wincar_setup

from . import bp
from .auth import authenticate
from .problems import ApiProblem
from .views import log_request

PING_OUT = {
    "type": "object",
    "required": ["esito", "carrozzeria", "centri_asp"],
    "properties": {
        "esito": {"type": "string"},
        "carrozzeria": {"type": "object", "properties": {
            "ragione_sociale": {"type": "string"}, "partita_iva": {"type": "string"}, "user_id": {"type": "string"}}},
        "centri_asp": {"type": "array", "items": {"type": "object", "properties": {
            "ragione_sociale": {"type": "string"}, "partita_iva": {"type": "string"}}}},
    },
}

OPENAPI_PATHS = {"/api/v1/ping": {"get": {
    "operationId": "ping",
    "summary": "Prova delle credenziali WinCar: risponde con la carrozzeria e i Centri ASP con cui lavora",
    "security": [{"wincar": []}],
    "responses": {
        "200": {"description": "Credenziali valide", "content": {"application/json": {"schema": PING_OUT}}},
        **{code: {"description": text, "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}}
           for code, text in (("401", "Credenziali WinCar non valide"),
                              ("429", "Troppi accessi falliti: attendere (vedi Retry-After)"))},
    },
}}}


def _log(status: int, wincar_user: str | None, started: float, error: str | None = None) -> None:
    """Logged like a post: failures count for the login throttle, and the body shop sees its tests."""
    log_request({"remote_addr": request.remote_addr, "wincar_user": wincar_user, "event": "ping", "error": error},
                status, None, started)


@bp.get("/ping")
def ping():
    started = time.monotonic()
    auth = request.authorization
    wincar_user = auth.username[:64] if auth and auth.username else None
    try:
        repairer = authenticate()
    except ApiProblem as problem:
        _log(problem.status, wincar_user, started, json.dumps(problem.body(), ensure_ascii=False))
        return problem.response()
    _log(200, repairer.wincar_user, started)
    centres = wincar_setup.centres(repairer)
    return jsonify({
        "esito": f"Collegamento riuscito: le credenziali sono di {repairer.name}.",
        "carrozzeria": {"ragione_sociale": repairer.name, "partita_iva": repairer.vat_number,
                        "user_id": repairer.wincar_user},
        "centri_asp": [{"ragione_sociale": c.name, "partita_iva": c.vat_number} for c in centres],
    })
