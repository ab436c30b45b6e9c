"""Play demo calls: ask serve's FastAGI where a call goes, then replay a recording at its own pace.

A call starts as Asterisk's dialplan starts it: the trunk leg's FastAGI request (the recording's, with the
new caller, channel and uniqueid) goes to serve; the ``SET VARIABLE`` commands serve answers become the
call's AGI events, and ``ROUTE_TARGET`` is the phone that rings in the replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callrouter.demo_pbx.recording import Frame, Recording
from callrouter.demo_pbx.rewrite import CallPlan, rewrite, splice_agi, timestamp, trunk_leg
from callrouter.demo_pbx.server import DemoPbx
from pbx_bridge.agi.client import AgiExchange, place_request, request_block


@dataclass(frozen=True)
class PlayedCall:
    """What was played: the call's Linkedid, the phone that rang (``None``: the routing rang none)."""

    linkedid: str
    target: str | None
    variables: dict[str, str]


def agi_request(recording: Recording, plan: CallPlan, agi_host: str, agi_port: int) -> bytes:
    """The recording's FastAGI request for the new call (caller, channel, uniqueid, server address)."""
    channel, uniqueid = trunk_leg(recording.events, plan)
    headers = dict(recording.agi_request)
    headers.update(
        request=f"agi://{agi_host}:{agi_port}/route",
        channel=channel,
        uniqueid=uniqueid,
        callerid=plan.caller,
    )
    return request_block(headers)


async def pace(pbx: DemoPbx, frames: Sequence[Frame]) -> None:
    """Send ``frames`` spaced as their timestamps say (the first one now)."""
    first = next((t for f in frames if (t := timestamp(f)) is not None), None)
    begun = time.monotonic()
    for frame in frames:
        at = timestamp(frame)
        if at is not None and first is not None:
            wait = (at - first) - (time.monotonic() - begun)
            if wait > 0:
                await asyncio.sleep(wait)
        await pbx.send(frame)


async def play_call(
    pbx: DemoPbx,
    recording: Recording,
    caller: str,
    sequence: int,
    agi_host: str,
    agi_port: int,
    routed: Callable[[PlayedCall], None] = lambda call: None,
) -> PlayedCall:
    """Route ``caller`` through serve's FastAGI and replay ``recording`` to the phone it chose.

    ``routed`` hears of the routing answer before the replay starts. Raises ``OSError``/``TimeoutError``
    when the FastAGI server cannot be reached.
    """
    plan = CallPlan(caller=caller, target="", start=time.time(), sequence=sequence)
    exchange: AgiExchange = await place_request(
        agi_host, agi_port, agi_request(recording, plan, agi_host, agi_port)
    )
    _, linkedid = trunk_leg(recording.events, plan)
    target = exchange.variables.get("ROUTE_TARGET")
    if not target or exchange.variables.get("ROUTE_KIND") == "blacklist":
        result = PlayedCall(linkedid, None, exchange.variables)
        routed(result)
        return result
    result = PlayedCall(linkedid, target, exchange.variables)
    routed(result)
    plan = CallPlan(caller=caller, target=target, start=plan.start, sequence=sequence)
    frames = splice_agi(rewrite(recording.events, plan), exchange.commands)
    await pace(pbx, frames)
    return result


def channel_count(recording: Recording) -> int:
    """How many channels (uniqueid sequence numbers) a replay of ``recording`` uses."""
    return sum(1 for e in recording.events if e.get("Event") == "Newchannel")
