"""The demo's story in figures: its centres, cities, insurers, states and the steps each claim took."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from models import (
    AspCentre,
    ClaimStatus,
    InsuranceCompany,
    Lawyer,
    Repairer,
    Role,
    User,
)

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
    S.PARTIALLY_REIMBURSED: 40, S.REIMBURSED: 100, S.CLOSED: 40, S.DROPPED: 25, S.CANCELLED: 5,
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
    S.CANCELLED: ("cancel", 0.05, 2),
}
DWELL = {  # days a claim has been in its present state, fewest and most
    S.RECEIVED: (0, 4), S.INCOMPLETE: (1, 40), S.VALIDATED: (0, 6), S.ASSIGNED: (1, 30),
    S.FILED: (5, 120), S.PARTIALLY_REIMBURSED: (5, 150), S.REIMBURSED: (1, 420),
    S.CLOSED: (1, 420), S.DROPPED: (1, 420), S.CANCELLED: (1, 420),
}
OFFICE_OPENS, OFFICE_HOURS = dt.timedelta(hours=7), 9  # 7-16 UTC: people act in office hours, Italian time
SETTLED = "Transatta per un importo inferiore al richiesto"
CLOSE_REASONS = ("Rinuncia del cliente", "Pratica duplicata")
DROP_REASONS = (
    "Veicolo antagonista privo di copertura assicurativa", "Responsabilità contestata dalla compagnia",
    "Cliente irreperibile",
)
NEVER_COMPLETED = "Documentazione mai integrata dal cliente"
OPENED_BY_MISTAKE = "Inserita due volte per errore"
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
