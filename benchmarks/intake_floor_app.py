"""The floor of a WinCar post: the least work a server can do for one new claim, served by
the same gunicorn as the app (`gunicorn benchmarks.intake_floor_app:app`), so that
`benchmarks/intake.py` can time the real intake beside it in the same run.

Per post, with the standard library, pydantic-core, psycopg2 and redis only (nothing of
the app, no Flask):

- the credential compared in constant time with the one it was given at start;
- the body read in one call (Content-Length bytes), parsed and its five documents
  base64-decoded in one pass by pydantic-core (the decoder the app itself uses, through
  pydantic; `FLOOR_DECODER=stdlib`: `json.loads` and `base64.b64decode`, about 10 ms
  more per post, as CPython's base64 decoder is several times slower), each document's
  format read from its magic bytes, each written under a generated name in the app's
  storage layout and hashed (sha256);
- on the worker's own connection, opened once and kept, in one transaction: the claim
  number (the app's `claim_counter`), the claim row, its history row and reminder day,
  its five attachment rows, its two outbox e-mails (repairer, centre) and the intake log
  row; four round trips with the COMMIT;
- after the COMMIT, the two e-mail ids handed to Redis in one RPUSH;
- a 201 JSON answer with the claim's number.

What it leaves out, and the app does (benchmarks/README.md): the stored password hash
checked and the lockout count of failed logins, the Idempotency-Key replay lookup, the
validation of every field (pydantic), the insurers, centre and repairer read per request
(here once per worker), the direct-compensation verdict and the debtor insurer, the
duplicate check on plates and date, the deadline read from the queue limits, the e-mails
rendered from their templates, huey's task messages, the app's logging, Flask itself.

Environment: FLOOR_DATABASE_URL (a libpq URL), FLOOR_REDIS_URL, FLOOR_QUEUE (the Redis
list the e-mail ids go to), STORAGE_DIR, FLOOR_LOGINS (JSON: [[UserID, password], ...]),
FLOOR_DECODER (`pydantic-core`, the default, or `stdlib`).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import time
import uuid
from pathlib import Path

import psycopg2
import redis
from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

ENDPOINT = "/api/v1/claims"
PROBE = "/ping"
DEFAULT_QUEUE = "gessin-bench-floor-outbox"
QUEUE_DAYS = 2  # the Ricevuta queue's limit, as migrated
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
              (b"\x89PNG\r\n\x1a\n", "image/png", ".png"), (b"II*\x00", "image/tiff", ".tif"),
              (b"MM\x00*", "image/tiff", ".tif"))

CLAIM_COLUMNS = (
    "number", "wincar_ref", "source", "received_at", "repairer_id", "asp_centre_id", "status", "status_since",
    "version", "customer_name", "customer_fiscal_code", "customer_phone", "customer_email", "customer_address",
    "accident_date", "accident_time", "accident_place", "vehicle_count",
    "vehicle_a_plate", "vehicle_a_country", "vehicle_a_insurer_id", "vehicle_a_insurer_name", "vehicle_a_policy",
    "vehicle_a_driver", "vehicle_a_circumstances",
    "vehicle_b_plate", "vehicle_b_country", "vehicle_b_insurer_id", "vehicle_b_insurer_name", "vehicle_b_policy",
    "vehicle_b_driver", "vehicle_b_circumstances",
    "injuries", "witnesses", "signed_by_both", "estimate_amount", "wincar_assessment",
    # a WinCar claim claims no personal injury (nor carries its art. 142 declaration); its debtor is the rule's
    "personal_injury", "art142_declaration", "insurer_by_hand",
    "next_due_on", "next_due_kind", "next_warn_on", "created_at", "updated_at",
)
NEXT_NUMBER = ('INSERT INTO claim_counter (year, last) VALUES (%s, 1) '
               'ON CONFLICT (year) DO UPDATE SET last = claim_counter.last + 1 RETURNING last')
INSERT_CLAIM = (f'INSERT INTO claim ({", ".join(CLAIM_COLUMNS)}) '
                f'VALUES ({", ".join(["%s"] * len(CLAIM_COLUMNS))}) RETURNING id')
# One round trip: psycopg2 sends the statements together and returns the last one's rows.
INSERT_REST = """
INSERT INTO status_change (claim_id, at, actor_label, event, to_status, created_at)
    VALUES (%(claim)s, %(now)s, 'WinCar', 'open', 'received', %(now)s);
INSERT INTO reminder_due (claim_id, remind_on, due_on, warn_on) VALUES (%(claim)s, %(warn)s, %(due)s, %(warn)s);
INSERT INTO attachment (claim_id, kind, original_name, stored_name, content_type, size, sha256, version, source,
                        uploaded_at, created_at) VALUES {attachments};
INSERT INTO intake_event (received_at, remote_addr, wincar_user, event, wincar_ref, idempotency_key, http_status,
                          claim_id, payload, duration_ms, created_at)
    VALUES (%(received)s, %(address)s, %(user)s, 'nuovo', %(ref)s, %(key)s, 201, %(claim)s, %(payload)s,
            %(duration)s, %(now)s);
