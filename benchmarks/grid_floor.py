"""The floor of a claims grid page (`benchmarks/grid.py`): the least SQL that reads what the
page shows, one COUNT and one SELECT of the page's rows, written by hand on a connection from
the pool, so the page can be printed as a ratio to it.

The rows carry what the grid's columns show (admin_views/claims.py `column_list`): each
party's name by a subquery, as the grid reads it. The same page read with four LEFT JOINs
costs PostgreSQL some 1.5 ms more to plan on every page (a join of five tables), so it is
not the least this work costs.
"""
from __future__ import annotations

from models import db

FLOOR_ROWS = (
    'SELECT c."id", c."number", c."received_at", '
    '(SELECT r."name" FROM "repairer" AS r WHERE r."id" = c."repairer_id"), '
    '(SELECT a."name" FROM "asp_centre" AS a WHERE a."id" = c."asp_centre_id"), '
    '(SELECT l."name" FROM "lawyer" AS l WHERE l."id" = c."lawyer_id"), c."status", c."next_due_on", '
    'c."next_due_kind", c."next_warn_on", c."vehicle_a_plate", '
    '(SELECT i."name" FROM "insurance_company" AS i WHERE i."id" = c."insurer_id"), c."status_since" '
    'FROM "claim" AS c {where} ORDER BY c."received_at" DESC, c."id" DESC LIMIT {limit}')


def grid_floor(where: tuple[str, list], rows: int) -> tuple[int, list[tuple]]:
    """The least a grid page can cost: a connection from the pool, one COUNT, one SELECT
    of the page's rows (fetched), by hand; `where` is a WHERE clause on `c` and its
    parameters. Returns the count and the rows."""
    clause, params = where
    with db.connection_context():
        count = db.execute_sql(f'SELECT COUNT(*) FROM "claim" AS c {clause}', params).fetchone()[0]
        fetched = db.execute_sql(FLOOR_ROWS.format(where=clause, limit=db.param), params + [rows]).fetchall()
    if not fetched:
        raise RuntimeError(f"the floor of {clause or 'the unfiltered grid'} read no row")
    return count, fetched
