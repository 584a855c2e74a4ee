from models import Claim
from .conftest import login


def test_admin_sees_claim_grid(client, f):
    admin = f.user()
    c = f.centre(); r = f.repairer()
    claim = f.claim(r, c)
    login(client, admin)
    page = client.get("/admin/claim/").get_data(as_text=True)
    assert claim.number in page
    assert Claim.select().count() == 1
