"""`flask --app app seed-demo`: a demo database that looks like the RESTART network.

Three ASP centres with their own desks, twelve body shops, six lawyers, eight
insurers, one user per role and 400 claims spread over every state, with their
history, offers, reimbursements and small PDF documents. Faker (it_IT) and the
random generator are seeded, so every run on an empty database tells the same story.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import time
from decimal import Decimal

import click
import peewee as pw
from faker import Faker
from flask import current_app
from flask.cli import with_appcontext
from stdnum import luhn

from models import (
    AspCentre,
    Attachment,
    Claim,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    OutboundMessage,
    Payment,
    Repairer,
    User,
    db,
    utcnow,
)
from workflows import credentials, next_due, notify
from workflows.parties import ensure_own_desk

from .demo_claims import ClaimBuilder, _office_hours, _set_counters, _slug, fiscal_code
from .demo_data import (
    CENT,
    CITIES,
    CLOSE_REASONS,
    DEMO_CENTRE_VAT,
    DEMO_USERS,
    DEMO_WINCAR,
    DROP_REASONS,
    DWELL,
    INSURERS,
    LAWYER_KINDS,
    MAIL_DOMAIN,
    MAIN_ROAD,
    MAX_AGE_DAYS,
    NEVER_COMPLETED,
    OPENED_BY_MISTAKE,
    PLATE_LETTERS,
    REQUIRED,
    SEED,
    SETTLED,
    STATUS_COUNTS,
    STEPS,
    Actor,
    Cast,
    City,
    Plan,
    S,
)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, expose_value=False,
              help="Semina solo un database vuoto (usata da make run): è comunque il comportamento predefinito.")
@with_appcontext
def seed_demo():
    """Fill an empty database with Italian-looking demo data; does nothing on one that has data."""
    if _has_data():
        click.echo("Il database contiene già dati (centri ASP, pratiche o utenti demo): nessuna modifica.")
        return
    started = time.perf_counter()
    seeder = DemoSeeder(current_app.config["STORAGE_DIR"])
    with _quiet("gessin.workflows"), db.atomic(), _no_emails():
        cast = seeder.seed()
        def first(kind):
            return Payment.select(pw.fn.MIN(Payment.on_date)).where(Payment.claim == Claim.id, Payment.kind == kind)
        # The builders write offers and payments as rows: the first of each, as the events would.
        Claim.update(offer_received_on=first("offer"), first_paid_on=first("reimbursement")).execute()
        next_due.recompute_all()  # and the deadlines' dates directly
    seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
    click.echo(f"Dati demo creati in {seconds} s: {len(cast.centres)} centri ASP, "
               f"{len(cast.repairers)} carrozzerie, {len(cast.lawyers)} legali, {len(cast.insurers)} compagnie, "
               f"{Claim.select().count()} pratiche, {Attachment.select().count()} allegati.")
    click.echo("Accessi demo (utente / password):")
    for login, password, _, who in DEMO_USERS:
        click.echo(f"  {who:<12} {login:<12} / {password}")
    click.echo(f"WinCar della carrozzeria demo: UserID {DEMO_WINCAR[0]} / password {DEMO_WINCAR[1]}")


def _has_data() -> bool:
    logins = [login for login, *_ in DEMO_USERS]
    return (User.select().where(User.login.in_(logins)).exists()
            or AspCentre.select().exists() or Claim.select().exists())


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Keep one INFO line per claim and per document off the terminal while seeding."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _no_emails():
    """The demo replays history: the e-mails open_claim queues for it must never go out."""
    try:
        yield
        OutboundEmail.delete().where(OutboundEmail.claim.is_null(False)).execute()  # no claim existed before
        OutboundMessage.delete().where(~pw.fn.EXISTS(
            OutboundEmail.select(OutboundEmail.id).where(OutboundEmail.message == OutboundMessage.id))).execute()
    finally:
        notify.discard()


class DemoSeeder:
    def __init__(self, storage_dir: str):
        self.storage_dir = storage_dir
        self.rng = random.Random(SEED)
        self.fake = Faker("it_IT")
        self.fake.seed_instance(SEED)
        self.now = utcnow().replace(microsecond=0)
        self.vat_numbers: set[str] = set()

    def seed(self) -> Cast:
        cast = self.parties()
        self.users(cast)
        plans = sorted((self.plan(status) for status, n in STATUS_COUNTS.items() for _ in range(n)),
                       key=lambda p: p.times[0])
        counters: dict[int, int] = {}
        for i, plan in enumerate(plans, 1):
            ClaimBuilder(self, cast, plan).create(i, counters)
            if i % 100 == 0:
                click.echo(f"  {i} pratiche su {len(plans)}…")
        _set_counters(counters)
        return cast

    # ---- small generators ------------------------------------------------------------

    def vat_number(self, city: City) -> str:
        """A new valid partita IVA: 7 digits, the province office, the Luhn check digit."""
        while True:
            base = f"{self.rng.randrange(1, 10 ** 7):07d}{city.office:03d}"
            number = base + luhn.calc_check_digit(base)
            if number not in self.vat_numbers:
                self.vat_numbers.add(number)
                return number

    def plate(self) -> str:
        letters = self.rng.choices(PLATE_LETTERS, k=4)
        return f"{letters[0]}{letters[1]}{self.rng.randrange(1000):03d}{letters[2]}{letters[3]}"

    def full_name(self) -> str:
        first, last, _ = self.person()
        return f"{first} {last}"

    def person(self) -> tuple[str, str, bool]:
        """(first name, last name, female) of a new person."""
        female = self.rng.random() < 0.45
        first = self.fake.first_name_female() if female else self.fake.first_name_male()
        return first, self.fake.last_name(), female

    def address(self, city: City) -> str:
        return f"{self.fake.street_name()} {self.fake.building_number()}, {city.name} ({city.province})"

    def share(self, amount: Decimal, low: int, high: int) -> Decimal:
        """Between `low` and `high` per cent of `amount`, to the cent."""
        return (amount * self.rng.randint(low, high) / 100).quantize(CENT)

    # ---- parties and users -----------------------------------------------------------

    def parties(self) -> Cast:
        centres = [self.centre(city) for city in CITIES[:3]]
        AspCentre.update(vat_number=DEMO_CENTRE_VAT).where(AspCentre.id == centres[0].id).execute()
        centres[0] = AspCentre.get_by_id(centres[0].id)
        repairers = [self.repairer(CITIES[i % 3]) for i in range(12)]
        insurers = [InsuranceCompany.create(name=name, claims_email=f"sinistri@{_slug(name)}.{MAIL_DOMAIN}",
                                            claims_pec=f"sinistri@pec.{_slug(name)}.{MAIL_DOMAIN}")
                    for name in INSURERS]
        cast = Cast(centres, repairers, [], insurers,
                    home={r.id: centres[i % 3] for i, r in enumerate(repairers)},
                    counsel={c.id: [ensure_own_desk(c)] for c in centres}, staff={})
        for centre in centres:
            cast.staff[("centre", centre.id)] = Actor(None, self.full_name())
            cast.staff[("lawyer", cast.counsel[centre.id][0].id)] = cast.staff[("centre", centre.id)]
        for i, kind in enumerate(LAWYER_KINDS):  # each works for one centre, some for the next one too
            works_for = [centres[i % 3]] + ([centres[(i + 1) % 3]] if self.rng.random() < 0.5 else [])
            self.lawyer(cast, kind, works_for)
        return cast

    def centre(self, city: City) -> AspCentre:
        slug = f"centroasp.{_slug(city.name)}"
        return AspCentre.create(
            name=f"Centro ASP {city.name} S.r.l.", vat_number=self.vat_number(city),
            email=f"pratiche@{slug}.{MAIL_DOMAIN}", pec=f"centroasp@pec.{slug}.{MAIL_DOMAIN}",
            address=self.address(city), phone=self.fake.phone_number(),
        )

    def repairer(self, city: City) -> Repairer:
        last = self.fake.last_name()
        name = self.rng.choice((f"Carrozzeria {last}", f"Autocarrozzeria {last} & Figli S.n.c.",
                                f"Carrozzeria {last} S.r.l."))
        vat = self.vat_number(city)
        return Repairer.create(
            name=name, vat_number=vat, fiscal_code=vat, address=self.address(city),
            email=f"officina@{_slug(name)}.{MAIL_DOMAIN}", pec=f"{_slug(last)}@pec.{MAIL_DOMAIN}",
            phone=self.fake.phone_number(),
        )

    def lawyer(self, cast: Cast, kind: str, centres: list[AspCentre]) -> None:
        first, last, female = self.person()
        if kind == "lawyer":
            name, staff = f"Avv. {first} {last}", f"{first} {last}"
            tax_code = fiscal_code(first, last, self.birth_date(), female, self.rng.choice(CITIES).belfiore)
        else:
            name, staff = f"Studio Legale {last} & {self.fake.last_name()}", self.full_name()
            tax_code = self.vat_number(self.rng.choice(CITIES))
        lawyer = Lawyer.create(name=name, kind=kind, email=f"studio@{_slug(name)}.{MAIL_DOMAIN}",
                               pec=f"{_slug(last)}@pec.{MAIL_DOMAIN}", tax_code=tax_code)
        for centre in centres:
            LawyerCentre.create(lawyer=lawyer, asp_centre=centre)
            cast.counsel[centre.id].append(lawyer)
        cast.lawyers.append(lawyer)
        cast.staff[("lawyer", lawyer.id)] = Actor(None, staff)

    def users(self, cast: Cast) -> None:
        """One user per role; the ASP manager and the lawyer act for their centre and their firm."""
        first_centre, first_lawyer = cast.centres[0], cast.lawyers[0]
        links = {"asp": first_centre, "legale": first_lawyer, "carrozzeria": cast.repairers[0]}
        staff = {"asp": [("centre", first_centre.id), ("lawyer", cast.counsel[first_centre.id][0].id)],
                 "legale": [("lawyer", first_lawyer.id)]}
        for login, password, role, _ in DEMO_USERS:
            keys = staff.get(login, [])
            name = cast.staff[keys[0]].label if keys else self.full_name()
            user = User(login=login, role=role, full_name=name, email=f"{login}@{MAIL_DOMAIN}")
            if login in links:
                setattr(user, User.LINK_FOR_ROLE[role], links[login])
            user.set_password(password)
            user.save()
            cast.users[login] = user
            cast.staff.update((key, Actor(user, name)) for key in keys)
        user_id, password = DEMO_WINCAR  # printed by make run: no e-mail for the demo's own login
        Repairer.update(wincar_user=user_id, wincar_password_hash=credentials.hash_password(password)) \
            .where(Repairer.id == cast.repairers[0].id).execute()

    # ---- claim stories -----------------------------------------------------------------

    def plan(self, status: str) -> Plan:
        path = self.path(status)
        plan = Plan(status, path, self.timeline(path, status), self.rng.sample(REQUIRED, self.rng.randint(1, 2)))
        if status == S.CLOSED:
            plan.reason = SETTLED if self.rng.random() < 0.7 else self.rng.choice(CLOSE_REASONS)
        elif status == S.DROPPED:
            plan.reason = NEVER_COMPLETED if plan.lacks_documents else self.rng.choice(DROP_REASONS)
        elif status == S.CANCELLED:
            plan.reason = OPENED_BY_MISTAKE
        return plan

    def path(self, status: str) -> list[str]:
        """The states a claim went through after Ricevuta, ending in `status`."""
        if status == S.RECEIVED:
            return []
        if status == S.INCOMPLETE:
            return [S.INCOMPLETE]
        if status == S.CANCELLED:  # opened by mistake, cancelled before it was entrusted
            return [S.CANCELLED]
        if status == S.DROPPED:
            return self.rng.choice(([S.INCOMPLETE], [S.VALIDATED], list(MAIN_ROAD[:2]), list(MAIN_ROAD))) + [S.DROPPED]
        path = [S.INCOMPLETE, S.RECEIVED] if self.rng.random() < 0.2 else []  # completed by a seguito
        if status in MAIN_ROAD:
            return path + list(MAIN_ROAD[:MAIN_ROAD.index(status) + 1])
        path += MAIN_ROAD
        if status == S.PARTIALLY_REIMBURSED or self.rng.random() < 0.3:
            path.append(S.PARTIALLY_REIMBURSED)
        return path if status == S.PARTIALLY_REIMBURSED else path + [status]

    def timeline(self, path: list[str], status: str) -> list[dt.datetime]:
        """Opening time and step times, increasing, squeezed into MAX_AGE_DAYS before now."""
        gaps = [self.rng.uniform(*STEPS[step][1:]) for step in path]
        total = sum(gaps) + self.rng.uniform(*DWELL[status])
        scale = self.rng.uniform(0.7, 1.0) * MAX_AGE_DAYS / total if total > MAX_AGE_DAYS else 1.0
        at = self.now - dt.timedelta(days=total * scale)
        times = [_office_hours(at)]
        for gap in gaps:
            at += dt.timedelta(days=gap * scale)
            times.append(_office_hours(at))
        overshoot = times[-1] - self.now + dt.timedelta(minutes=1)  # today's office hours may be ahead of now
        return [t - max(overshoot, dt.timedelta(0)) for t in times]

    def birth_date(self) -> dt.date:
        return dt.date(self.rng.randint(1950, 2004), self.rng.randint(1, 12), self.rng.randint(1, 28))
