"""A real ``serve`` whose database cannot be opened: it starts, routes every call (the default answer),
answers the API with ``503 database-unavailable`` (login too), and recovers once the database is there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bench.serve_process import run_cli, running_serve, serve_env
from tests.agi.fake_asterisk import fake_asterisk


@pytest.mark.timeout(300)
async def test_serve_routes_and_answers_503_until_the_database_is_back(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int], trace_blocks: dict[str, bytes]
) -> None:
    api_port, agi_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    missing = tmp_path / "not-yet"  # SQLite cannot open a file in a folder that does not exist
    env = serve_env(tmp_path, api_port, agi_port, f"sqlite:///{missing / 'callrouter.db'}")
    env["CALLROUTER_DEFAULT_ROUTE"] = "PJSIP/desk"
    api = f"http://127.0.0.1:{api_port}"
    with running_serve(tmp_path, env, api_port):
        call = await fake_asterisk(agi_port, trace_blocks["sip/s1.agi#0"], read_timeout=30)
        assert call.variables["ROUTE_KIND"] == "default"
        assert call.variables["ROUTE_CHAIN"].startswith("PJSIP/desk~")

        async with httpx.AsyncClient(base_url=api, timeout=30) as client:
            login = await client.post("/api/v1/auth/login", json={"login": "admin", "password": "x" * 12})
            listing = await client.get("/api/v1/counterparties", headers={"Authorization": "Bearer crt_x"})
            for response in (login, listing):
                assert response.status_code == 503
                assert response.headers["content-type"] == "application/json"
                body = response.json()
                assert body["error"] == "database-unavailable"
                assert body["request_id"] == response.headers["X-Request-ID"]

            await asyncio.sleep(1.5)  # several worker ticks while the database is away
            missing.mkdir()
            run_cli(env, tmp_path, "db", "upgrade")
            back = await client.post("/api/v1/auth/login", json={"login": "admin", "password": "x" * 12})
            assert back.status_code == 401  # the database answers: an unknown user, not an outage
            assert back.json()["error"] == "invalid-credentials"
            assert (await client.get("/ready")).json()["checks"]["database"] == "ok"

        again = await fake_asterisk(agi_port, trace_blocks["sip/s1.agi#0"], read_timeout=30)
        assert "ROUTE_KIND" in again.variables
    log = (tmp_path / "serve.log").read_text().splitlines()
    assert sum("escalation worker: database unavailable" in line for line in log) == 1  # not once a tick
    assert not [line for line in log if '"level": "error"' in line]
