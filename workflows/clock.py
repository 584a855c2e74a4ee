"""Today, as the people using Gessin count days: in Italy."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def today() -> dt.date:
    """The date in Rome (a date typed just after midnight there is not in the future)."""
    return dt.datetime.now(ROME).date()
