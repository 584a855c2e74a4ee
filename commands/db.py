import click
from flask.cli import with_appcontext

from models.migrate import upgrade
from workflows import next_due, who_pays


@click.command("db-upgrade")
@with_appcontext
def db_upgrade():
    """Apply every schema migration not yet applied."""
    applied = upgrade()
    click.echo(f"Migrazioni applicate: {', '.join(applied) if applied else 'nessuna, schema già aggiornato'}")
    if applied:  # a new rule or column may move deadlines: bring every open claim in line
        # Claims entered by hand before the portal assessed them get their verdict (it moves terms).
        click.echo(f"Indennizzo diretto valutato: {who_pays.reassess_unassessed()} pratiche senza valutazione.")
        click.echo(f"Scadenze ricalcolate: {next_due.recompute_all()} pratiche aggiornate.")


@click.command("recompute-deadlines")
@with_appcontext
def recompute_deadlines():
    """Recompute the next deadline of every open claim (after a change made outside the portal)."""
    click.echo(f"Scadenze ricalcolate: {next_due.recompute_all()} pratiche aggiornate.")
