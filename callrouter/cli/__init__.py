"""The ``callrouter`` command line (typer)."""

from __future__ import annotations

import typer

from callrouter.cli import db, serve

app = typer.Typer(
    help="callrouter: route every inbound call and never lose a missed one.", no_args_is_help=True
)
app.add_typer(db.app, name="db")
app.command("serve")(serve.serve)


def main() -> None:
    app()
