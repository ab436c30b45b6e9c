"""The demo's calls: what ``callrouter demo pbx`` plays once serve's AMI link is up, and what it says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callrouter.demo_pbx.play import PlayedCall, channel_count, play_call
from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.server import DemoPbx
from crm_core.demo_data import CLIENT_NUMBER, UNKNOWN_NUMBER
from crm_core.i18n import N_, Localizer


@dataclass(frozen=True)
class DemoCall:
    """One call: who calls, the recording replayed, and what the newcomer should see (a catalog text)."""

    caller: str
    recording: str
    shows: str


DEMO_CALLS = (
    DemoCall(
        CLIENT_NUMBER,
        "s1",
        N_("%(target)s rings, answers after 1 s, talks 3.5 s: the screen pop, then an answered call record"),
    ),
    DemoCall(
        CLIENT_NUMBER,
        "s2",
        N_("%(target)s rings for 8 s, nobody answers: the screen pop, then a missed call in the list"),
    ),
    DemoCall(
        UNKNOWN_NUMBER,
        "s2",
        N_("%(target)s rings for 8 s, nobody answers: a missed call from an unknown number (shared queue)"),
    ),
)  # the answered call first: a later answered call from the same client would close the missed one


@dataclass(frozen=True)
class DemoAddress:
    """Where serve's FastAGI server listens (the demo asks it where each call goes)."""

    agi_host: str
    agi_port: int


async def play_demo(
    pbx: DemoPbx,
    agi: DemoAddress,
    l10n: Localizer,
    say: Callable[[str], None],
    calls: Sequence[DemoCall] = DEMO_CALLS,
    pause: float = 2.0,
) -> list[PlayedCall]:
    """Play ``calls`` one after another (``pause`` seconds apart); ``say`` prints a line for the user."""
    played: list[PlayedCall] = []
    sequence = 1
    for n, call in enumerate(calls):
        if n:
            await asyncio.sleep(pause)
        recording = load_recording(call.recording)

        def announce(result: PlayedCall, call: DemoCall = call) -> None:
            if result.target is None:
                say(
                    l10n.gettext(
                        "call from %(caller)s: the routing rings no phone, skipped", caller=call.caller
                    )
                )
            else:
                shows = l10n.gettext(call.shows, target=result.target)
                say(l10n.gettext("call from %(caller)s: %(shows)s", caller=call.caller, shows=shows))

        played.append(
            await play_call(pbx, recording, call.caller, sequence, agi.agi_host, agi.agi_port, announce)
        )
        sequence += channel_count(recording)
    return played
