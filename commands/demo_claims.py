"""One demo claim, opened and replayed through its history, with its documents and people."""
from __future__ import annotations

import datetime as dt
import json
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING

from fpdf import FPDF
from stdnum.it import codicefiscale

from models import (
    Attachment,
    Claim,
    ClaimCounter,
    Payment,
    StatusChange,
)
from workflows.amounts import italian
from workflows.transitions import CANCELLED_REASON
from workflows.attachments import store_attachment
from workflows.claims import open_claim

from .demo_data import (
    CITIES,
    DOCUMENTS,
    MAIL_DOMAIN,
    MONTH_LETTERS,
    OFFICE_HOURS,
    OFFICE_OPENS,
    REASON_CODES,
    REQUIRED,
    SETTLED,
    STEPS,
    Actor,
    Cast,
    Plan,
    S,
)

if TYPE_CHECKING:
    from .demo import DemoSeeder


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
        if status == S.CANCELLED:
            return dict(outcome_reason=CANCELLED_REASON, outcome_note=self.plan.reason)
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
            offer_answered_on=offer_answered_on, answer_received_on=offer_answered_on,
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
        return self.plan.reason if step in (S.CLOSED, S.DROPPED, S.CANCELLED) else None

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
