"""``callrouter db ...``: schema migrations."""

from __future__ import annotations

import typer

from callrouter.cli.common import load_settings
from crm_core.migrations import upgrade as run_upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply the migrations to CALLROUTER_DATABASE_URL."""
    settings = load_settings()
    run_upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")
