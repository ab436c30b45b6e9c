"""The AMI click-to-call adapter over real TCP against the Asterisk stand-in (and the API on top of it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from callrouter.ami_leadership import AmiLeadership
from callrouter.ami_links import attach_ami
from callrouter.api.app import create_app
from callrouter.settings import AmiPbxSettings, Settings
from callrouter.wiring import Container
from crm_core.metrics import Metrics
from crm_core.models import Manager
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.originator import AmiOriginator, OriginateRefused, PbxUnavailable
from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.supervisor import AmiSupervisor
from tests.ami.helpers import RecordingSink, fast_config, wait_until
from tests.ami.standin import AmiStandIn
from tests.workspace.conftest import add_manager, auth

ClientFactory = Callable[..., AmiClient]


class RefusingStandIn(AmiStandIn):
    """Answers ``Originate`` as Asterisk does for a user without the ``originate`` permission."""

    async def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        if action.get("Action", "").lower() != "originate":
            return await super()._answer(action, writer)
        writer.write(self._response("Error", action.get("ActionID"), ("Message", "Permission denied")))
        await writer.drain()


@pytest.fixture
def trace_originate(traces_dir: Path) -> dict[str, str]:
    """The Originate the real recording ``i`` sent (manager m1 calls +79001234568), without its ActionID."""
    [action] = [a for a in parse_messages((traces_dir / "i.sent").read_bytes()) if a["Action"] == "Originate"]
    return {k: v for k, v in action.items() if k != "ActionID"}


@pytest.fixture
async def pbx() -> AsyncIterator[AmiStandIn]:
    async with AmiStandIn() as standin:
        yield standin


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """``make_client(standin, **config)``: an AMI client to the stand-in, stopped after the test."""
    clients: list[AmiClient] = []

    def make(standin: AmiStandIn, **overrides: object) -> AmiClient:
        client = AmiClient(fast_config(standin.port, **overrides), RecordingSink(), Metrics())
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.stop()


async def logged_in(client: AmiClient) -> AmiClient:
    await client.start()
    await client.wait_logged_in(2)
    return client


async def logged_out(client: AmiClient) -> None:
    async with asyncio.timeout(2):
        while client.state.logged_in:
            await asyncio.sleep(0.005)


def received(standin: AmiStandIn) -> list[dict[str, str]]:
    return [
        {k: v for k, v in a.items() if k != "ActionID"} for a in standin.actions if a["Action"] == "Originate"
    ]


async def test_originate_arrives_exactly_as_in_trace_i(
    pbx: AmiStandIn, make_client: ClientFactory, trace_originate: dict[str, str]
) -> None:
    originator = AmiOriginator(await logged_in(make_client(pbx)))
    await originator.originate(
        trace_originate["Channel"],
        trace_originate["Exten"],
        trace_originate["Context"],
        caller_id=trace_originate["CallerID"],
    )
    assert received(pbx) == [trace_originate]


async def test_link_down_is_pbx_unavailable_at_once(pbx: AmiStandIn, make_client: ClientFactory) -> None:
    originator = AmiOriginator(make_client(pbx))  # never started: not logged in
    async with asyncio.timeout(0.1):
        with pytest.raises(PbxUnavailable, match="down"):
            await originator.originate("PJSIP/m1", "+79001234568", "from-internal")
    assert received(pbx) == []


async def test_link_lost_is_pbx_unavailable(pbx: AmiStandIn, make_client: ClientFactory) -> None:
    client = await logged_in(make_client(pbx, ping_interval=60, backoff_initial=5.0, backoff_max=5.0))
    await pbx.close()
    await logged_out(client)
    with pytest.raises(PbxUnavailable):
        await AmiOriginator(client).originate("PJSIP/m1", "+79001234568", "from-internal")


async def test_unanswered_originate_is_pbx_unavailable(pbx: AmiStandIn, make_client: ClientFactory) -> None:
    client = await logged_in(make_client(pbx, ping_interval=60, action_timeout=0.1))
    pbx.silent = True
    with pytest.raises(PbxUnavailable):
        await AmiOriginator(client).originate("PJSIP/m1", "+79001234568", "from-internal")


async def test_an_error_response_is_originate_refused(make_client: ClientFactory) -> None:
    async with RefusingStandIn() as refusing:
        originator = AmiOriginator(await logged_in(make_client(refusing)))
        with pytest.raises(OriginateRefused, match="Permission denied"):
            await originator.originate("PJSIP/m1", "+79001234568", "from-internal")
        assert len(received(refusing)) == 1


async def test_api_to_pbx_end_to_end(
    pbx: AmiStandIn,
    make_client: ClientFactory,
    trace_originate: dict[str, str],
    container: Container,
    settings: Settings,
    m1: Manager,
    db: Session,
) -> None:
    """The workspace's Call button path: HTTP -> click-to-call -> AMI adapter -> the PBX, as recorded."""
    client = await logged_in(
        make_client(pbx, ping_interval=60, action_timeout=5.0, backoff_initial=5.0, backoff_max=5.0)
    )
    container.originators = {settings.pbx_name: AmiOriginator(client)}
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/api/v1/calls/click-to-call", json={"number": "8 900 123-45-68"}, headers=auth(settings, m1)
        )
        assert response.status_code == 202, response.text
        assert received(pbx) == [trace_originate]
        await pbx.close()
        await logged_out(client)
        down = await http.post(
            "/api/v1/calls/click-to-call", json={"number": "8 900 123-45-68"}, headers=auth(settings, m1)
        )
    assert down.status_code == 503
    assert down.json()["error"] == "pbx-unavailable"


