"""`flask --app app seed-demo`: a demo database that looks like the RESTART network.

Three ASP centres with their own desks, twelve body shops, six lawyers, eight
insurers, one user per role and 400 claims spread over every state, with their
history, offers, reimbursements and small PDF documents. Faker (it_IT) and the
random generator are seeded, so every run on an empty database tells the same story.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import random
import time
import unicodedata
from decimal import Decimal
from typing import NamedTuple

import click
from faker import Faker
from flask import current_app
from flask.cli import with_appcontext
from fpdf import FPDF
from stdnum import luhn
from stdnum.it import codicefiscale

from models import (
    AspCentre,
    Attachment,
    Claim,
    ClaimCounter,
    ClaimStatus,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    Payment,
    Repairer,
    Role,
    StatusChange,
    User,
    db,
    utcnow,
)
from workflows import credentials, notify
from workflows.amounts import italian
from workflows.attachments import store_attachment
from workflows.claims import open_claim
from workflows.parties import ensure_own_desk

S = ClaimStatus
SEED = 20260301
MAX_AGE_DAYS = 540  # claims received over the last ~18 months
CENT = Decimal("0.01")
MAIL_DOMAIN = "example.com"  # reserved (RFC 2606): no demo e-mail reaches a real mailbox
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"  # Italian plates use neither I, O, Q nor U
MONTH_LETTERS = "ABCDEHLMPRST"  # the birth month in a codice fiscale

# Fixed so that examples/nuovo.json reaches the first demo centre with the demo repairer's login.
DEMO_CENTRE_VAT = "01234560157"
DEMO_WINCAR = ("WINCAR-DEMO", "demo-wincar")

DEMO_USERS = (  # login, password, role, who it is (for the final message)
    ("callcenter", "demo-callcenter", Role.ADMIN, "call center"),
    ("asp", "demo-asp", Role.ASP_MANAGER, "centro ASP"),
    ("legale", "demo-legale", Role.LAWYER, "legale"),
    ("carrozzeria", "demo-carrozzeria", Role.REPAIRER, "carrozzeria"),
)


class City(NamedTuple):
    name: str
    province: str
    office: int  # province code: the VAT office of the firms registered there
    belfiore: str  # cadastral code of the town, part of a codice fiscale


CITIES = (
    City("Roma", "RM", 58, "H501"), City("Milano", "MI", 15, "F205"),
    City("Napoli", "NA", 63, "F839"), City("Torino", "TO", 1, "L219"),
    City("Bologna", "BO", 37, "A944"), City("Firenze", "FI", 48, "D612"),
    City("Bari", "BA", 72, "A662"), City("Palermo", "PA", 82, "G273"),
    City("Genova", "GE", 10, "D969"), City("Verona", "VR", 23, "L781"),
)
INSURERS = (
    "Assicurazioni Generali", "UnipolSai Assicurazioni", "Allianz Italia", "AXA Assicurazioni",
    "Reale Mutua Assicurazioni", "Zurich Italia", "Vittoria Assicurazioni", "Sara Assicurazioni",
)
LAWYER_KINDS = ("lawyer", "lawyer", "firm", "lawyer", "firm", "lawyer")  # the first is the demo lawyer

DOCUMENTS = {  # attachment kind -> title printed on its PDF
    "denuncia": "Constatazione amichevole di incidente (Modulo Blu)",
    "mandato": "Mandato di assistenza",
    "cessione_credito": "Atto di cessione del credito",
    "richiesta_danni": "Richiesta di risarcimento danni",
    "documento_identita": "Documento d'identità del cliente",
    "preventivo": "Preventivo di riparazione",
    "fattura": "Fattura di riparazione",
}
REQUIRED = ("denuncia", "mandato", "cessione_credito", "richiesta_danni", "documento_identita")

STATUS_COUNTS = {  # 400 claims, every state represented
    S.RECEIVED: 25, S.INCOMPLETE: 30, S.VALIDATED: 25, S.ASSIGNED: 45, S.FILED: 65,
    S.PARTIALLY_REIMBURSED: 40, S.REIMBURSED: 100, S.CLOSED: 40, S.DROPPED: 30,
}
MAIN_ROAD = (S.VALIDATED, S.ASSIGNED, S.FILED)
STEPS = {  # state entered -> (event, as in workflows.transitions; fewest and most days after the previous step)
    S.INCOMPLETE: ("mark_incomplete", 0.5, 4),
    S.RECEIVED: ("complete", 3, 20),
    S.VALIDATED: ("validate", 0.1, 3),
    S.ASSIGNED: ("assign", 1, 8),
    S.FILED: ("file_claim", 3, 25),
    S.PARTIALLY_REIMBURSED: ("record_payment", 30, 150),
    S.REIMBURSED: ("record_payment", 20, 200),
    S.CLOSED: ("close", 30, 200),
    S.DROPPED: ("drop", 5, 120),
}
DWELL = {  # days a claim has been in its present state, fewest and most
    S.RECEIVED: (0, 4), S.INCOMPLETE: (1, 40), S.VALIDATED: (0, 6), S.ASSIGNED: (1, 30),
    S.FILED: (5, 120), S.PARTIALLY_REIMBURSED: (5, 150), S.REIMBURSED: (1, 420),
    S.CLOSED: (1, 420), S.DROPPED: (1, 420),
}
OFFICE_OPENS, OFFICE_HOURS = dt.timedelta(hours=7), 9  # 7-16 UTC: people act in office hours, Italian time
SETTLED = "Transatta per un importo inferiore al richiesto"
CLOSE_REASONS = ("Rinuncia del cliente", "Pratica duplicata")
DROP_REASONS = (
    "Veicolo antagonista privo di copertura assicurativa", "Responsabilità contestata dalla compagnia",
    "Cliente irreperibile",
)
NEVER_COMPLETED = "Documentazione mai integrata dal cliente"
REASON_CODES = {  # the reason words above -> workflows.transitions.OUTCOME_REASONS
    SETTLED: "settled", "Rinuncia del cliente": "withdrawn", "Pratica duplicata": "duplicate",
    "Veicolo antagonista privo di copertura assicurativa": "no_cover",
    "Responsabilità contestata dalla compagnia": "liability_refused",
    "Cliente irreperibile": "other", NEVER_COMPLETED: "other",
}


class Actor(NamedTuple):
    user: User | None
    label: str


@dataclasses.dataclass
class Cast:
    """The parties, and the person who acts for each of them."""
    centres: list[AspCentre]
    repairers: list[Repairer]
    lawyers: list[Lawyer]
    insurers: list[InsuranceCompany]
    home: dict[int, AspCentre]  # repairer id -> the centre it entrusts its files to
    counsel: dict[int, list[Lawyer]]  # centre id -> its own desk and the lawyers working for it
    staff: dict[tuple[str, int], Actor]  # ("centre" | "lawyer", id) -> who acts for it
    users: dict[str, User] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Plan:
    """One claim's story: the states after Ricevuta and when each began."""
    status: str
    path: list[str]
    times: list[dt.datetime]  # opening first, then one per step of `path`
    missing: list[str]  # documents listed as missing when marked incomplete
    reason: str | None = None  # why it was closed or dropped

    @property
    def lacks_documents(self) -> bool:
        """Marked incomplete and never completed by a seguito."""
        return S.INCOMPLETE in self.path and S.RECEIVED not in self.path


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
        return plan

    def path(self, status: str) -> list[str]:
        """The states a claim went through after Ricevuta, ending in `status`."""
        if status == S.RECEIVED:
            return []
        if status == S.INCOMPLETE:
            return [S.INCOMPLETE]
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


