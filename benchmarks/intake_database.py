"""The intake benchmark's database and queue: the app on an empty, migrated PostgreSQL
database, its seed (a centre, insurers, repairers with WinCar credentials), the Redis db of
its own, and the checks of each pass (every claim saved once, with its documents, files,
e-mails and queued tasks).

Imported after the benchmark has set `GESSIN_INSTANCE`: importing the app writes there.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections import Counter

import redis

from app import create_app
from common import shown
from intake_clients import Pass
from intake_payloads import DOCUMENTS, INSURERS
from models import Attachment, Claim, IntakeEvent, OutboundEmail, db, is_postgres
from models.migrate import upgrade
from tests import factories

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
REPAIRERS = 4
PASSWORD = "wincar-bench-2026"
EMAILS_PER_CLAIM = 2  # repairer and ASP centre (no lawyer yet)


def prepare_redis(url: str) -> redis.Redis:
    """The benchmark's Redis db, reachable and emptied; db 0 (a real queue's) is refused."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
    except ValueError as exc:
        sys.exit(f"error: bad Redis URL {shown(url)}: {exc}")
    if int(client.connection_pool.connection_kwargs.get("db", 0) or 0) == 0:
        sys.exit(f"error: refusing to flush Redis db 0 ({shown(url)}): give a db of the benchmark's own, "
                 f"e.g. {DEFAULT_REDIS_URL}")
    try:
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        sys.exit(f"error: Redis not reachable at {shown(url)}: {exc}")
    return client


