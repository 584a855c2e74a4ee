"""Command-line tools: `flask --app app <command>`."""
from flask import Flask


def register_commands(app: Flask) -> None:
    from .db import db_upgrade
    from .demo import seed_demo
    from .users import create_user

    for command in (db_upgrade, create_user, seed_demo):
        app.cli.add_command(command)
