"""POST /api/v1/claims: WinCar sends a new file or a follow-up."""
from __future__ import annotations

import json
import logging
import time

import peewee as pw
from flask import current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from models import Claim, ClaimStatus, IntakeEvent, db
from models.connections import connection_lost, summary
from workflows import duplicates, intake
from workflows.attachments import sniff
from workflows.errors import Conflict, InvalidData, StorageFull

from . import bp
from .auth import authenticate
from .problems import ApiProblem, database_problem, field_errors, storage_full, try_again
from .schema import ClaimIn, ClaimOut

log = logging.getLogger("gessin.intake")


@bp.post("/claims")
def post_claim():
    started = time.monotonic()
    audit = {"remote_addr": request.remote_addr, "idempotency_key": request.headers.get("Idempotency-Key")}
    auth = request.authorization
    audit["wincar_user"] = auth.username[:64] if auth and auth.username else None
    try:
        status, body, claim = _handle_faults(audit)
        response = jsonify(body)
        response.status_code = status
    except ApiProblem as problem:
        status, claim, response = problem.status, None, problem.response()
        audit["error"] = json.dumps(problem.body(), ensure_ascii=False)[:4000]
    except Exception as exc:  # logged too, then Flask answers 500
        audit["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        log_request(audit, 500, None, started)
        raise
    log_request(audit, status, claim, started)
    return response


def _handle_faults(audit: dict):
    """`_handle`, a fault of the database (lost, busy, full) said as a problem (503, 507), not a 500."""
    try:
        return _handle(audit)
    except pw.PeeweeException as exc:
        problem = database_problem(exc)
        if problem is None:
            raise
        log.warning("WinCar %s %s: database fault answered %s (%s)", audit.get("event"), audit.get("wincar_ref"),
                    problem.status, summary(exc))
        raise problem from exc


def _handle(audit: dict):
    repairer = authenticate()
    payload = _read_payload(audit)
    documents = _documents(payload)
    if audit["idempotency_key"]:
        earlier = _replay(repairer, audit["idempotency_key"])
        if earlier is not None:
            return 200, _out(earlier, 0, repairer), earlier
    fields = claim_fields(payload)
    try:
        if payload.event == "nuovo":
            centre = intake.find_centre(payload.asp_centre.partita_iva)
            received = intake.receive_new(repairer, payload.wincar_ref, centre, fields, documents,
                                          current_app.config["STORAGE_DIR"])
        else:
            claim = intake.find_own_claim(repairer, payload.wincar_ref, payload.number)
            received = intake.receive_followup(claim, fields, documents, current_app.config["STORAGE_DIR"])
    except InvalidData as exc:
        raise ApiProblem(422, str(exc.message), [{"field": exc.field or "", "message": str(exc.message)}])
    except Conflict:  # the seguito was applied again on the fresh claim, and it kept changing
        raise try_again("La pratica è stata modificata più volte sul portale mentre arrivava il seguito: "
                        "il seguito non è stato registrato.")
    except StorageFull as exc:
        raise storage_full(str(exc.message))
    status = 201 if received.created else 200
    return status, _out(received.claim, received.attachments_added, repairer), received.claim


def _read_payload(audit: dict) -> ClaimIn:
    if request.mimetype != "application/json":
        raise ApiProblem(415, "Inviare il corpo in JSON (Content-Type: application/json).")
    body = _read_body(current_app.config["INTAKE_MAX_BYTES"])
    try:
        payload = ClaimIn.model_validate_json(body or b"{}")  # parsed and checked in one pass
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise ApiProblem(400, "Il corpo della richiesta non è JSON valido.")
        _audit_raw(audit, body)
        raise ApiProblem(422, "Alcuni dati della pratica non sono validi.", field_errors(exc))
    audit.update(event=payload.event, wincar_ref=payload.wincar_ref, payload=_audit_payload(payload))
    return payload


def _read_body(limit: int) -> bytes:
    """The request body, at most `limit` bytes.

    With a Content-Length the body is read from the server's stream in one call:
    werkzeug's `get_data` reads 64 KiB at a time, and each read makes gunicorn copy
    what it has buffered ahead, which for a 3 MB intake cost more than parsing it
    (werkzeug's own wrapper would add two more copies). A chunked body (no length)
    goes through werkzeug, bounded by `max_content_length`.
    """
    too_large = ApiProblem(413, f"La richiesta supera il limite di {limit // (1024 * 1024)} MB.")
    length = request.content_length
    if length is not None and length > limit:
        raise too_large
    if length is None:
        # werkzeug stops reading a terminated stream at max_content_length without a word;
        # one byte more tells a body over the limit from one just at it.
        request.max_content_length = limit + 1
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            raise too_large
        if len(body) > limit:
            raise too_large
        return body
    try:  # the server's own stream: exactly Content-Length bytes are ours to read (PEP 3333)
        body = request.environ["wsgi.input"].read(length) if length else b""
    except OSError:  # the client went away
        body = b""
    if len(body) < length:
        raise ApiProblem(400, "Il corpo della richiesta è incompleto: la connessione si è interrotta prima "
                              "della fine dei dati.")
    return body


def _documents(payload: ClaimIn) -> list[intake.Document]:
    limit, errors, documents = current_app.config["INTAKE_MAX_FILE_BYTES"], [], []
    for i, item in enumerate(payload.attachments):
        where, data = f"attachments.{i}.content_base64", item.content_base64
        if not data:
            errors.append({"field": where, "message": "file vuoto"})
        elif len(data) > limit:
            errors.append({"field": where, "message": f"file oltre il limite di {limit // (1024 * 1024)} MB"})
        elif sniff(data) is None:
            errors.append({"field": where, "message": "formato non ammesso: inviare PDF, JPEG, PNG o TIFF"})
        else:
            documents.append(intake.Document(item.type, item.filename, data))
    if errors:
        raise ApiProblem(422, "Alcuni allegati non sono validi.", errors)
    return documents


def claim_fields(payload: ClaimIn) -> dict:
    """The Claim columns a WinCar payload fills."""
    acc, a, b, customer = payload.accident, payload.accident.vehicle_a, payload.accident.vehicle_b, payload.customer
    insurers = intake.insurers_named([a.insurer, b.insurer])
    fields = dict(
        customer_name=customer.name, customer_fiscal_code=customer.fiscal_code, customer_phone=customer.phone,
        customer_email=customer.email, customer_address=customer.address,
        accident_date=acc.date, accident_time=acc.time, accident_place=acc.place, vehicle_count=acc.vehicle_count,
        vehicle_a_plate=a.plate, vehicle_a_country=a.country, vehicle_a_insurer=insurers.get(a.insurer),
        vehicle_a_insurer_name=a.insurer or None,
        vehicle_a_policy=a.policy_number, vehicle_a_driver=a.driver,
        vehicle_a_circumstances=",".join(str(n) for n in sorted(set(a.circumstances))) or None,
        vehicle_b_plate=b.plate, vehicle_b_country=b.country, vehicle_b_insurer=insurers.get(b.insurer),
        vehicle_b_insurer_name=b.insurer or None,
        vehicle_b_policy=b.policy_number, vehicle_b_driver=b.driver,
        vehicle_b_circumstances=",".join(str(n) for n in sorted(set(b.circumstances))) or None,
        injuries=acc.injuries.any, injured_persons=acc.injuries.persons, witnesses=acc.witnesses,
        injured_driver_a_only=acc.injuries.driver_a_only, passengers_injured=acc.injuries.passengers,
        disability_pct=acc.injuries.permanent_disability_pct,
        signed_by_both=acc.signed_by_both, estimate_amount=payload.estimate_amount,
        wincar_assessment=payload.wincar_assessment,
    )
    if payload.event == "seguito":  # a seguito changes only what it sends (null included: it clears)
        fields = {name: value for name, value in fields.items() if _was_sent(payload, name)}
    return fields


def _was_sent(payload: ClaimIn, column: str) -> bool:
    """Did the payload carry the JSON member that fills `column` (pydantic's `model_fields_set`)?"""
    acc = payload.accident
    parts = {"payload": payload, "customer": payload.customer, "accident": acc, "vehicle_a": acc.vehicle_a,
             "vehicle_b": acc.vehicle_b, "injured": acc.injuries}  # an Injuries left out is a default: nothing set
    part, member = _SENT_BY[column]
    return member in parts[part].model_fields_set


# Claim column -> (the part of the payload, the member there that fills it).
_SENT_BY = {
    "customer_name": ("customer", "name"), "customer_fiscal_code": ("customer", "fiscal_code"),
    "customer_phone": ("customer", "phone"), "customer_email": ("customer", "email"),
    "customer_address": ("customer", "address"),
    "accident_date": ("accident", "date"), "accident_time": ("accident", "time"),
    "accident_place": ("accident", "place"), "vehicle_count": ("accident", "vehicle_count"),
    "witnesses": ("accident", "witnesses"), "signed_by_both": ("accident", "signed_by_both"),
    **{f"vehicle_{side}_{column}": (f"vehicle_{side}", member) for side in "ab" for column, member in (
        ("plate", "plate"), ("country", "country"), ("insurer", "insurer"), ("insurer_name", "insurer"),
        ("policy", "policy_number"), ("driver", "driver"), ("circumstances", "circumstances"))},
    "injuries": ("injured", "any"), "injured_persons": ("injured", "persons"),
    "injured_driver_a_only": ("injured", "driver_a_only"), "passengers_injured": ("injured", "passengers"),
    "disability_pct": ("injured", "permanent_disability_pct"),
    "estimate_amount": ("payload", "estimate_amount"), "wincar_assessment": ("payload", "wincar_assessment"),
}


def _replay(repairer, key: str):
    """The claim an earlier successful request with this Idempotency-Key made or updated."""
    earlier = (IntakeEvent.select(IntakeEvent.claim)
               .where(IntakeEvent.wincar_user == repairer.wincar_user, IntakeEvent.idempotency_key == key,
                      IntakeEvent.http_status.in_([200, 201]), IntakeEvent.claim.is_null(False))
               .order_by(IntakeEvent.id).tuples().first())
    return Claim.get_by_id(earlier[0]) if earlier else None


def _out(claim, attachments_added: int, repairer) -> dict:
    return ClaimOut(
        number=claim.number, status=claim.status, status_label=str(ClaimStatus.LABELS[claim.status]),
        wincar_ref=claim.wincar_ref, direct_compensation=claim.direct_compensation,
        direct_compensation_reason=claim.direct_compensation_reason,
        possible_duplicates=duplicates.own_numbers(repairer, claim),
        attachments_added=attachments_added,
    ).model_dump(mode="json")


def _audit_payload(payload: ClaimIn) -> str:
    """The payload for the audit log: each document's content replaced by its length."""
    data = payload.model_dump(mode="json", exclude={"attachments": {"__all__": {"content_base64"}}})
    for item, source in zip(data["attachments"], payload.attachments):
        item["size"] = len(source.content_base64)
    return json.dumps(data, ensure_ascii=False)[:20000]


def _audit_raw(audit: dict, body: bytes) -> None:
    """What can be read of a refused payload, for the audit log (never documents' content)."""
    try:
        data = json.loads(body)
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    audit["event"] = str(data.get("event"))[:16] if data.get("event") else None
    audit["wincar_ref"] = str(data.get("wincar_ref"))[:64] if data.get("wincar_ref") else None
    if isinstance(data.get("attachments"), list):
        data["attachments"] = [
            {**{k: v for k, v in item.items() if k != "content_base64"},
             "content_base64_length": len(str(item.get("content_base64", "")))} if isinstance(item, dict) else None
            for item in data["attachments"]]
    audit["payload"] = json.dumps(data, ensure_ascii=False, default=str)[:20000]


def log_request(audit: dict, status: int, claim, started: float) -> None:
    """The intake log row of a WinCar request (a post or a ping): one INSERT, committed on
    its own; on a fresh connection if the request's was lost.

    If the database cannot take it, the row goes to the application log, whole, at ERROR.
    """
    row = {"http_status": status, "claim": claim.id if claim else None,
           "duration_ms": int((time.monotonic() - started) * 1000), **{k: v for k, v in audit.items() if v is not None}}
    try:
        _store_event(row)
    except Exception as exc:  # the audit log must never turn a saved claim into an error
        log.error("intake event not stored (%s: %s): %s", type(exc).__name__, summary(exc)[:200],
                  json.dumps({"intake_event": row}, ensure_ascii=False, default=str))
    log.info("WinCar %s %s from %s: HTTP %s%s", audit.get("event"), audit.get("wincar_ref"), audit.get("wincar_user"),
             status, f" claim {claim.number}" if claim else "")


def _store_event(row: dict) -> None:
    try:
        IntakeEvent.create(**row)
    except pw.PeeweeException as exc:
        if not connection_lost(exc) or db.in_transaction():
            raise
        log.warning("intake event: connection lost (%s), writing it on a fresh one", type(exc).__name__)
        db.reconnect()
        IntakeEvent.create(**row)
