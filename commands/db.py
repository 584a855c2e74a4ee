import click
from flask.cli import with_appcontext

from models.migrate import upgrade


@click.command("db-upgrade")
@with_appcontext
def db_upgrade():
    """Apply every schema migration not yet applied."""
    applied = upgrade()
    click.echo(f"Migrazioni applicate: {', '.join(applied) if applied else 'nessuna, schema già aggiornato'}")
