"""The home page's figures ("Cruscotto") for one user: every one an SQL aggregate over
the claims `access.visible_claims(user)` returns, so the scope is decided there and the
number of queries does not grow with the claims. The open claims are read twice, from
one covering index: counted per state, centre and lawyer (`open_groups`), whose few rows
the breakdowns and the totals add up, never the claims; and per state and day of age
(`queue_ages`).

What each role gets (`SECTIONS`): the call centre and an ASP manager the breakdown by
centre and by lawyer (a manager's rows are its own centre and the lawyers of its claims),
a lawyer its own row, a repairer neither. Ages, deadlines, terms and the to-do list
are read from the claim's stored next deadline (`workflows.next_due`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, ClaimStatus, DeadlineReminder, Lawyer, Role, User, is_postgres, utcnow

from . import access, clock, deadlines, next_due

OPEN = next_due.OPEN
LEGAL_KINDS = (deadlines.OFFER, deadlines.PAYMENT, deadlines.PRESCRIPTION)  # the suit term is never "next"
TREND_WEEKS = 12
TODO_LIMIT = 20
S = ClaimStatus
# What a claim on the to-do list needs, in words: a legal term by its kind, a queue limit by the state.
ACTION_BY_KIND = {
    deadlines.OFFER: _l("Sollecitare l'offerta della compagnia"),
    deadlines.PAYMENT: _l("Sollecitare il pagamento alla compagnia"),
    deadlines.PRESCRIPTION: _l("Interrompere la prescrizione (raccomandata o PEC alla compagnia)"),
}
ACTION_BY_STATUS = {
    S.RECEIVED: _l("Controllare i documenti e validare la pratica"),
    S.INCOMPLETE: _l("Sollecitare i documenti mancanti alla carrozzeria"),
    S.VALIDATED: _l("Affidare la pratica a un legale"),
    S.ASSIGNED: _l("Inviare la richiesta danni alla compagnia"),
    S.FILED: _l("Sollecitare la risposta della compagnia"),
    S.PARTIALLY_REIMBURSED: _l("Recuperare il residuo dalla compagnia"),
}
STAFF = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)  # who works the deadlines
SECTIONS = {
    Role.ADMIN: ("centres", "lawyers"),
    Role.ASP_MANAGER: ("centres", "lawyers"),
    Role.LAWYER: ("lawyers",),
    Role.REPAIRER: (),
}


@dataclass(frozen=True)
class QueueAge:
    status: str
    claims: int
    median_days: int
    oldest_days: int


@dataclass(frozen=True)
class Breakdown:
    id: int
    name: str
    open: int
    overdue: int


@dataclass(frozen=True)
class DueClaim:
    id: int
    number: str
    status: str
    customer_name: str | None
    due_on: dt.date
    kind: str
    level: str

    @property
    def action(self):
        """What to do next, where the deadline says it (None where it does not)."""
        return ACTION_BY_KIND.get(self.kind) or ACTION_BY_STATUS.get(self.status)


@dataclass
class Dashboard:
    role: str
    today: dt.date
    states: dict[str, int]
    ages: list[QueueAge]
    overdue: int
    due_soon: int
    trend: list[tuple[dt.date, int]]
    terms: dict[str, dict[str, int]]  # "this_week" / "next_week" -> legal kind -> claims
    term_claims: list[DueClaim]
    todo: list[DueClaim]
    centres: list[Breakdown] = field(default_factory=list)
    lawyers: list[Breakdown] = field(default_factory=list)

    @property
    def sections(self) -> tuple[str, ...]:
        return SECTIONS.get(self.role, ())

    @property
    def simple(self) -> bool:
        """A repairer's page: its claims per state, nothing of the deadlines it does not work."""
        return self.role not in STAFF


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week (weeks run Monday to Sunday, as in Italy)."""
    return day - dt.timedelta(days=day.weekday())


def _open(user: User, *fields) -> pw.ModelSelect:
    return access.visible_claims(user, *fields).where(Claim.status.in_(OPEN))


# COUNT(*), not COUNT(id): the id is in no covering index of PostgreSQL's, so counting it
# would read the table.
ALL_ROWS = pw.fn.COUNT(pw.SQL("*"))


def _count_if(condition) -> pw.Expression:
    return pw.fn.COUNT(pw.Case(None, [(condition, 1)]))


def state_counts(user: User) -> dict[str, int]:
    """Claims per state, every state present (0 where none)."""
    counts = access.status_counts(user)
    return {status: counts.get(status, 0) for status in ClaimStatus.ALL}


@dataclass(frozen=True)
class Group:
    """Open claims of one state, centre and lawyer (None: not entrusted), with their levels."""
    status: str
    centre: int
    lawyer: int | None
    open: int
    overdue: int
    due_soon: int


def open_groups(user: User, today: dt.date | None = None) -> list[Group]:
    """The open claims counted per state, centre and lawyer, overdue and due soon among them:
    one GROUP BY read once for the breakdowns and the totals, whose rows are the few
    (state, centre, lawyer) triples, never the claims."""
    today = today or clock.today()
    query = (_open(user, Claim.status, Claim.asp_centre, Claim.lawyer, ALL_ROWS,
                   _count_if(next_due.level_clause(next_due.OVERDUE, today)),
                   _count_if(next_due.level_clause(next_due.DUE_SOON, today)))
             .group_by(Claim.status, Claim.asp_centre, Claim.lawyer))
    return [Group(*row) for row in query.tuples()]


def _breakdown(groups: list[Group], key: str, model) -> list[Breakdown]:
    totals: dict[int, list[int]] = {}
    for group in groups:
        party = getattr(group, key)
        if party is not None:
            total = totals.setdefault(party, [0, 0])
            total[0] += group.open
            total[1] += group.overdue
    if not totals:
        return []
    names = model.select(model.id, model.name).where(model.id.in_(list(totals))).order_by(model.name, model.id)
    return [Breakdown(party, name, *totals[party]) for party, name in names.tuples()]


def by_centre(user: User, today: dt.date | None = None, groups: list[Group] | None = None) -> list[Breakdown]:
    if "centres" not in SECTIONS.get(user.role, ()):
        return []
    return _breakdown(open_groups(user, today) if groups is None else groups, "centre", AspCentre)


def by_lawyer(user: User, today: dt.date | None = None, groups: list[Group] | None = None) -> list[Breakdown]:
    if "lawyers" not in SECTIONS.get(user.role, ()):
        return []
    return _breakdown(open_groups(user, today) if groups is None else groups, "lawyer", Lawyer)


def _age_days(now: dt.datetime) -> pw.Expression:
    """Whole days a claim has been in its state at `now` (as `Claim.days_in_status`)."""
    moment = now.strftime("%Y-%m-%d %H:%M:%S")
    if is_postgres():
        at = pw.fn.CAST(pw.NodeList((moment, pw.SQL("AS TIMESTAMP"))))
        waited = pw.NodeList((at, pw.SQL("-"), Claim.status_since), parens=True)
        days = pw.fn.EXTRACT(pw.NodeList((pw.SQL("DAY FROM"), waited)))
    else:
        days = pw.fn.julianday(moment) - pw.fn.julianday(Claim.status_since)
    return pw.fn.CAST(pw.NodeList((days, pw.SQL("AS INTEGER"))))


# Per state its claims, oldest day and median day, over the open claims counted per state
# and day of age (`per_day`, a few hundred rows per state, not the claims). The median is
# the lower middle claim by age from the oldest (the older one of the two middles for an
# even count): the day at which the running total from the oldest day reaches (n + 1) / 2.
# Kept apart from `open_groups`: grouped together by state, centre, lawyer and day, the
# claims made tens of thousands of groups to sort; apart, the groups come in the order of
# the covering index `claim (status, asp_centre_id, lawyer_id, ...)` and the ages sort only
# (state, day) pairs.
AGES_SQL = """
WITH per_day AS ({inner}),
running AS (SELECT status, age, claims,
                   CAST(SUM(claims) OVER (PARTITION BY status ORDER BY age DESC) AS INTEGER) AS cum,
                   CAST(SUM(claims) OVER (PARTITION BY status) AS INTEGER) AS total
            FROM per_day)
