"""Helpers shared by the CLI commands."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from callrouter.settings import Settings


def load_settings() -> Settings:
    """Settings from the environment, or a clear message and exit code 2 when they are invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "settings"
            typer.echo(f"configuration error ({where}): {error['msg']}", err=True)
        raise typer.Exit(code=2) from None
