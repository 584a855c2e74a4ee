"""Who may cancel a claim file opened by mistake (the `cancel` event of the transition table)."""
from __future__ import annotations

from models import Claim, Role, StatusChange, User

from .claims import OPEN_EVENT


def opened_by_centre_of(claim: Claim, user: User) -> bool:
    """`user` manages the claim's centre and the claim was entered by hand there, by one of
    its staff: a file WinCar sent is the repairer's, and the centre asks the call centre."""
    if user.role != Role.ASP_MANAGER or user.asp_centre_id != claim.asp_centre_id or claim.source != "web":
        return False
    opener = (User.select(User.asp_centre).join(StatusChange, on=(StatusChange.actor == User.id))
              .where(StatusChange.claim == claim.id, StatusChange.event == OPEN_EVENT).first())
    return opener is not None and opener.asp_centre_id == claim.asp_centre_id
