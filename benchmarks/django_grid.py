"""The claims grid (/admin/claim/) against Django admin on the same tables and the same data.

In one process and one run, per backend (SQLite file in a temp directory, PostgreSQL
database `gessin_bench_django`):

1. builds our app on a fresh, migrated database and loads N claims (default 200,000)
   exactly as `grid.py` does (its functions, imported), and logs its admin and the manager
   of one ASP centre in through the login form;
2. configures Django in code on the same database (`django_site/`: DEBUG off, persistent
   connection, sessions in the database, Italian), runs Django's own migrations (its
   `auth_*` and `django_*` tables) and makes a superuser and a staff manager of the same
   centre, logged in with `django.test.Client.force_login`;
3. for each of grid.py's five pages (admin unfiltered; state=received, state=closed and one
   centre, newest first; the centre's manager, scoped), at 20 and 100 rows, times in the
   same loop, one request of each in turn after two warm-ups: ours (Flask test client, as
   in production: the menu's counts and the filters' drop-downs kept per user, the count
   stopped at LIST_COUNT_CAP); ours "plain" (the same requests with nothing kept and every
   row counted, as Django works); Django admin with its defaults; Django admin tuned for
   large tables (`show_full_result_count = False`); and grid.py's raw-SQL floor (one COUNT,
   one SELECT of the page's rows with their parties' names). Each page must answer 200 and
   show the claim that should come first;
4. prints per page and size the medians (p95), the floor, each side's ratio to the floor,
   ours / Django default, ours / Django tuned and plain / Django default (below 1: we lead),
   and the SQL statements of one warm request of each side.

Trailing Django is reported, not an error: the exit status is non-zero only when something
fails (a page not 200, a claim missing, PostgreSQL unreachable).

Usage (Django is a benchmark-only requirement):
    .venv/bin/pip install -r benchmarks/requirements-django.txt
    .venv/bin/python benchmarks/django_grid.py [--claims 200000] [--runs 30]
        [--backend sqlite|postgres|both] [--pg-url postgresql+pool://...] [--keep]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlencode

import grid  # first: it sets the temp instance dir before the app is imported
from common import QueryCounter, backends, run_main, shown
from grid import NUMBER_RE, build_app, fetch_page, get_page, grid_pages, login
from timing import checked, summary
from grid_data import load_claims, seed_parties
from models import db

import django_site

DEFAULT_PG_URL = "postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_django?max_connections=8"
SIDES = ("ours", "plain", "django", "tuned", "floor")
# "plain": ours with nothing kept across requests and every row counted, as Django admin
# works: the menu's counts and the filters' drop-downs read on every page, no LIST_COUNT_CAP.
PLAIN = {"MENU_COUNTS_SECONDS": 0, "CHOICES_SECONDS": 0, "LIST_COUNT_CAP": 0}
SIZES = (20, 100)


def django_pages(pages: list[tuple], centre: int) -> list[tuple[str, dict]]:
    """(user, query string) of the Django changelist matching each of grid.py's pages, checked by label."""
    from django_site.admin import ClaimAdmin
    newest = {"o": f"-{['action_checkbox', *ClaimAdmin.list_display].index('received_at')}"}
    wanted = (("unfiltered", "admin", {}),
              ("state=received", "admin", {"status__exact": "received", **newest}),
              ("state=closed", "admin", {"status__exact": "closed", **newest}),
              (f"centre #{centre}, newest", "admin", {"asp_centre__id__exact": centre, **newest}),
              ("manager of centre", "manager", {}))
    if len(pages) != len(wanted):
        raise RuntimeError(f"grid.py lists {len(pages)} pages, this benchmark knows {len(wanted)}")
    matched = []
    for (label, who, *_rest), (part, django_who, params) in zip(pages, wanted):
        if part not in label or who != django_who:
            raise RuntimeError(f"grid.py's page {label!r} ({who}) is not the expected {part!r} ({django_who})")
        matched.append((django_who, params))
    return matched


def fetch_django(client, url: str, expected: str | None):
    """GET `url` from Django; returns the check of its answer, run after the clock has stopped,
    as `grid.fetch_page` does for ours."""
    response = client.get(url)
    return lambda: check_django(response, url, expected)


def get_django(client, url: str, expected: str | None) -> None:
    fetch_django(client, url, expected)()


def check_django(response, url: str, expected: str | None) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"Django GET {url}: HTTP {response.status_code}")
    html = response.content.decode()
    if not NUMBER_RE.search(html):
        raise RuntimeError(f"Django GET {url}: no claim number on the page")
    if expected and expected not in html:
        raise RuntimeError(f"Django GET {url}: expected claim {expected} missing (filter or sort ignored?)")


def time_sides(calls: dict, runs: int) -> dict:
    """(median, p95) ms of each callable: two warm-ups each, then `runs` rounds of one call of
    each in turn, the first of a round moving on by one each round."""
    names = list(calls)
    for _ in range(2):
        for name in names:
            checked(calls[name]())
    times = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            started = time.perf_counter()
            check = calls[name]()
            times[name].append((time.perf_counter() - started) * 1000)
            checked(check)
    return {name: summary(values) for name, values in times.items()}


def plain(app, request):
    """`request()` with our app configured as `PLAIN`, its settings put back after."""
    def call():
        saved = {key: app.config[key] for key in PLAIN}
        app.config.update(PLAIN)
        try:
            return request()
        finally:
            app.config.update(saved)
    return call