WITH repairer AS (INSERT INTO outbound_message (subject, body, created_at) VALUES {repairer} RETURNING id),
     centre AS (INSERT INTO outbound_message (subject, body, created_at) VALUES {centre} RETURNING id)
INSERT INTO outbound_email (claim_id, message_id, recipients, status, attempts, next_attempt_at, created_at)
    SELECT %(claim)s, id, %(repairer_email)s, 'pending', 0, %(now)s, %(now)s FROM repairer
    UNION ALL SELECT %(claim)s, id, %(centre_email)s, 'pending', 0, %(now)s, %(now)s FROM centre
    RETURNING id
"""
BASE64 = cs.CoreConfig(val_json_bytes="base64")
DOCUMENT = cs.typed_dict_schema({name: cs.typed_dict_field(cs.str_schema()) for name in ("type", "filename")}
                                | {"content_base64": cs.typed_dict_field(cs.bytes_schema())}, config=BASE64)
POST = SchemaValidator(cs.typed_dict_schema({"attachments": cs.typed_dict_field(cs.list_schema(DOCUMENT))},
                                            extra_behavior="allow"))  # the rest as parsed, unchecked
SUBJECT = "[Gessin] Nuovo inserimento denuncia {number}"
BODY = "È stata inserita la denuncia {number} (riferimento WinCar {ref}).\n\nGessin"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Problem(Exception):
    def __init__(self, status: str, title: str):
        super().__init__(title)
        self.status, self.title = status, title


class Floor:
    """The state of one worker: its configuration, its connections, the parties read once."""

    def __init__(self, environ, queue=None):
        self.database_url = environ["FLOOR_DATABASE_URL"]
        self.queue = environ.get("FLOOR_QUEUE", DEFAULT_QUEUE)
        self.storage = Path(environ["STORAGE_DIR"])
        self.passwords = {user: password.encode() for user, password in json.loads(environ["FLOOR_LOGINS"])}
        self.redis = queue or redis.Redis.from_url(environ["FLOOR_REDIS_URL"])  # anything with rpush()
        self.decode = decode_stdlib if environ.get("FLOOR_DECODER") == "stdlib" else decode_core
        self.conn = None

    def connection(self):
        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.database_url)
            with self.conn.cursor() as cur:
                cur.execute("SELECT wincar_user, id, email FROM repairer WHERE active AND wincar_user IS NOT NULL")
                self.repairers = {user: (rid, email) for user, rid, email in cur.fetchall()}
                cur.execute("SELECT vat_number, id, email FROM asp_centre WHERE active")
                self.centres = {vat: (cid, email) for vat, cid, email in cur.fetchall()}
                cur.execute("SELECT name, id FROM insurance_company")
                self.insurers = dict(cur.fetchall())
            self.conn.commit()
        return self.conn

    def user(self, header: str) -> str:
        """The UserID of a valid HTTP Basic credential."""
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if not hmac.compare_digest(password.encode(), self.passwords.get(user, b"\0")):
            raise Problem("401 Unauthorized", "UserID o password WinCar non validi")
        return user

    def receive(self, environ) -> dict:
        started, received = time.monotonic(), utcnow()
        user = self.user(environ.get("HTTP_AUTHORIZATION", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = self.decode(environ["wsgi.input"].read(length))
        if data.get("event") != "nuovo":
            raise Problem("422 Unprocessable Entity", "Il pavimento riceve solo l'evento «nuovo».")
        conn, files = self.connection(), []
        try:
            for item in data["attachments"]:
                files.append(store(self.storage, item))
            number, claim_id = self.save(conn, user, data, files, environ, received, started)
        except BaseException:
            conn.rollback()
            for f in files:
                f["path"].unlink(missing_ok=True)
            raise
        return {"number": number, "status": "received", "wincar_ref": data["wincar_ref"],
                "attachments_added": len(files), "claim_id": claim_id}

    def save(self, conn, user: str, data: dict, files: list[dict], environ, received, started) -> tuple[str, int]:
        now = utcnow()
        repairer, repairer_email = self.repairers[user]
        centre, centre_email = self.centres[data["asp_centre"]["partita_iva"]]
        due = now.date() + dt.timedelta(days=QUEUE_DAYS)
        with conn.cursor() as cur:
            cur.execute(NEXT_NUMBER, (now.year,))
            number = f"{now.year}/{cur.fetchone()[0]:06d}"
            cur.execute(INSERT_CLAIM, self.claim_row(data, number, repairer, centre, now, due))
            claim_id = cur.fetchone()[0]
            attachments = [(claim_id, f["kind"], f["filename"], f["name"], f["type"], f["size"], f["sha256"], 1,
                            "wincar", now, now) for f in files]
            # Each text stored once (outbound_message), each recipient's row pointing at it: the
            # repairer's and the centre's e-mails are two texts, as the app writes them.
            text = cur.mogrify("%s", ((SUBJECT.format(number=number),
                                       BODY.format(number=number, ref=data["wincar_ref"]), now),)).decode()
            sql = INSERT_REST.format(attachments=", ".join(cur.mogrify("%s", (row,)).decode() for row in attachments),
                                     repairer=text, centre=text)
            cur.execute(sql, {"repairer_email": repairer_email, "centre_email": centre_email,
                "claim": claim_id, "now": now, "due": due, "warn": due - dt.timedelta(days=1), "received": received,
                "address": environ.get("REMOTE_ADDR"), "user": user, "ref": data["wincar_ref"],
                "key": environ.get("HTTP_IDEMPOTENCY_KEY"), "payload": audit_copy(data),
                "duration": int((time.monotonic() - started) * 1000)})
            email_ids = [row[0] for row in cur.fetchall()]
        conn.commit()
        self.redis.rpush(self.queue, *email_ids)
        return number, claim_id

    def claim_row(self, data: dict, number: str, repairer: int, centre: int, now, due) -> tuple:
        customer, accident = data["customer"], data["accident"]
        row = {"number": number, "wincar_ref": data["wincar_ref"], "source": "wincar", "received_at": now,
               "repairer_id": repairer, "asp_centre_id": centre, "status": "received", "status_since": now,
               "version": 1, "accident_date": accident["date"], "accident_time": accident["time"],
               "accident_place": accident["place"], "vehicle_count": accident["vehicle_count"],
               "injuries": accident["injuries"]["any"], "witnesses": accident["witnesses"],
               "signed_by_both": accident["signed_by_both"], "estimate_amount": data["estimate_amount"],
               "wincar_assessment": data["wincar_assessment"], "personal_injury": False, "art142_declaration": False,
               "insurer_by_hand": False,
               "next_due_on": due, "next_due_kind": "queue",
               "next_warn_on": due - dt.timedelta(days=1), "created_at": now, "updated_at": now}
        row.update({f"customer_{name}": customer[name] for name in ("name", "fiscal_code", "phone", "email", "address")})
        for side in "ab":
            vehicle = accident[f"vehicle_{side}"]
            row.update({f"vehicle_{side}_plate": vehicle["plate"], f"vehicle_{side}_country": vehicle["country"],
                        f"vehicle_{side}_insurer_id": self.insurers.get(vehicle["insurer"]),
                        f"vehicle_{side}_insurer_name": vehicle["insurer"],
                        f"vehicle_{side}_policy": vehicle["policy_number"], f"vehicle_{side}_driver": vehicle["driver"],
                        f"vehicle_{side}_circumstances": ",".join(map(str, sorted(set(vehicle["circumstances"])))) or None})
        return tuple(row[name] for name in CLAIM_COLUMNS)


def decode_core(body: bytes) -> dict:
    """The post parsed, each document's content_base64 decoded to bytes (pydantic-core)."""
    try:
        return POST.validate_json(body)
    except ValidationError as exc:
        raise Problem("400 Bad Request", f"corpo non valido: {exc.error_count()} errori")


