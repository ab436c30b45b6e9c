"""The real ``callrouter`` process: migrate the embedded SQLite database, serve, answer /health."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def _env(tmp_path: Path, api_port: int, agi_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLROUTER_")}
    env.update(
        CALLROUTER_ENV="development",
        CALLROUTER_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        CALLROUTER_API_BIND=f"127.0.0.1:{api_port}",
        CALLROUTER_AGI_BIND=f"127.0.0.1:{agi_port}",
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from callrouter.cli import main; main()", *args]


def test_db_upgrade_then_serve_health(tmp_path: Path, unused_tcp_port_factory: Callable[[], int]) -> None:
    api_port, agi_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    env = _env(tmp_path, api_port, agi_port)
    upgraded = subprocess.run(_cli("db", "upgrade"), env=env, cwd=tmp_path, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    proc = subprocess.Popen(_cli("serve"), env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{api_port}/ready", timeout=5)
        assert ready.json()["checks"]["database"] == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=5)
        assert "callrouter_calls_routed_total" in metrics.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_production_without_secret_refuses_to_start(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    env = _env(tmp_path, unused_tcp_port_factory(), unused_tcp_port_factory())
    env["CALLROUTER_ENV"] = "production"
    result = subprocess.run(_cli("serve"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.returncode == 2
    assert "configuration error" in result.stderr
    assert "CALLROUTER_API_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