def _originating_client(ami: AmiSupervisor | AmiLeadership, pbx: str) -> AmiClient:
    """The link click-to-call uses: SQLite's one link per PBX, or PostgreSQL's action-only link."""
    return ami.action_client(pbx) if isinstance(ami, AmiLeadership) else ami.client(pbx)


async def test_click_to_call_rings_on_the_pbx_of_the_managers_phone(
    container: Container, settings: Settings, db: Session
) -> None:
    """Two PBXs wired as serve wires them: each manager's Originate reaches the PBX their phone is on."""
    on_main = add_manager(db, "a1", dial_target="PJSIP/101", extension="101")
    on_branch = add_manager(db, "b1", dial_target="PJSIP/301", extension="301", pbx="branch")
    db.commit()
    async with AmiStandIn() as main, AmiStandIn() as branch:
        extra = {
            "host": "127.0.0.1",
            "port": branch.port,
            "username": branch.username,
            "secret": branch.secret,
        }
        container.settings = Settings(
            env="development",
            database_url=settings.database_url,
            ami_host="127.0.0.1",
            ami_port=main.port,
            ami_username=main.username,
            ami_secret=main.secret,
            ami_extra_pbxs=[AmiPbxSettings.model_validate({"name": "branch", **extra})],
        )
        ami = attach_ami(container)
        assert ami is not None and sorted(container.originators) == ["branch", "main"]
        await ami.start()
        try:
            await wait_until(
                lambda: all(_originating_client(ami, p).state.logged_in for p in ("main", "branch")), 10
            )
            transport = httpx.ASGITransport(app=create_app(container))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                for who in (on_branch, on_main):
                    response = await http.post(
                        "/api/v1/calls/click-to-call",
                        json={"number": "+79001234568"},
                        headers=auth(settings, who),
                    )
                    assert response.status_code == 202, response.text
        finally:
            await ami.stop()
            if isinstance(ami, AmiLeadership):  # the leases live in the session's database: leave none
                with container.engine.begin() as conn:
                    conn.execute(text("DELETE FROM ami_leases WHERE pbx IN ('main', 'branch')"))
    assert [(a["Channel"], a["CallerID"]) for a in received(branch)] == [("PJSIP/301", '"B1" <301>')]
    assert [(a["Channel"], a["CallerID"]) for a in received(main)] == [("PJSIP/101", '"A1" <101>')]
