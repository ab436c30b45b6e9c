"""Through the real FastAGI server and routing service: a withheld caller is not flagged for registration."""

from __future__ import annotations

import re

import pytest

from callrouter.runtime import build_agi_server
from callrouter.settings import Settings
from callrouter.wiring import build_container
from tests.agi.fake_asterisk import Session, fake_asterisk


def with_caller(block: bytes, caller: str) -> bytes:
    return re.sub(rb"agi_callerid: [^\n]*", b"agi_callerid: " + caller.encode(), block, count=1)


async def route(db_url: str, blocks: list[bytes]) -> list[Session]:
    """Send each FastAGI request to a server wired as ``serve`` wires it (no Redis)."""
    container = build_container(Settings(env="development", database_url=db_url, default_route="PJSIP/desk"))
    assert container.routing is not None
    await container.routing.start()
    server = build_agi_server(container)
    await server.start("127.0.0.1", 0)
    try:
        return [await fake_asterisk(server.port, block) for block in blocks]
    finally:
        await server.close()
        await container.aclose()
        container.close()


@pytest.mark.parametrize(
    ("caller", "register"),
    [("anonymous", "0"), ("unknown", "0"), ("8 (930) 000-30-11", "1"), ("+7 999 111-00-44", "1")],
)
async def test_only_a_real_unknown_number_is_flagged_for_registration(
    db_url: str, trace_blocks: dict[str, bytes], caller: str, register: str
) -> None:
    (session,) = await route(db_url, [with_caller(trace_blocks["a.agi#0"], caller)])
    assert (session.variables["ROUTE_KIND"], session.variables["ROUTE_REGISTER"]) == ("unknown", register)
    assert session.variables["ROUTE_TARGET"] == "PJSIP/desk"


async def test_recorded_withheld_callers_are_not_flagged(db_url: str, trace_blocks: dict[str, bytes]) -> None:
    sessions = await route(db_url, [trace_blocks["m.agi#0"], trace_blocks["m.agi#1"]])
    assert [s.variables["ROUTE_REGISTER"] for s in sessions] == ["0", "0"]
    assert [s.variables["ROUTE_KIND"] for s in sessions] == ["unknown", "unknown"]