class ClaimBuilder:
    """Opens one planned claim and replays its history.

    This replays history for demo data only: the steps after Ricevuta are written
    straight into StatusChange and Claim (status, status_since, version), back-dated,
    without the checks and e-mails of the real workflow engine, which is written
    separately. The portal number is rewritten to the year the claim was received.
    """

    def __init__(self, seeder: DemoSeeder, cast: Cast, plan: Plan):
        self.seeder, self.cast, self.plan = seeder, cast, plan
        self.rng, self.fake = seeder.rng, seeder.fake
        self.repairer = self.rng.choice(cast.repairers)
        self.centre = cast.home[self.repairer.id] if self.rng.random() < 0.85 else self.rng.choice(cast.centres)
        self.lawyer = self.rng.choice(cast.counsel[self.centre.id]) if S.ASSIGNED in plan.path else None
        self.self_assigned = self.lawyer is not None and self.lawyer.own_centre_id is not None
        self.wincar = self.rng.random() < 0.75
        self.opener = None if self.wincar else cast.users["callcenter"]

    def create(self, seq: int, counters: dict[int, int]) -> Claim:
        fields = self.customer(seq)
        fields.update(self.modulo_blu(fields["customer_name"]))
        fields.update(self.amounts())
        payments, answered_on = self.money(fields)
        fields.update(self.dates(answered_on))
        claim = open_claim(Claim(**fields), self.opener, source="wincar" if self.wincar else "web")
        self.backdate(claim, counters)
        StatusChange.insert_many(self.history(claim)).execute()
        if payments:
            Payment.insert_many([{**p, "claim": claim} for p in payments]).execute()
        self.attach(claim)
        return claim

    def backdate(self, claim: Claim, counters: dict[int, int]) -> None:
        opened, last = self.plan.times[0], self.plan.times[-1]
        counters[opened.year] = counters.get(opened.year, 0) + 1
        claim.number = f"{opened.year}/{counters[opened.year]:06d}"
        Claim.update(number=claim.number, received_at=opened, created_at=opened, status=self.plan.status,
                     status_since=last, version=len(self.plan.times), updated_at=last, **self.outcome(),
                     ).where(Claim.id == claim.id).execute()
        StatusChange.update(at=opened, created_at=opened).where(StatusChange.claim == claim).execute()

    def outcome(self) -> dict:
        """What is missing from an incomplete claim, and why a finished one ended."""
        status = self.plan.status
        if status == S.INCOMPLETE:
            return dict(missing_items=json.dumps([f"doc:{kind}" for kind in self.plan.missing]), complete_since=None)
        if status == S.REIMBURSED:
            return dict(outcome_reason="paid")
        if status in (S.CLOSED, S.DROPPED):
            code = REASON_CODES[self.plan.reason]
            return dict(outcome_reason=code, outcome_note=self.plan.reason if code == "other" else None)
        return {}

    # ---- the claim's fields ----------------------------------------------------------

    def customer(self, seq: int) -> dict:
        first, last, female = self.seeder.person()
        city = self.rng.choice(CITIES)
        return dict(
            repairer=self.repairer, asp_centre=self.centre, lawyer=self.lawyer,
            wincar_ref=f"WC{self.plan.times[0]:%y}-{seq:05d}" if self.wincar else None,
            customer_name=f"{first} {last}", customer_phone=self.fake.phone_number(),
            customer_fiscal_code=fiscal_code(first, last, self.seeder.birth_date(), female, city.belfiore),
            customer_email=f"{_slug(first)}.{_slug(last)}@{MAIL_DOMAIN}",
            customer_address=self.seeder.address(city),
        )

    def modulo_blu(self, customer_name: str) -> dict:
        """The joint accident report: vehicle A is the customer's, B the other party's."""
        received = self.plan.times[0]
        injuries = self.rng.random() < 0.08
        insurer_a, insurer_b = self.rng.sample(self.cast.insurers, 2)
        driver_b = self.seeder.full_name()
        return dict(
            accident_date=(received - dt.timedelta(days=self.rng.randint(1, 45))).date(),
            accident_time=dt.time(self.rng.randint(7, 21), self.rng.choice((0, 10, 20, 30, 40, 50))),
            accident_place=self.seeder.address(self.rng.choice(CITIES)), vehicle_count=2,
            vehicle_a_plate=self.seeder.plate(), vehicle_a_insurer=insurer_a,
            vehicle_a_policy=f"{self.rng.randrange(10 ** 9):09d}", vehicle_a_circumstances=self.circumstances(),
            vehicle_a_driver=customer_name if self.rng.random() < 0.8 else self.seeder.full_name(),
            vehicle_b_plate=self.seeder.plate(), vehicle_b_insurer=insurer_b, vehicle_b_driver=driver_b,
            vehicle_b_policy=f"{self.rng.randrange(10 ** 9):09d}", vehicle_b_circumstances=self.circumstances(),
            injuries=injuries,
            injured_persons=f"{driver_b} (conducente veicolo B): lesioni lievi" if injuries else None,
            witnesses=self.witness() if self.rng.random() < 0.3 else None,
            signed_by_both=self.rng.random() < 0.7,
            # WinCar's first assessment: direct compensation (own insurer pays) unless someone was hurt
            insurer=insurer_b if injuries else insurer_a,
            wincar_assessment=(("Procedura ordinaria (art. 148)" if injuries else "Indennizzo diretto (art. 149)")
                               if self.wincar else None),
        )

    def witness(self) -> str:
        return f"{self.seeder.full_name()}, tel. {self.fake.phone_number()}"

    def circumstances(self) -> str:
        """The ticked boxes of the 17 on the Modulo Blu, e.g. "1,7,13"."""
        return ",".join(str(n) for n in sorted(self.rng.sample(range(1, 18), self.rng.randint(1, 3))))

    def amounts(self) -> dict:
        estimate = Decimal(self.rng.randrange(60_000, 850_000)).scaleb(-2)
        return dict(estimate_amount=estimate, claimed_amount=self.seeder.share(estimate, 100, 115))

    def dates(self, offer_answered_on: dt.date | None) -> dict:
        validated, filed = self.step_time(S.VALIDATED), self.step_time(S.FILED)
        return dict(
            complete_since=validated and validated.date(), claim_filed_on=filed and filed.date(),
            prescription_interrupted_on=filed and filed.date(), offer_answered_on=offer_answered_on,
            closed_at=self.plan.times[-1] if self.plan.status in S.FINAL else None,
        )

    def step_time(self, step: str) -> dt.datetime | None:
        return self.plan.times[self.plan.path.index(step) + 1] if step in self.plan.path else None

    # ---- history, money, documents ---------------------------------------------------

    def actor(self, step: str) -> Actor:
        if step in (S.INCOMPLETE, S.RECEIVED, S.VALIDATED, S.ASSIGNED) or self.lawyer is None:
            return self.cast.staff[("centre", self.centre.id)]
        return self.cast.staff[("lawyer", self.lawyer.id)]

    def note(self, step: str, claim: Claim) -> str | None:
        if step == S.INCOMPLETE:
            return "Documenti mancanti: " + ", ".join(DOCUMENTS[k] for k in self.plan.missing)
        if step == S.RECEIVED:
            return "Documentazione integrata con un seguito da WinCar"
        if step == S.ASSIGNED:
            return "Recupero curato dal centro" if self.self_assigned else f"Affidata a: {self.lawyer.name}"
        if step == S.FILED:
            return f"Richiesta danni inviata via PEC a {claim.insurer.name}"
        return self.plan.reason if step in (S.CLOSED, S.DROPPED) else None

    def history(self, claim: Claim) -> list[dict]:
        rows, previous = [], S.RECEIVED
        for step, at in zip(self.plan.path, self.plan.times[1:]):
            actor = self.actor(step)
            rows.append(dict(claim=claim, at=at, created_at=at, actor=actor.user, actor_label=actor.label,
                             event="self_assign" if step == S.ASSIGNED and self.self_assigned else STEPS[step][0],
                             from_status=previous, to_status=step,
                             note=self.note(step, claim)))
            previous = step
        return rows

    def money(self, fields: dict) -> tuple[list[dict], dt.date | None]:
        """The insurer's offer and reimbursements the steps imply, and when the offer was answered."""
        claimed, rows, answered_on = fields["claimed_amount"], [], None
        ends = self.plan.times[2:] + [self.seeder.now]  # when each step gave way to the next
        for step, at, end in zip(self.plan.path, self.plan.times[1:], ends):
            if step == S.FILED and self.plan.status != S.DROPPED and self.rng.random() < 0.6:
                offered = (at + (end - at) * self.rng.uniform(0.2, 0.5)).replace(microsecond=0)
                rows.append(self.payment("offer", self.seeder.share(claimed, 60, 100), offered, fields,
                                         "Offerta motivata della compagnia"))
                if self.plan.status != S.FILED:
                    answered_on = (at + (end - at) * self.rng.uniform(0.6, 0.9)).date()
            amount = self.reimbursement(step, claimed, sum(p["amount"] for p in rows if p["kind"] == "reimbursement"))
            if amount:
                rows.append(self.payment("reimbursement", amount, at, fields, f"Bonifico ricevuto: {_euro(amount)}"))
        return rows, answered_on

    def reimbursement(self, step: str, claimed: Decimal, paid: Decimal) -> Decimal | None:
        if step == S.PARTIALLY_REIMBURSED:
            return self.seeder.share(claimed, 40, 60)
        if step == S.REIMBURSED:
            return claimed - paid
        if step == S.CLOSED and self.plan.reason == SETTLED:
            return self.seeder.share(claimed, 70, 90) - paid
        return None

    def payment(self, kind: str, amount: Decimal, at: dt.datetime, fields: dict, note: str) -> dict:
        recorder = self.cast.staff[("lawyer", self.lawyer.id)].user
        return dict(kind=kind, amount=amount, on_date=at.date(), payer=fields["insurer"], note=note,
                    recorded_by=recorder, created_at=at)

    def attach(self, claim: Claim) -> None:
        """The documents, less those an incomplete claim is missing; the invoice where money came in."""
        kinds = [k for k in REQUIRED if not (self.plan.lacks_documents and k in self.plan.missing)]
        kinds.append("preventivo")
        paid = {S.PARTIALLY_REIMBURSED, S.REIMBURSED} & set(self.plan.path) or self.plan.reason == SETTLED
        if paid or self.rng.random() < 0.2:  # a reimbursement needs the repair invoice (art. 149-bis)
            kinds.append("fattura")
        for kind in kinds:
            store_attachment(claim, kind, f"{kind}.pdf", demo_pdf(DOCUMENTS[kind], claim),
                             storage_dir=self.seeder.storage_dir, source=claim.source, actor=self.opener)
        opened = self.plan.times[0]
        Attachment.update(uploaded_at=opened, created_at=opened).where(Attachment.claim == claim).execute()


