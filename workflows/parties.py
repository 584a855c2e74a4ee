"""Rules about the parties themselves."""
from __future__ import annotations

from models import AspCentre, Lawyer


def ensure_own_desk(centre: AspCentre) -> Lawyer:
    """The centre's own desk: the 'lawyer' a centre entrusts files to when it recovers them itself."""
    desk = Lawyer.get_or_none(Lawyer.own_centre == centre)
    if desk is None:
        desk = Lawyer.create(name=centre.name, kind="centre_desk", email=centre.email,
                             pec=centre.pec, own_centre=centre)
    return desk
