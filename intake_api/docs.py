"""The OpenAPI 3.1 document of the intake API, and a readable page made from it."""
from __future__ import annotations

import functools

from flask import jsonify, render_template
from pydantic.json_schema import models_json_schema

from . import bp
from .ping import OPENAPI_PATHS as PING_PATHS
from .schema import ClaimIn, ClaimOut, Problem

PROBLEMS = {
    "400": "Corpo non JSON",
    "401": "Credenziali WinCar non valide",
    "409": "Pratica modificata nel frattempo: reinviare",
    "413": "Richiesta oltre il limite di dimensione",
    "415": "Content-Type diverso da application/json",
    "422": "Dati o allegati non validi, Centro ASP sconosciuto, pratica non vostra",
    "429": "Troppi accessi falliti: attendere (vedi Retry-After)",
}


@functools.cache
def openapi() -> dict:
    _, schemas = models_json_schema([(m, "validation") for m in (ClaimIn, ClaimOut, Problem)],
                                    ref_template="#/components/schemas/{model}")
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    claim_out = {"application/json": {"schema": {"$ref": "#/components/schemas/ClaimOut"}}}
    responses = {
        "201": {"description": "Nuova pratica creata: numero denuncia web assegnato", "content": claim_out},
        "200": {"description": "Seguito registrato, oppure invio ripetuto di una pratica già ricevuta "
                               "(stesso wincar_ref o stessa Idempotency-Key): nessuna seconda pratica",
                "content": claim_out},
    }
    responses.update({code: {"description": text, "content": problem} for code, text in PROBLEMS.items()})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gessin - invio pratiche da WinCar", "version": "1.0.0",
                 "description": "Il gestionale WinCar invia le pratiche al portale RESTART con il profilo "
                                "«RESTART - Tutte», usando UserID e password della carrozzeria."},
        "servers": [{"url": "/"}],
        "paths": {"/api/v1/claims": {"post": {
            "operationId": "sendClaim",
            "summary": "Invia una pratica (evento nuovo) o un seguito",
            "security": [{"wincar": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "maxLength": 128},
                            "description": "Chiave dell'invio: ripetendo la stessa chiave si riceve la stessa risposta"}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ClaimIn"}}}},
            "responses": responses,
        }}, **PING_PATHS},
        "components": {"schemas": schemas["$defs"],
                       "securitySchemes": {"wincar": {"type": "http", "scheme": "basic"}}},
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi())


@bp.get("/docs")
def docs_page():
    return render_template("api_docs.html", spec=openapi())
