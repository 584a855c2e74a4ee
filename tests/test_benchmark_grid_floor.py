"""The floor of the grid benchmark (benchmarks/grid_floor.py): it must count and read the rows,
and the parties' names, the grid page shows, or its ratio says nothing."""
from __future__ import annotations

import re

from benchmarks.grid_floor import grid_floor
from models import Claim, ClaimStatus, InsuranceCompany, db

from .conftest import login
from .test_queues import board  # noqa: F401 - fixture


def page_rows(html: str) -> dict[str, str]:
    """Claim number -> its row's cells, from a grid page."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        number = re.search(r"\b20\d\d/\d{6}\b", row)
        if number:
            rows[number.group(0)] = row
    return rows


def test_the_grid_floor_reads_the_rows_and_names_the_grid_shows(client, board, f):
    claim = board.claims.later
    Claim.update(lawyer=f.lawyer(board.alfa, name="Avv. Neri"), insurer=InsuranceCompany.create(name="Assicura Uno")
                 ).where(Claim.id == claim.id).execute()
    login(client, board.users.admin)
    for where, url in ((("", []), "/admin/claim/?page_size=100"),
                       ((f'WHERE c."status" = {db.param}', [ClaimStatus.RECEIVED]),
                        f"/admin/claim/?flt0_0={ClaimStatus.RECEIVED}&page_size=100")):
        shown = page_rows(client.get(url).get_data(as_text=True))
        count, rows = grid_floor(where, 100)
        assert count == len(shown) == len(rows) > 0
        for row in rows:
            number, names = row[1], [row[3], row[4], row[5], row[11]]
            assert number in shown
            for name in filter(None, names):
                assert f">{name}</td>" in shown[number], (number, name)
        if not where[1]:
            assert [row[5] for row in rows if row[1] == claim.number] == ["Avv. Neri"]