def server_env(args, work_dir) -> dict:
    """The environment of gunicorn (and of this process's app): configuration as in production."""
    env = dict(os.environ)
    for name in ("HUEY_IMMEDIATE", "MAIL_SERVER", "GUNICORN_CMD_ARGS", "FLASK_DEBUG"):
        env.pop(name, None)
    env.update({
        "DATABASE_URL": args.pg_url,
        "REDIS_URL": args.redis_url,
        "STORAGE_DIR": str(work_dir / "storage"),
        "GESSIN_INSTANCE": str(work_dir / "instance"),
        "SECRET_KEY": "benchmark-secret",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def build_app(env: dict):
    """The application (this process's, for setup, checks and the profile) on an empty, migrated database."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "SECRET_KEY")})
    app = create_app({"MAIL_SERVER": None})
    for name in ("gessin", "peewee_migrate", "huey"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import tasks
    if type(tasks.huey).__name__ != "RedisHuey":
        raise RuntimeError(f"the task queue is {type(tasks.huey).__name__}, not RedisHuey: REDIS_URL not applied")
    with app.app_context(), db.connection_context():
        if not is_postgres():
            raise RuntimeError(f"{shown(env['DATABASE_URL'])} is not a PostgreSQL database")
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        upgrade()
    return app


def seed(app, redis_client: redis.Redis) -> tuple:
    """One ASP centre, the insurers WinCar names, REPAIRERS repairers with WinCar credentials."""
    from workflows import credentials
    with app.app_context(), db.connection_context():
        centre = factories.centre(name="Centro ASP Bench")
        for name in INSURERS:
            factories.insurer(name=name)
        logins = []
        for i in range(REPAIRERS):
            repairer = factories.repairer(name=f"Carrozzeria Bench {i + 1}")
            logins.append(credentials.issue(repairer, f"BENCH{i + 1:03d}", f"{PASSWORD}-{i + 1}"))
    redis_client.flushdb()  # the credentials e-mails: the queue starts empty
    return centre, logins


def verify(app, result: Pass, hashed: int = 5) -> str:
    """The claims of a pass in the database, with their documents on disk and their e-mails
    in the outbox. Returns a summary line; fills result.server_ms."""
    from workflows.attachments import storage_path
    refs = [r.ref for r in result.results]
    storage = app.config["STORAGE_DIR"]
    sizes = {kind: size for kind, _n, _h, _t, size in DOCUMENTS}
    with app.app_context(), db.connection_context():
        claims = {c.wincar_ref: c for c in Claim.select(Claim.id, Claim.number, Claim.wincar_ref)
                  .where(Claim.wincar_ref.in_(refs))}
        if len(claims) != len(refs):
            raise RuntimeError(f"{result.label}: {len(refs)} claims posted, {len(claims)} in the database")
        for r in result.results:
            if claims[r.ref].number != r.answer["number"]:
                raise RuntimeError(f"{r.ref}: answered {r.answer['number']}, saved as {claims[r.ref].number}")
        ids = [c.id for c in claims.values()]
        attachments = list(Attachment.select().where(Attachment.claim.in_(ids)))
        per_claim = Counter(a.claim_id for a in attachments)
        wrong = [cid for cid in ids if per_claim[cid] != len(DOCUMENTS)]
        if wrong:
            raise RuntimeError(f"{result.label}: {len(wrong)} claims without exactly {len(DOCUMENTS)} attachments")
        on_disk = 0
        for i, a in enumerate(attachments):
            path = storage_path(storage, a.stored_name)
            if a.size != sizes[a.kind] or a.version != 1:
                raise RuntimeError(f"attachment {a.id} ({a.kind}): size {a.size}, version {a.version}")
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise RuntimeError(f"attachment {a.id} ({a.kind}): file {path} missing")
            if size != a.size:
                raise RuntimeError(f"attachment {a.id}: {size} bytes on disk, {a.size} recorded")
            if i < hashed and hashlib.sha256(path.read_bytes()).hexdigest() != a.sha256:
                raise RuntimeError(f"attachment {a.id}: sha256 of the file differs from the recorded one")
            on_disk += size
        emails = OutboundEmail.select().where(OutboundEmail.claim.in_(ids)).count()
        if emails != EMAILS_PER_CLAIM * len(ids):
            raise RuntimeError(f"{result.label}: {emails} outbox e-mails, expected {EMAILS_PER_CLAIM * len(ids)}")
        texts = OutboundEmail.select(OutboundEmail.message).where(OutboundEmail.claim.in_(ids)).distinct().count()
        if texts != emails:  # the repairer's and the centre's e-mails say different things
            raise RuntimeError(f"{result.label}: {texts} stored texts for {emails} outbox e-mails")
        events = list(IntakeEvent.select(IntakeEvent.http_status, IntakeEvent.duration_ms)
                      .where(IntakeEvent.wincar_ref.in_(refs)))
        if sorted(e.http_status for e in events) != [201] * len(refs):
            raise RuntimeError(f"{result.label}: intake log has {Counter(e.http_status for e in events)}")
        result.server_ms = sorted(e.duration_ms for e in events)
    return (f"checked: {len(ids)} claims, {len(attachments)} attachments ({len(DOCUMENTS)} each, "
            f"{min(hashed, len(attachments))} re-hashed), {on_disk / 1e6:,.1f} MB on disk, {emails} outbox e-mails")


def verify_queue(redis_client: redis.Redis, claims: int, queued_before: int) -> int:
    """The e-mails' huey tasks of `claims` new claims, queued in Redis; returns the tasks now queued."""
    import tasks
    queued = tasks.huey.pending_count()
    if queued - queued_before != EMAILS_PER_CLAIM * claims:
        raise RuntimeError(f"{queued - queued_before} huey tasks queued in Redis for {claims} claims, "
                           f"expected {EMAILS_PER_CLAIM * claims}")
    print(f"  huey: {queued - queued_before} e-mail tasks queued in Redis db "
          f"{redis_client.connection_pool.connection_kwargs.get('db')} for the {claims} claims of all passes "
          f"({EMAILS_PER_CLAIM} each, none run)")
    return queued


def verify_floor_queue(redis_client: redis.Redis, claims: int, key: str) -> None:
    """The floor's e-mail ids in its Redis list `key`, two per claim of its passes; then emptied."""
    queued = redis_client.llen(key)
    redis_client.delete(key)
    if queued != EMAILS_PER_CLAIM * claims:
        raise RuntimeError(f"{queued} e-mail ids in the floor's Redis list for {claims} claims, "
                           f"expected {EMAILS_PER_CLAIM * claims}")
    print(f"  floor: {queued} e-mail ids in its Redis list for the {claims} claims of its passes")


def remove_files(app, result: Pass) -> None:
    """The documents of a checked pass, deleted to spare the disk (about 2 MB a claim)."""
    from workflows.attachments import storage_path
    with app.app_context(), db.connection_context():
        names = [a.stored_name for a in Attachment.select(Attachment.stored_name).join(Claim)
                 .where(Claim.wincar_ref.in_([r.ref for r in result.results]))]
    for name in names:
        storage_path(app.config["STORAGE_DIR"], name).unlink(missing_ok=True)