SELECT status, MAX(total), MAX(age),
       MAX(CASE WHEN cum >= (total + 1) / 2 AND cum - claims < (total + 1) / 2 THEN age END)
FROM running GROUP BY status
"""


def queue_ages(user: User, now: dt.datetime | None = None) -> list[QueueAge]:
    """How long the claims of each open state have waited in it: median and oldest, in days."""
    inner = (_open(user, Claim.status, _age_days(now or utcnow()).alias("age"), ALL_ROWS.alias("claims"))
             .group_by(Claim.status, pw.SQL('"age"')))
    sql, params = inner.sql()
    ages = {status: QueueAge(status, int(claims), int(median), int(oldest))
            for status, claims, oldest, median in Claim._meta.database.execute_sql(AGES_SQL.format(inner=sql), params)}
    return [ages[status] for status in OPEN if status in ages]


def open_figures(user: User, today: dt.date | None = None,
                 now: dt.datetime | None = None) -> tuple[list[Group], list[QueueAge]]:
    """`open_groups` and `queue_ages`: the home page's two reads of the open claims."""
    return open_groups(user, today), queue_ages(user, now)


def deadline_levels(user: User, today: dt.date | None = None, groups: list[Group] | None = None) -> tuple[int, int]:
    """(overdue, due soon) among the open claims, by their stored next deadline."""
    groups = open_groups(user, today) if groups is None else groups
    return sum(g.overdue for g in groups), sum(g.due_soon for g in groups)


