"""The ``callrouter`` command line (typer)."""

from __future__ import annotations

import typer

from callrouter.cli import analytics, analytics_sales, db, demo, importer, route, serve, sync, users

app = typer.Typer(
    help="callrouter: route every inbound call and never lose a missed one.", no_args_is_help=True
)
app.add_typer(db.app, name="db")
analytics.app.command("needs")(analytics_sales.needs)
analytics.app.command("funnel")(analytics_sales.funnel)
app.add_typer(analytics.app, name="analytics")
app.add_typer(users.app, name="users")
app.add_typer(demo.app, name="demo")
app.add_typer(sync.app, name="sync")
app.command("serve")(serve.serve)
app.command("import")(importer.import_csv)
app.command("route")(route.route)


def main() -> None:
    app()
