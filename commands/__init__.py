"""Command-line tools: `flask --app app <command>`."""
from flask import Flask


def register_commands(app: Flask) -> None:
    from .db import db_upgrade, recompute_deadlines
    from .demo import seed_demo
    from .users import create_user
    from .wincar import wincar_credentials, wincar_send

    for command in (db_upgrade, recompute_deadlines, create_user, seed_demo, wincar_credentials, wincar_send):
        app.cli.add_command(command)
