"""``callrouter demo seed`` prints the demo staff's one random password once; ``callrouter demo pbx`` says
clearly what is missing (AMI settings, a free port, serve logging in) with distinct exit codes."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.demo_data import DEMO_LOGINS
from crm_core.migrations import upgrade
from crm_core.models import Manager
from crm_core.services.passwords import verify_password

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_LANGUAGE", "en")
    for name in ("HOST", "PORT", "USERNAME", "SECRET"):
        monkeypatch.delenv(f"CALLROUTER_AMI_{name}", raising=False)
    return url


def _hashes(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Manager.login, Manager.password_hash).where(Manager.login.in_(DEMO_LOGINS))
        )
        found = {login: password_hash for login, password_hash in rows}
    engine.dispose()
    return found


def test_seed_prints_one_password_once(env: str) -> None:
    first = runner.invoke(app, ["demo", "seed"])
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output)
    assert password is not None, first.output
    hashes = _hashes(env)
    assert sorted(hashes) == sorted(DEMO_LOGINS)
    assert all(h and verify_password(h, password.group(1)) for h in hashes.values())

    again = runner.invoke(app, ["demo", "seed"])
    assert again.exit_code == 0 and "password:" not in again.output and "keep their password" in again.output
    assert _hashes(env) == hashes

    renewed = runner.invoke(app, ["demo", "seed", "--new-password"])
    new = re.search(r"password: (\S+)", renewed.output)
    assert new is not None and new.group(1) != password.group(1)
    assert all(h and verify_password(h, new.group(1)) for h in _hashes(env).values())


def test_pbx_needs_the_ami_settings(env: str) -> None:
    result = runner.invoke(app, ["demo", "pbx"])
    assert result.exit_code == 2
    assert "CALLROUTER_AMI_HOST" in result.output


def _ami_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("CALLROUTER_AMI_HOST", "127.0.0.1")
    monkeypatch.setenv("CALLROUTER_AMI_PORT", str(port))
    monkeypatch.setenv("CALLROUTER_AMI_USERNAME", "demo")
    monkeypatch.setenv("CALLROUTER_AMI_SECRET", "demo-secret")


def test_pbx_port_taken_and_serve_absent(
    env: str, monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        _ami_env(monkeypatch, taken.getsockname()[1])
        busy = runner.invoke(app, ["demo", "pbx"])
    assert busy.exit_code == 3 and "cannot listen" in busy.output

    _ami_env(monkeypatch, unused_tcp_port)
    alone = runner.invoke(app, ["demo", "pbx", "--wait", "0.3"])
    assert alone.exit_code == 1 and "did not log in" in alone.output
