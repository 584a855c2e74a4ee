import click
from flask.cli import with_appcontext

from models import AspCentre, InvalidValue, Lawyer, Repairer, Role, User, db


@click.command("create-user")
@click.argument("login")
@click.option("--role", type=click.Choice(Role.ALL), required=True)
@click.option("--centre", "centre_vat", help="Partita IVA del Centro ASP (ruolo asp_manager)")
@click.option("--lawyer", "lawyer_id", type=int, help="Id del legale (ruolo lawyer)")
@click.option("--repairer", "repairer_vat", help="Partita IVA della carrozzeria (ruolo repairer)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Se omessa viene chiesta a terminale")
@click.option("--name", "full_name", help="Nome e cognome")
@click.option("--email")
@with_appcontext
def create_user(login, role, centre_vat, lawyer_id, repairer_vat, password, full_name, email):
    """Create a user who can log in; how the first admin of a database is made."""
    user = User(login=login, role=role, full_name=full_name, email=email)
    try:
        if centre_vat:
            user.asp_centre = AspCentre.get(AspCentre.vat_number == centre_vat)
        if lawyer_id:
            user.lawyer = Lawyer.get_by_id(lawyer_id)
        if repairer_vat:
            user.repairer = Repairer.get(Repairer.vat_number == repairer_vat)
        user.set_password(password)
        with db.atomic():
            if User.select().where(User.login == login).exists():
                raise click.ClickException(f"Esiste già un utente '{login}'.")
            user.save()
    except InvalidValue as exc:
        raise click.ClickException(str(exc.message))
    except (AspCentre.DoesNotExist, Lawyer.DoesNotExist, Repairer.DoesNotExist):
        raise click.ClickException("Anagrafica collegata non trovata: controlla partita IVA o id.")
    click.echo(f"Utente '{login}' creato con ruolo {role}.")