def overdue_trend(user: User, today: dt.date | None = None, weeks: int = TREND_WEEKS) -> list[tuple[dt.date, int]]:
    """(Monday, claims) for the last `weeks` weeks, this one last: how many claims became
    overdue in each (a reminder of level "overdue" found that week; a claim once a week
    however many recipients were told)."""
    today = today or clock.today()
    mondays = [week_start(today) - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    week = pw.Case(None, [(DeadlineReminder.found_on >= monday, i) for i, monday in reversed(list(enumerate(mondays)))])
    query = (DeadlineReminder.select(week.alias("week"), pw.fn.COUNT(DeadlineReminder.claim.distinct()))
             .where(DeadlineReminder.level == next_due.OVERDUE,
                    DeadlineReminder.found_on >= mondays[0], DeadlineReminder.found_on <= today)
             .group_by(pw.SQL('"week"')))
    if not access.sees_all(user):  # the call centre's scope is every claim: no join to apply it
        query = query.join(Claim, on=(DeadlineReminder.claim == Claim.id)).where(access.claim_scope(user))
    counts = dict(query.tuples())
    return [(monday, counts.get(i, 0)) for i, monday in enumerate(mondays)]


def _term_weeks(today: dt.date) -> tuple[tuple[str, dt.date, dt.date], ...]:
    monday = week_start(today)
    return (("this_week", monday, monday + dt.timedelta(days=6)),
            ("next_week", monday + dt.timedelta(days=7), monday + dt.timedelta(days=13)))


def legal_terms_due(user: User, today: dt.date | None = None) -> dict[str, dict[str, int]]:
    """Open claims whose next deadline is a legal term falling due this week or next
    (Monday to Sunday), per week and kind."""
    weeks = _term_weeks(today or clock.today())
    which = pw.Case(None, [((Claim.next_due_on >= start) & (Claim.next_due_on <= end), name)
                           for name, start, end in weeks])
    query = (_open(user, which.alias("week"), Claim.next_due_kind, pw.fn.COUNT(Claim.id))
             .where(Claim.next_due_kind.in_(LEGAL_KINDS), Claim.next_due_on.between(weeks[0][1], weeks[-1][2]))
             .group_by(pw.SQL('"week"'), Claim.next_due_kind))
    out = {name: {kind: 0 for kind in LEGAL_KINDS} for name, _, _ in weeks}
    for name, kind, count in query.tuples():
        out[name][kind] = count
    return out


def _due_claims(query, today: dt.date, limit: int) -> list[DueClaim]:
    query = query.order_by(Claim.next_due_on, Claim.id).limit(limit)
    return [DueClaim(row.id, row.number, row.status, row.customer_name, row.next_due_on, row.next_due_kind,
                     next_due.level_of(row.next_due_on, row.next_warn_on, today))
            for row in query.namedtuples()]


DUE_FIELDS = (Claim.id, Claim.number, Claim.status, Claim.customer_name, Claim.next_due_on, Claim.next_due_kind,
              Claim.next_warn_on)


def legal_term_claims(user: User, today: dt.date | None = None, limit: int = TODO_LIMIT) -> list[DueClaim]:
    """The first `limit` claims of `legal_terms_due`, by due date."""
    today = today or clock.today()
    weeks = _term_weeks(today)
    query = _open(user, *DUE_FIELDS).where(Claim.next_due_kind.in_(LEGAL_KINDS),
                                           Claim.next_due_on.between(weeks[0][1], weeks[-1][2]))
    return _due_claims(query, today, limit)


def todo(user: User, today: dt.date | None = None, limit: int = TODO_LIMIT) -> list[DueClaim]:
    """"Da fare oggi": the user's claims whose next deadline is overdue or due soon,
    the most urgent first."""
    today = today or clock.today()
    late = next_due.level_clause(next_due.OVERDUE, today) | next_due.level_clause(next_due.DUE_SOON, today)
    # Said again on its own, the first condition lets the database range-scan the index of
    # next_due_on in order and stop at `limit` (SQLite keeps NULLs, the closed claims, first).
    query = _open(user, *DUE_FIELDS).where(Claim.next_due_on.is_null(False), late)
    return _due_claims(query, today, limit)


def _states_only(user: User, today: dt.date) -> Dashboard:
    return Dashboard(role=user.role, today=today, states=state_counts(user), ages=[], overdue=0, due_soon=0,
                     trend=[], terms={}, term_claims=[], todo=[])


def charts_for(user: User, today: dt.date | None = None) -> Dashboard:
    """What the page's charts draw: the states, the trend and the breakdowns (the ages,
    terms and to-do list, which no chart shows, are left empty)."""
    today = today or clock.today()
    if user.role not in STAFF:
        return _states_only(user, today)
    groups = open_groups(user, today)
    overdue, due_soon = deadline_levels(user, today, groups)
    return Dashboard(
        role=user.role, today=today, states=state_counts(user), ages=[], overdue=overdue, due_soon=due_soon,
        trend=overdue_trend(user, today), terms={}, term_claims=[], todo=[],
        centres=by_centre(user, today, groups), lawyers=by_lawyer(user, today, groups),
    )


def for_user(user: User, today: dt.date | None = None, now: dt.datetime | None = None) -> Dashboard:
    """Everything the home page shows `user`, in a fixed number of queries."""
    today = today or clock.today()
    if user.role not in STAFF:
        return _states_only(user, today)
    groups, ages = open_figures(user, today, now)
    overdue, due_soon = deadline_levels(user, today, groups)
    return Dashboard(
        role=user.role, today=today, states=state_counts(user), ages=ages,
        overdue=overdue, due_soon=due_soon, trend=overdue_trend(user, today),
        terms=legal_terms_due(user, today), term_claims=legal_term_claims(user, today), todo=todo(user, today),
        centres=by_centre(user, today, groups), lawyers=by_lawyer(user, today, groups),
    )
