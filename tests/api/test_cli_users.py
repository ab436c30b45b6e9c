"""``callrouter users create-admin``: password from stdin, refused when short or the login exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.migrations import upgrade
from crm_core.models import Manager, ManagerRole
from crm_core.services.passwords import verify_password


def test_create_admin_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    runner = CliRunner()
    args = ["users", "create-admin", "--login", "root", "--name", "Root", "--password-stdin"]
    assert runner.invoke(app, args, input="short\n").exit_code == 2
    created = runner.invoke(app, args, input="a long admin password\n")
    assert created.exit_code == 0, created.output
    assert runner.invoke(app, args, input="a long admin password\n").exit_code == 1
    engine = make_engine(url)
    with engine.connect() as conn:
        role, password_hash = conn.execute(select(Manager.role, Manager.password_hash)).one()
    engine.dispose()
    assert role == ManagerRole.ADMIN
    assert verify_password(password_hash, "a long admin password")