def demo_pdf(title: str, claim: Claim) -> bytes:
    """A one-page PDF naming the document and the claim, a little over 1 KB."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{title} - pratica {claim.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    for line in (f"Pratica n. {claim.number}", f"Cliente: {claim.customer_name}",
                 f"Sinistro del {claim.accident_date:%d/%m/%Y}",
                 f"Veicoli: {claim.vehicle_a_plate} - {claim.vehicle_b_plate}", "",
                 "Documento dimostrativo generato da Gessin (rete RESTART): non ha valore legale."):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def fiscal_code(first: str, last: str, birth: dt.date, female: bool, town: str) -> str:
    """The codice fiscale of a person, check character included."""
    code = (_name_code(last, surname=True) + _name_code(first) + f"{birth.year % 100:02d}"
            + MONTH_LETTERS[birth.month - 1] + f"{birth.day + 40 * female:02d}" + town)
    return code + codicefiscale.calc_check_digit(code)


def _name_code(name: str, surname: bool = False) -> str:
    letters = [c for c in unicodedata.normalize("NFKD", name.upper()) if "A" <= c <= "Z"]
    consonants = [c for c in letters if c not in "AEIOU"]
    if not surname and len(consonants) > 3:  # a first name with 4+ consonants keeps the 1st, 3rd and 4th
        consonants = [consonants[0]] + consonants[2:4]
    return "".join(consonants + [c for c in letters if c in "AEIOU"] + ["X"] * 3)[:3]


def _office_hours(at: dt.datetime) -> dt.datetime:
    """`at`'s day, its time of day squeezed into office hours: order is kept."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight + OFFICE_OPENS + (at - midnight) * OFFICE_HOURS / 24).replace(microsecond=0)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in ascii_text if c.isalnum())


def _euro(amount: Decimal) -> str:
    return f"€ {italian(amount)}"  # as the engine writes its notes


def _set_counters(counters: dict[int, int]) -> None:
    """The next claim opened by hand continues each year's numbering."""
    for year, last in counters.items():
        (ClaimCounter.insert(year=year, last=last)
         .on_conflict(conflict_target=[ClaimCounter.year], update={ClaimCounter.last: last}).execute())
