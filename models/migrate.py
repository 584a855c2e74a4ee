"""Schema migrations, applied with peewee-migrate from the `migrations/` folder."""
from __future__ import annotations

import logging
from pathlib import Path

from peewee_migrate import Router

from .base import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def router() -> Router:
    logger = logging.getLogger("gessin.migrations")
    return Router(db, migrate_dir=MIGRATIONS_DIR, logger=logger)


def upgrade() -> list[str]:
    """Apply every migration not yet applied; returns their names."""
    return router().run()
