"""systemd's notify protocol: ``READY=1`` once serving, then ``WATCHDOG=1`` pings sent by the event loop.

The pings come from a task on the serving loop, so a loop that stalls (a blocking call, a deadlock) stops
them and systemd restarts the process after ``WatchdogSec=``; Asterisk then sees its FastAGI connection drop
and takes the dialplan's next step. Without ``NOTIFY_SOCKET`` (not started by systemd) everything is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

READY_POLL_S = 0.05


def socket_address(value: str | None) -> str | bytes | None:
    """``$NOTIFY_SOCKET`` as a ``connect`` address: a path, or an abstract name given as ``@name``."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def watchdog_interval(environ: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between pings (half of ``$WATCHDOG_USEC``), or ``None`` when systemd expects none from us."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2 / 1_000_000


class Notifier:
    """Sends state lines to the service manager over a unix datagram socket; never raises."""

    def __init__(self, address: str | bytes | None) -> None:
        self._address = address

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        return cls(socket_address(environ.get("NOTIFY_SOCKET")))

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *states: str) -> bool:
        """Send ``states`` as one datagram; ``False`` when disabled or the socket refused it (logged)."""
        if self._address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._address)
                sock.sendall("\n".join(states).encode())
        except OSError as exc:
            log.warning("systemd notification failed", extra={"states": list(states), "error": str(exc)})
            return False
        return True


async def ping_watchdog(notifier: Notifier, interval_s: float) -> None:
    """Send ``WATCHDOG=1`` every ``interval_s`` for as long as this loop keeps running its tasks."""
    while True:
        notifier.send("WATCHDOG=1")
        await asyncio.sleep(interval_s)


async def announce(is_ready: Callable[[], bool], environ: Mapping[str, str] = os.environ) -> None:
    """Send ``READY=1`` once ``is_ready()`` holds, then keep the watchdog fed if systemd asked for it."""
    notifier = Notifier.from_env(environ)
    if not notifier.enabled:
        return
    while not is_ready():
        await asyncio.sleep(READY_POLL_S)
    notifier.send("READY=1", "STATUS=serving")
    interval = watchdog_interval(environ)
    log.info("systemd notified", extra={"watchdog_interval_s": interval})
    if interval is not None:
        await ping_watchdog(notifier, interval)
