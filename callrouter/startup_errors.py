"""Start-up failures as one line and a distinct exit code, instead of a traceback.

Exit codes: 2 a setting is invalid, 3 a listening port is already in use, 4 an address cannot be listened
on for another reason (not this host's address, a privileged port).
"""

from __future__ import annotations

import errno
import socket
from enum import IntEnum


class ExitCode(IntEnum):
    CONFIGURATION = 2
    PORT_IN_USE = 3
    CANNOT_LISTEN = 4


class StartupError(Exception):
    """A reason the process cannot start, told in one line."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def listen_error(role: str, bind: str, exc: OSError) -> StartupError:
    """The :class:`StartupError` for failing to listen on ``bind`` (``role``: "API", "FastAGI")."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        return StartupError(ExitCode.PORT_IN_USE, f"cannot listen on {bind} ({role}): the port is in use")
    if isinstance(exc, socket.gaierror):
        reason = f"unknown host ({reason})"
    return StartupError(ExitCode.CANNOT_LISTEN, f"cannot listen on {bind} ({role}): {reason}")


def listening_socket(role: str, bind: str, host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, or a :class:`StartupError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise listen_error(role, bind, exc) from None
