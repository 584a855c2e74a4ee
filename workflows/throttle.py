"""How long a login must wait after failed attempts: one policy for staff and WinCar logins.

The callers count recent failures (their own table, one indexed query) and hand the
counts here. Failures are counted per key (login and address together, the login
alone, and for staff the address alone) within a window. The first few failures of a
key cost nothing; after that each one doubles the wait before the next attempt, up to
a cap: a growing delay, never a wall.

An address from which this login has succeeded before (the owner's office) is not held
back by the login-wide and address-wide counts, only by its own failures for that
login: an attacker elsewhere cannot lock the real user out, and one client's failures
against a login do not hold back another login from the same address.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math


@dataclasses.dataclass(frozen=True)
class Policy:
    free_failures: int = 5         # failures within the window before any wait
    first_delay: float = 2.0       # seconds of wait at the first failure over the free ones
    max_delay: float = 900.0       # the longest wait
    window: float = 3600.0         # seconds after which a failure is forgotten

    @classmethod
    def from_config(cls, config) -> "Policy":
        return cls(free_failures=int(config["LOGIN_FREE_FAILURES"]),
                   first_delay=float(config["LOGIN_FIRST_DELAY_SECONDS"]),
                   max_delay=float(config["LOGIN_MAX_DELAY_SECONDS"]),
                   window=float(config["LOGIN_FAILURE_WINDOW_SECONDS"]))

    def since(self, now: dt.datetime) -> dt.datetime:
        """The oldest failure still counted."""
        return now - dt.timedelta(seconds=self.window)

    def delay_after(self, failures: int, free: int | None = None) -> float:
        """The wait that `failures` recent failures impose after the last of them."""
        over = failures - (self.free_failures if free is None else free)
        if over < 0:
            return 0.0
        return min(self.max_delay, self.first_delay * 2 ** min(over, 64))


@dataclasses.dataclass(frozen=True)
class Count:
    """Recent failures of one key and when the last of them happened."""

    failures: int = 0
    last: dt.datetime | None = None

    def plus_one(self, now: dt.datetime) -> "Count":
        return Count(self.failures + 1, now)


@dataclasses.dataclass(frozen=True)
class Failures:
    pair: Count                  # this login from this address
    login: Count                 # this login from anywhere
    address: Count | None = None  # this address, any login (None: not counted)
    known_address: bool = False  # this login has succeeded from this address before

    def plus_one(self, now: dt.datetime) -> "Failures":
        """The counts once the attempt being made has failed too."""
        return dataclasses.replace(self, pair=self.pair.plus_one(now), login=self.login.plus_one(now),
                                   address=self.address.plus_one(now) if self.address else None)


def wait_seconds(policy: Policy, failures: Failures, now: dt.datetime, address_free: int | None = None) -> int:
    """Whole seconds before the next attempt may be checked (0: now).

    `address_free` is how many failures an address may make across logins before it waits.
    """
    waits = [_remaining(policy.delay_after(failures.pair.failures), failures.pair.last, now)]
    if not failures.known_address:
        waits.append(_remaining(policy.delay_after(failures.login.failures), failures.login.last, now))
        if failures.address is not None:
            waits.append(_remaining(policy.delay_after(failures.address.failures, address_free),
                                    failures.address.last, now))
    return max(waits)


def needs_known_address(policy: Policy, failures: Failures, now: dt.datetime, address_free: int | None = None) -> bool:
    """Whether the answer depends on `known_address`: only then must the caller look it up."""
    blocked = dataclasses.replace(failures, known_address=False)
    allowed = dataclasses.replace(failures, known_address=True)
    return wait_seconds(policy, blocked, now, address_free) != wait_seconds(policy, allowed, now, address_free)


def _remaining(delay: float, last: dt.datetime | None, now: dt.datetime) -> int:
    if not delay or last is None:
        return 0
    left = (last - now).total_seconds() + delay
    return max(0, math.ceil(left))
