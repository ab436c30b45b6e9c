"""The Asterisk side of a FastAGI exchange: send a request, acknowledge each command, collect variables.

Used by ``callrouter demo call`` to place a routed demo call without a PBX, and by the tests' fake Asterisk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


def unquote_args(text: str) -> list[str]:
    """Split an AGI command line the way res_agi's ``parse_args`` does (quotes, backslash escapes).

    >>> unquote_args('SET VARIABLE ROUTE_TARGET "PJSIP/101"')
    ['SET', 'VARIABLE', 'ROUTE_TARGET', 'PJSIP/101']
    >>> unquote_args('SET VARIABLE X "say \\\\"hi\\\\""')
    ['SET', 'VARIABLE', 'X', 'say "hi"']
    """
    args: list[str] = []
    current: list[str] = []
    in_quotes = escaped = started = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = started = True
        elif ch == '"':
            in_quotes, started = not in_quotes, True
        elif ch == " " and not in_quotes:
            if started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return args


def request_block(headers: Mapping[str, str]) -> bytes:
    """The ``agi_*`` header block Asterisk sends, ending with the blank line.

    >>> request_block({"network_script": "route", "callerid": "+79001234567"})
    b'agi_network_script: route\\nagi_callerid: +79001234567\\n\\n'
    """
    return "".join(f"agi_{name}: {value}\n" for name, value in headers.items()).encode() + b"\n"


@dataclass
class AgiExchange:
    """What the Asterisk side saw: the commands sent to it and the channel variables they set.

    ``first_command_s``: seconds from the start of :func:`place_request` to the first command (None: none).
    """

    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    first_command_s: float | None = None

    def record(self, command: str) -> None:
        if self.first_command_s is None:
            self.first_command_s = time.perf_counter() - self.started
        self.commands.append(command)
        args = unquote_args(command)
        if args[:2] == ["SET", "VARIABLE"] and len(args) == 4:
            self.variables[args[2]] = args[3]


async def place_request(host: str, port: int, block: bytes, *, timeout_s: float = 5.0) -> AgiExchange:
    """Send ``block`` to a FastAGI server, answer every command ``200 result=1`` until it closes."""
    exchange = AgiExchange()
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(block)
        await writer.drain()
        while True:
            async with asyncio.timeout(timeout_s):
                line = await reader.readline()
            if not line:
                break
            exchange.record(line.decode("utf-8", "replace").rstrip("\r\n"))
            writer.write(b"200 result=1\n")
            await writer.drain()
    finally:
        writer.close()
    return exchange
