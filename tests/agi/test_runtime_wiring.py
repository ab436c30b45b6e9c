"""``callrouter serve`` builds the FastAGI server from the container: handler, default route, deadline."""

from __future__ import annotations

from callrouter.runtime import build_agi_server
from callrouter.settings import Settings
from callrouter.wiring import build_container
from tests.agi.fake_asterisk import fake_asterisk


async def test_without_routing_service_every_call_gets_the_configured_default(
    sqlite_url: str, trace_blocks: dict[str, bytes]
) -> None:
    settings = Settings(
        env="development", database_url=sqlite_url, default_route="PJSIP/desk", default_route_timeout_s=12
    )
    container = build_container(settings)
    container.routing = None
    server = build_agi_server(container)
    assert server.deadline_s == settings.agi_deadline_ms / 1000
    await server.start("127.0.0.1", 0)
    try:
        session = await fake_asterisk(server.port, trace_blocks["sip/s1.agi#0"])
    finally:
        await server.close()
        container.close()
    assert session.variables["ROUTE_KIND"] == "default"
    assert session.variables["ROUTE_CHAIN"] == "PJSIP/desk~12"
    sample = container.metrics.registry.get_sample_value("callrouter_calls_routed_total", {"kind": "default"})
    assert sample == 1
