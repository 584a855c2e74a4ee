"""Rows for the concurrency test on the embedded default, made in their own process.

`python -m tests.load_sqlite N M` (with DATABASE_URL and GESSIN_INSTANCE set) migrates
the database, makes a centre, a repairer with WinCar credentials, an ASP manager, N
claims from WinCar and M more for a bulk job, and prints them as JSON. Run as a subprocess: the test process keeps its
own database bound.
"""
from __future__ import annotations

import datetime as dt
import json
import sys

WINCAR_USER, WINCAR_PASSWORD = "LOAD001", "password-di-prova-1"
MANAGER_PASSWORD = "password-di-prova"


def main(count: int, more: int) -> None:
    from app import create_app
    from models import Role, db
    from models.migrate import upgrade
    from workflows import credentials

    from . import factories

    app = create_app()
    with app.app_context(), db.connection_context():
        upgrade()
        centre, repairer = factories.centre(), factories.repairer()
        credentials.issue(repairer, WINCAR_USER, WINCAR_PASSWORD)
        manager = factories.user(Role.ASP_MANAGER, asp_centre=centre)
        claims = [factories.claim(repairer, centre, wincar_ref=f"LOAD-{i:03d}", accident_date=dt.date(2026, 10, 1))
                  for i in range(count)]
        with db.atomic():
            others = [factories.claim(repairer, centre).id for _ in range(more)]
        print(json.dumps({"vat": centre.vat_number, "centre": centre.name, "manager": manager.login,
                          "claims": [[c.id, c.wincar_ref] for c in claims], "others": others}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