def count_ours(client, url, expected) -> int:
    with QueryCounter() as counter:
        get_page(client, url, expected)
    return counter.count


def count_django(client, url, expected, alias) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    with CaptureQueriesContext(connections[alias]) as captured:
        get_django(client, url, expected)
    return len(captured.captured_queries)


def set_page_size(rows: int) -> None:
    from django_site.admin import CLAIM_ADMINS
    for claim_admin in CLAIM_ADMINS:
        claim_admin.list_per_page = rows


HEADER = (f"{'page':<38} {'rows':>4} {'ours ms':>12} {'plain ms':>12} {'Django ms':>12} {'tuned ms':>12} "
          f"{'floor':>5} {'x floor: ours/plain/Dj/tuned':>28} {'ours/Dj':>7} {'ours/tuned':>10} {'plain/Dj':>8} "
          f"{'statements':>12}")


def cell(result) -> str:
    return f"{result[0]:.1f} ({result[1]:.0f})"


def run_backend(name: str, url: str, args) -> list[tuple]:
    """Load, log in, time and print one backend; returns (label, rows, ours/Django, ours/tuned, plain/Django)."""
    from django.test import Client

    print(f"\n== {name}: {shown(url)}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    app = build_app(url)
    with app.app_context():
        with db.connection_context():
            parties = seed_parties()
            insert_s, analyze_s = load_claims(args.claims, parties)
            pages = grid_pages(app, parties)
    print(f"loaded {args.claims:,} claims in {insert_s:.1f} s (+ {analyze_s:.1f} s analyze)")
    ours = {}
    for key, user in parties["users"].items():
        ours[key] = app.test_client()
        login(ours[key], user)

    django_site.use(name)
    django_site.migrate(name)
    centre = parties["centres"][0]
    theirs = {}
    for key, user in zip(("admin", "manager"), django_site.make_users(centre)):
        theirs[key] = Client()
        theirs[key].force_login(user)

    print(HEADER)
    ratios = []
    for (label, who, our_url, expected, floor), (dj_who, params) in zip(pages, django_pages(pages, centre)):
        query = f"?{urlencode(params)}" if params else ""
        urls = {"django": f"/default/django_site/claim/{query}", "tuned": f"/tuned/django_site/claim/{query}"}
        for rows in SIZES:
            set_page_size(rows)
            sized = f"{our_url}{'&' if '?' in our_url else '?'}page_size={rows}"
            calls = {"ours": lambda: fetch_page(ours[who], sized, expected),
                     "plain": plain(app, lambda: fetch_page(ours[who], sized, expected)),
                     "django": lambda: fetch_django(theirs[dj_who], urls["django"], expected),
                     "tuned": lambda: fetch_django(theirs[dj_who], urls["tuned"], expected),
                     "floor": floor(ours[who], sized, rows)}
            result = time_sides(calls, args.runs)
            counts = (count_ours(ours[who], sized, expected),
                      plain(app, lambda: count_ours(ours[who], sized, expected))(),
                      count_django(theirs[dj_who], urls["django"], expected, name),
                      count_django(theirs[dj_who], urls["tuned"], expected, name))
            med = {side: result[side][0] for side in SIDES}
            x_floor = "/".join(f"{med[side] / med['floor']:.2f}" for side in SIDES[:4])
            vs = (med["ours"] / med["django"], med["ours"] / med["tuned"], med["plain"] / med["django"])
            ratios.append((label, rows, *vs))
            print(f"{label[:38]:<38} {rows:>4} {cell(result['ours']):>12} {cell(result['plain']):>12} "
                  f"{cell(result['django']):>12} {cell(result['tuned']):>12} {med['floor']:>5.1f} {x_floor:>28} "
                  f"{vs[0]:>7.2f} {vs[1]:>10.2f} {vs[2]:>8.2f} {'/'.join(map(str, counts)):>12}")
        print(f"  ours {our_url}\n  Django {urls['django']}")
    from django.db import connections
    connections[name].close()
    db.close()
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ratios


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=200_000, help="claims to load (default 200000)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page and side (default 30)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file) at the end")
    args = parser.parse_args(argv)
    if args.claims < 1 or args.runs < 1:
        parser.error("--claims and --runs must be positive")
    return args


def run(args) -> int:
    chosen = backends(args, grid.WORK_DIR)
    django_site.setup({name: django_site.database_settings(name, url, grid.WORK_DIR / "bench.db")
                       for name, url in chosen})
    import django
    print(f"work dir {grid.WORK_DIR}; {args.claims:,} claims, {args.runs} runs per page and side; Django "
          f"{django.get_version()}; ms as median (p95); statements as ours/plain/Django/tuned")
    for name, ratios in [(name, run_backend(name, url, args)) for name, url in chosen]:
        print(f"\n{name}: ours / Django default {min(r[2] for r in ratios):.2f}-{max(r[2] for r in ratios):.2f}, "
              f"ours / Django tuned {min(r[3] for r in ratios):.2f}-{max(r[3] for r in ratios):.2f}, "
              f"ours plain / Django default {min(r[4] for r in ratios):.2f}-{max(r[4] for r in ratios):.2f} "
              "(below 1: ours is faster)")
    return 0


def main(argv=None) -> int:
    return run_main(run, parse_args(argv), grid.WORK_DIR)


if __name__ == "__main__":
    sys.exit(main())
