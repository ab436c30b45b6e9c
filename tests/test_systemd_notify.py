"""systemd notifications over a real unix datagram socket: READY once serving, pings while the loop runs."""

from __future__ import annotations

import asyncio
import configparser
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.systemd_notify import Notifier, announce, ping_watchdog, socket_address, watchdog_interval
from callrouter.wiring import build_container
from crm_core.migrations import upgrade

WAIT_S = 15.0  # generous: the machine may be loaded; the assertions are about order, not speed


class NotifySocket:
    """The service manager's end: a bound unix datagram socket collecting what is sent to it."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def drain(self) -> list[str]:
        received = []
        while True:
            try:
                received.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return received

    async def wait_for(self, state: str) -> list[str]:
        """Datagrams received until one holds ``state`` (fails after WAIT_S)."""
        seen: list[str] = []
        deadline = time.monotonic() + WAIT_S
        while not any(state in d.split("\n") for d in seen):
            assert time.monotonic() < deadline, f"{state} not received; got {seen}"
            await asyncio.sleep(0.02)
            seen += self.drain()
        return seen


def _bound(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.setblocking(False)
    return sock


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    with tempfile.TemporaryDirectory(prefix="sdn") as directory:  # short: sun_path holds ~107 bytes
        path = str(Path(directory) / "notify")
        with _bound(path) as sock:
            yield NotifySocket(sock, path)


@pytest.fixture
def abstract_socket() -> Iterator[NotifySocket]:
    name = f"callrouter-test-{os.getpid()}-{time.monotonic_ns()}"
    with _bound(b"\0" + name.encode()) as sock:
        yield NotifySocket(sock, "@" + name)


def test_address_forms() -> None:
    assert socket_address(None) is None
    assert socket_address("") is None
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@sd-notify") == b"\0sd-notify"


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "ten"}) is None


def test_without_notify_socket_nothing_is_sent() -> None:
    assert not Notifier.from_env({}).enabled
    assert Notifier.from_env({}).send("READY=1") is False


def test_a_vanished_socket_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with tempfile.TemporaryDirectory(prefix="sdn") as directory:
        assert Notifier(str(Path(directory) / "gone")).send("WATCHDOG=1") is False
    assert "systemd notification failed" in caplog.text


def test_send_reaches_an_abstract_socket(abstract_socket: NotifySocket) -> None:
    assert Notifier.from_env({"NOTIFY_SOCKET": abstract_socket.env_value}).send("READY=1", "STATUS=serving")
    assert abstract_socket.drain() == ["READY=1\nSTATUS=serving"]


async def test_pings_stop_while_the_loop_is_blocked_and_resume_after(notify_socket: NotifySocket) -> None:
    interval = 0.05
    pinger = asyncio.create_task(ping_watchdog(Notifier(notify_socket.env_value), interval))
    try:
        await notify_socket.wait_for("WATCHDOG=1")
        await asyncio.sleep(interval * 4)
        assert notify_socket.drain(), "pings stopped while the loop was running"
        # a stalled loop: no task runs, so nothing can be sent however long the stall lasts
        time.sleep(interval * 10)
        assert notify_socket.drain() == []
        # the loop runs again: the pings resume
        assert "WATCHDOG=1" in await notify_socket.wait_for("WATCHDOG=1")
    finally:
        pinger.cancel()


async def test_announce_waits_for_readiness_then_pings(abstract_socket: NotifySocket) -> None:
    ready = False
    env = {"NOTIFY_SOCKET": abstract_socket.env_value, "WATCHDOG_USEC": "100000"}
    task = asyncio.create_task(announce(lambda: ready, env))
    try:
        await asyncio.sleep(0.3)
        assert abstract_socket.drain() == [], "READY sent before the service was up"
        ready = True
        seen = await abstract_socket.wait_for("READY=1")
        assert seen[0] == "READY=1\nSTATUS=serving"
        await abstract_socket.wait_for("WATCHDOG=1")
    finally:
        task.cancel()


async def test_serve_notifies_ready_once_the_api_answers(
    tmp_path: Path,
    notify_socket: NotifySocket,
    monkeypatch: pytest.MonkeyPatch,
    unused_tcp_port_factory: Callable[[], int],
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.env_value)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    url = f"sqlite:///{tmp_path / 'notify.db'}"
    upgrade(url)
    api_port = unused_tcp_port_factory()
    settings = Settings(
        env="development",
        database_url=url,
        api_bind=f"127.0.0.1:{api_port}",
        agi_bind=f"127.0.0.1:{unused_tcp_port_factory()}",
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run_services(build_container(settings), stop))
    try:
        seen = await notify_socket.wait_for("READY=1")
        assert seen[0] == "READY=1\nSTATUS=serving"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{api_port}/health")).status_code == 200
        await notify_socket.wait_for("WATCHDOG=1")
    finally:
        stop.set()
        await asyncio.wait_for(service, WAIT_S)


def test_the_shipped_unit_waits_for_ready_and_restarts_a_frozen_process() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(Path(__file__).resolve().parents[1] / "deploy" / "callrouter.service")
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "always"
    assert service["ExecStart"].endswith("callrouter serve")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
