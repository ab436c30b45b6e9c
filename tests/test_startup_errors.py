"""``callrouter serve`` refuses to start in one line with a distinct exit code (real processes)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.serve_process import callrouter_command, serve_env
from callrouter.startup_errors import ExitCode


@pytest.fixture
def busy_port(unused_tcp_port_factory: Callable[[], int]) -> Iterator[int]:
    """A port another program listens on."""
    port = unused_tcp_port_factory()
    with socket.create_server(("127.0.0.1", port)):
        yield port


def _serve(tmp_path: Path, ports: Callable[[], int], **overrides: str) -> subprocess.CompletedProcess[str]:
    env = serve_env(tmp_path, ports(), ports()) | overrides
    return subprocess.run(
        callrouter_command("serve"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single error line (log lines before it are JSON); never a traceback."""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("setting", "value", "mentions"),
    [
        ("CALLROUTER_API_BIND", "localhost", "api_bind"),
        ("CALLROUTER_API_BIND", "127.0.0.1:http", "api_bind"),
        ("CALLROUTER_AGI_BIND", "127.0.0.1:70000", "agi_bind"),
        ("CALLROUTER_DATABASE_URL", "postgress://user:s3cret@db/callrouter", "database_url"),
        ("CALLROUTER_DATABASE_URL", "callrouter.db", "database_url"),
    ],
)
def test_a_bad_setting_is_exit_code_2(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int], setting: str, value: str, mentions: str
) -> None:
    result = _serve(tmp_path, unused_tcp_port_factory, **{setting: value})
    assert result.returncode == ExitCode.CONFIGURATION == 2
    line = _one_line(result)
    assert line.startswith(f"configuration error ({mentions})")
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("setting", ["CALLROUTER_API_BIND", "CALLROUTER_AGI_BIND"])
def test_a_busy_port_is_exit_code_3(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int], busy_port: int, setting: str
) -> None:
    result = _serve(tmp_path, unused_tcp_port_factory, **{setting: f"127.0.0.1:{busy_port}"})
    assert result.returncode == ExitCode.PORT_IN_USE == 3
    role = "API" if setting == "CALLROUTER_API_BIND" else "FastAGI"
    assert (
        _one_line(result)
        == f"callrouter: cannot listen on 127.0.0.1:{busy_port} ({role}): the port is in use"
    )


def test_an_address_of_another_host_is_exit_code_4(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    result = _serve(tmp_path, unused_tcp_port_factory, CALLROUTER_AGI_BIND="no-such-host.invalid:4573")
    assert result.returncode == ExitCode.CANNOT_LISTEN == 4
    assert _one_line(result).startswith("callrouter: cannot listen on no-such-host.invalid:4573 (FastAGI)")


def test_half_a_notification_channel_is_exit_code_2(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    result = _serve(
        tmp_path, unused_tcp_port_factory, CALLROUTER_NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/hook"
    )
    assert result.returncode == 2
    assert "CALLROUTER_NOTIFY_WEBHOOK_SECRET" in _one_line(result)
