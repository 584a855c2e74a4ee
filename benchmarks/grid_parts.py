"""What each layer of a claims grid page costs, beside its raw-SQL floor (`benchmarks/grid.py`).

For a few pages of `grid.py` (the admin's state=received, the centre manager's grid and two
of the manager's work queues), at 20 and 100 rows, it times four sides in turn, one call of
each per run on the same pooled connection, after two warm-up rounds:

1. **page**: the page, as `grid.py` times it;
2. **no template**: the same request with the view's list template replaced by one that writes
   only the count and the rows' numbers: Flask, Flask-Login, Flask-Admin's `index_view`, our
   `get_list` (scope, filters, capped count, rows) and every statement, but no HTML;
3. **bare Flask**: a route of this script behind the same login that sends the page's floor
   statements by hand and answers a word: what any page of this stack costs around its SQL
   (the WSGI call through the test client, the session cookie, the user's row, the pool);
4. **floor**: the floor of `grid.py` alone.

It prints the medians and each side over the floor, so the gap to the 4x / 6x targets can be
read per layer: page - no template is the HTML, no template - bare Flask what Flask-Admin and
our list code add to the SQL, bare Flask - floor the request itself.

Usage:
    .venv/bin/python benchmarks/grid_parts.py [--claims 200000] [--runs 20]
        [--backend sqlite|postgres|both] [--pg-url postgresql://...] [--keep]
"""
from __future__ import annotations

import statistics
import sys
import time

from flask import Blueprint, abort, request
from flask_login import current_user

import grid
from common import backends, run_main, shown
from grid_data import load_claims, seed_parties
from models import db
from timing import checked

PAGES = ("admin: state=received", "manager of centre", "manager: queue to-validate", "manager: queue incomplete")
SIDES = ("page", "no template", "bare Flask", "floor")
EMPTY_LIST = "bench_parts_list.html"  # the count and the rows' numbers, nothing else


def add_parts_routes(app, floors: dict) -> None:
    """The empty list template and the bare route, before the app's first request."""
    templates = grid.WORK_DIR / "templates"
    templates.mkdir(exist_ok=True)
    (templates / EMPTY_LIST).write_text("{{ count }}{% for row in data %} {{ row.number }}{% endfor %}\n")
    parts = Blueprint("bench_parts", __name__, template_folder=str(templates))

    @parts.route("/bench-parts/bare")
    def bare():
        if not current_user.is_authenticated:
            abort(403)
        floors[request.args["page"]]()
        return "ok"

    app.register_blueprint(parts)


def time_sides(calls: dict, runs: int) -> dict[str, float]:
    """Median milliseconds of each side, one call of each per run, after two warm-up rounds; what
    a side returns as the check of its answer runs after the clock has stopped (`checked`)."""
    for _ in range(2):
        for call in calls.values():
            checked(call())
    times = {side: [] for side in calls}
    for _ in range(runs):
        for side, call in calls.items():
            started = time.perf_counter()
            check = call()
            times[side].append((time.perf_counter() - started) * 1000)
            checked(check)
    return {side: statistics.median(values) for side, values in times.items()}


def run_backend(name: str, url: str, args) -> None:
    print(f"\n== {name}: {shown(url)}")
    app = grid.build_app(url)
    with app.app_context(), db.connection_context():
        parties = seed_parties()
        load_claims(args.claims, parties)
        pages = [page for page in grid.grid_pages(app, parties) + grid.queue_pages(parties)
                 if page[0].startswith(PAGES)]
    floors: dict[str, object] = {}
    add_parts_routes(app, floors)
    clients = {}
    for key, user in parties["users"].items():
        clients[key] = app.test_client()
        grid.login(clients[key], user)
    views = app.extensions["gessin_admin"].views_by_endpoint
    print(f"{'page':<38} {'rows':>4} " + " ".join(f"{side:>12}" for side in SIDES) + "   x floor: "
          + " ".join(f"{side:>11}" for side in SIDES[:-1]))
    for label, who, url, expected, floor in pages:
        client = clients[who]
        view = next(v for v in views.values() if v.url == url.split("?")[0].rstrip("/"))
        for rows in (20, 100):
            sized = f"{url}{'&' if '?' in url else '?'}page_size={rows}"
            key = f"{label} {rows}"
            floors[key] = floor(client, sized, rows)

            def page():
                return grid.fetch_page(client, sized, expected)

            def no_template():
                view.list_template, kept = EMPTY_LIST, view.list_template
                try:
                    return grid.fetch_page(client, sized, expected)
                finally:
                    view.list_template = kept

            def bare():
                if client.get("/bench-parts/bare", query_string={"page": key}).status_code != 200:
                    raise RuntimeError(f"the bare route of {key} did not answer 200")

            medians = time_sides({"page": page, "no template": no_template, "bare Flask": bare,
                                  "floor": floors[key]}, args.runs)
            print(f"{label:<38} {rows:>4} " + " ".join(f"{medians[side]:>12.1f}" for side in SIDES) + "            "
                  + " ".join(f"{medians[side] / medians['floor']:>11.2f}" for side in SIDES[:-1]))
    db.close()


def run(args) -> int:
    """The figures of each backend; no target of its own (grid.py says what is over)."""
    print(f"work dir {grid.WORK_DIR}; {args.claims:,} claims, {args.runs} runs per side")
    for name, url in backends(args, grid.WORK_DIR):
        run_backend(name, url, args)
    return 0


def main(argv=None) -> int:
    return run_main(run, grid.parse_args(argv), grid.WORK_DIR)


if __name__ == "__main__":
    sys.exit(main())
