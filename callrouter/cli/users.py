"""``callrouter users create-admin``: the only way to bootstrap an admin (there is no default password)."""

from __future__ import annotations

import os
import sys

import typer
from sqlalchemy import select

from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.models import Manager, ManagerRole
from crm_core.services import audit
from crm_core.services.passwords import MIN_PASSWORD_LENGTH, hash_password

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
PASSWORD_ENV = "CALLROUTER_ADMIN_PASSWORD"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create-admin")
def create_admin(
    login: str = typer.Option(..., "--login", help="Login name"),
    name: str = typer.Option(..., "--name", help="Full name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin"),
) -> None:
    """Create an admin; the password is prompted for, or read from stdin or $CALLROUTER_ADMIN_PASSWORD."""
    password = _read_password(password_stdin)
    if len(password) < MIN_PASSWORD_LENGTH:
        typer.echo(f"error: the password needs at least {MIN_PASSWORD_LENGTH} characters", err=True)
        raise typer.Exit(2)
    container = build_container(Settings())
    try:
        with container.sessions() as session:
            if session.scalars(select(Manager.id).where(Manager.login == login)).first() is not None:
                typer.echo(f"error: login {login!r} is already taken", err=True)
                raise typer.Exit(1)
            admin = Manager(
                login=login, name=name, role=ManagerRole.ADMIN, password_hash=hash_password(password)
            )
            session.add(admin)
            session.flush()
            audit.record(session, None, "create-admin", "manager", admin.id, None, audit.snapshot(admin))
            session.commit()
    finally:
        container.close()
    typer.echo(f"admin {login!r} created (id {admin.id})")