def decode_stdlib(body: bytes) -> dict:
    """The same with the standard library: json.loads, then base64.b64decode."""
    try:
        data = json.loads(body)
        for item in data["attachments"]:
            item["content_base64"] = base64.b64decode(item["content_base64"], validate=True)
    except (ValueError, KeyError, TypeError):  # binascii.Error is a ValueError
        raise Problem("400 Bad Request", "corpo non valido")
    return data


def store(storage: Path, item: dict) -> dict:
    """One decoded document written under a generated name (as the app lays them out) and hashed."""
    content = item["content_base64"]
    found = next(((ctype, ext) for magic, ctype, ext in SIGNATURES if content.startswith(magic)), None)
    if found is None:
        raise Problem("422 Unprocessable Entity", f"allegato {item.get('type')}: formato non ammesso")
    name = uuid.uuid4().hex + found[1]
    path = storage / name[:2] / name
    try:
        path.write_bytes(content)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return {"kind": item["type"], "filename": item["filename"], "name": name, "type": found[0],
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "path": path}


def audit_copy(data: dict) -> str:
    """The payload for the intake log, each document's content replaced by its size."""
    attachments = [{"type": a["type"], "filename": a["filename"], "size": len(a["content_base64"])}
                   for a in data["attachments"]]
    return json.dumps({**data, "attachments": attachments}, ensure_ascii=False)[:20000]


class FloorApp:
    """The WSGI callable: POST ENDPOINT receives a claim, GET PROBE says the worker is up."""

    def __init__(self, environ=os.environ, queue=None):
        self.environ, self.queue, self.floor = environ, queue, None

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "GET" and path == PROBE:
            return answer(start_response, "200 OK", {"floor": "ok"})
        if method != "POST" or path != ENDPOINT:
            return answer(start_response, "404 Not Found", {"title": "non trovato"})
        if self.floor is None:  # in the worker, after gunicorn's fork: its own connections
            self.floor = Floor(self.environ, self.queue)
        try:
            return answer(start_response, "201 Created", self.floor.receive(environ))
        except Problem as problem:
            return answer(start_response, problem.status, {"title": problem.title})


def answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


app = FloorApp()
