"""WinCar commands: issue a repairer's credentials, and send a payload as WinCar does."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import click
from flask.cli import with_appcontext

from models import Repairer
from workflows import credentials


@click.command("wincar-credentials")
@click.argument("vat_number")
@click.option("--user-id", help="UserID da assegnare (predefinito: quello attuale, oppure R + partita IVA)")
@with_appcontext
def wincar_credentials(vat_number, user_id):
    """New WinCar credentials for the repairer with this VAT number (the old ones stop working)."""
    repairer = Repairer.get_or_none(Repairer.vat_number == vat_number.strip())
    if repairer is None:
        raise click.ClickException(f"Nessuna carrozzeria con partita IVA {vat_number}.")
    user, password = credentials.issue(repairer, user_id=user_id)
    click.echo(f"Credenziali WinCar di {repairer.name} (inviate anche a {repairer.email}):")
    click.echo(f"  UserID:   {user}")
    click.echo(f"  Password: {password}")
    click.echo("La password non viene conservata: annotatela ora.")


def load_payload(path: Path) -> dict:
    """A payload file; an attachment may name a file by `path`, read and encoded here as WinCar does."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    for item in payload.get("attachments", []):
        if "path" in item:
            source = (path.parent / item.pop("path")).resolve()
            item["content_base64"] = base64.b64encode(source.read_bytes()).decode()
            item.setdefault("filename", source.name)
    return payload


@click.command("wincar-send")
@click.argument("payload_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="UserID WinCar della carrozzeria")
@click.option("--password", required=True, prompt=True, hide_input=True, help="Password WinCar")
@click.option("--url", default="http://127.0.0.1:5000/api/v1/claims", show_default=True)
@click.option("--idempotency-key", help="Chiave dell'invio (predefinita: una nuova a ogni comando)")
def wincar_send(payload_file, user_id, password, url, idempotency_key):
    """Send a claim payload to the intake endpoint the way WinCar does, and print the answer."""
    body = json.dumps(load_payload(payload_file)).encode()
    token = base64.b64encode(f"{user_id}:{password}".encode()).decode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Basic {token}",
        "Idempotency-Key": idempotency_key or str(uuid.uuid4())})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()
    except urllib.error.URLError as error:
        raise click.ClickException(f"Portale non raggiungibile su {url}: {error.reason}")
    click.echo(f"HTTP {status}")
    try:
        click.echo(json.dumps(json.loads(answer), indent=2, ensure_ascii=False))
    except ValueError:
        click.echo(answer.decode(errors="replace"))
    if status >= 400:
        raise SystemExit(1)
