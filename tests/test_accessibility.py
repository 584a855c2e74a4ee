"""Pages usable with assistive technology and readable by everyone (WCAG 2.1 AA basics):
the page's language, a name for every field, badge colours with enough contrast."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from admin_views.formatters import status_badge
from models import ClaimStatus, Role
from workflows import next_due

from .accessibility import unnamed_fields
from .conftest import csrf_token, login
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "gessin.css"


def test_the_page_says_its_language_and_follows_the_users_choice(client, desk):
    login(client, desk.users[Role.ASP_MANAGER])
    assert '<html lang="it">' in client.get("/admin/claim/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/admin/"), "next": "/admin/"})
    assert '<html lang="en">' in client.get("/admin/claim/").get_data(as_text=True)


@pytest.mark.parametrize("role", (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER))
def test_every_field_of_the_daily_pages_has_a_name(client, desk, role):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    login(client, desk.users[role])
    urls = ["/admin/", "/admin/claim/", "/admin/queue/to-validate/", f"/admin/claim/details/?id={claim.id}",
            f"/admin/claim/edit/?id={claim.id}", "/admin/repairer/"]
    if role != Role.LAWYER:
        urls.append("/admin/claim/new/")
    found = {}
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        found[url] = unnamed_fields(page.get_data(as_text=True))
    assert found == {url: [] for url in urls}


def test_the_public_pages_name_every_field(client):
    found = {url: unnamed_fields(client.get(url).get_data(as_text=True))
             for url in ("/login", "/registrazione", "/password-dimenticata")}
    assert found == {url: [] for url in found}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_colours() -> dict[str, tuple[str, str]]:
    """Selector -> (background, text) as static/css/gessin.css sets them."""
    rules = {}
    for selector, body in re.findall(r"([^{}/]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)):
        background = re.search(r"background-color:\s*(#[0-9a-fA-F]{6})", body)
        text = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", body)
        if background and text:
            rules[selector.strip()] = (background.group(1), text.group(1))
    return rules


def test_the_worked_contrast_formula_matches_the_known_figures():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#007bff", "#ffffff"), 2) == 3.98  # Bootstrap's primary badge: not enough


def test_every_badge_colour_in_use_reaches_4_5_to_1():
    rules = css_colours()
    used = set(ClaimStatus.BADGES.values()) | set(next_due.LEVEL_BADGES.values())
    assert {f".badge-{name}" for name in used} <= set(rules)
    weak = {name: round(contrast(*rules[f".badge-{name}"]), 2) for name in used
            if contrast(*rules[f".badge-{name}"]) < 4.5}
    assert weak == {}
    assert contrast(*rules[".badge.status-closed"]) >= 4.5


def test_closed_and_reimbursed_closed_look_different():
    rules = css_colours()
    closed, reimbursed = status_badge(ClaimStatus.CLOSED), status_badge(ClaimStatus.REIMBURSED)
    assert "status-closed" in closed and "status-closed" not in reimbursed
    reimbursed_colours = rules[f".badge-{ClaimStatus.BADGES[ClaimStatus.REIMBURSED]}"]
    assert rules[".badge.status-closed"] != reimbursed_colours


def test_the_stylesheet_is_served_by_the_app_on_every_admin_page(client, desk):
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get("/admin/claim/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/gessin.css">' in page
    assert client.get("/static/css/gessin.css").status_code == 200
