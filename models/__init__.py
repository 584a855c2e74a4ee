"""Gessin's data model. Imports nothing else of the project."""
from .audit import ContactChange
from .base import MAX_ID, BaseModel, bind_database, db, insert_row, insert_rows, is_postgres, parse_id, utcnow
from .claims import (
    Attachment,
    AttachmentKind,
    Claim,
    ClaimCounter,
    ClaimStatus,
    Payment,
    PrescriptionInterruption,
    StatusChange,
    TermSuspension,
    allocate_number,
)
from .claims_office import ClaimsOfficeSending, InsurerAddress
from .dossiers import ClaimDossier, DossierState
from .insurers import InsurerAlias
from .onboarding import PasswordResetRequest, PrivacyNotice, RegistrationRequest, RepairerCentre
from .operations import (
    BulkJob,
    BulkNotice,
    IntakeEvent,
    OutboundAttachment,
    OutboundEmail,
    OutboundMessage,
    QueueLimit,
)
from .reminders import DeadlineReminder, ReminderDigest, ReminderDue
from .parties import AspCentre, InsuranceCompany, Lawyer, LawyerCentre, Repairer
from .users import LoginAttempt, Role, User, UserSession
from .validators import InvalidValue
from .workers import Worker
from .integrity import explain as explain_integrity_error

ALL_MODELS = [
    AspCentre,
    Repairer,
    Lawyer,
    LawyerCentre,
    InsuranceCompany,
    User,
    UserSession,
    InsurerAlias,
    ClaimCounter,
    Claim,
    Attachment,
    StatusChange,
    Payment,
    PrescriptionInterruption,
    TermSuspension,
    InsurerAddress,
    ClaimsOfficeSending,
    OutboundMessage,
    OutboundEmail,
    OutboundAttachment,
    QueueLimit,
    IntakeEvent,
    BulkJob,
    BulkNotice,
    LoginAttempt,
    ContactChange,
    PrivacyNotice,
    RepairerCentre,
    RegistrationRequest,
    PasswordResetRequest,
    Worker,
    ReminderDigest,
    DeadlineReminder,
    ReminderDue,
    ClaimDossier,
]

__all__ = [m.__name__ for m in ALL_MODELS] + [
    "AttachmentKind", "BaseModel", "DossierState", "ClaimStatus", "InvalidValue", "Role", "explain_integrity_error",
    "MAX_ID", "allocate_number", "bind_database", "db", "insert_row", "insert_rows", "is_postgres", "parse_id", "utcnow",
]
