"""The answered legs of a call: who talked to the caller, from when until when (transfers included).

A leg opens when a dial from the caller's side is answered (``DialEnd ANSWER``, a queue ``AgentConnect``, the
target of an attended transfer, or a bridged callee first seen in a snapshot) and closes when either end of
it leaves: its callee or its caller hangs up, or one of them transfers the other away. Times that were
guessed (after a gap in the event stream) are flagged, so the record can say it is approximate; a real
event delivered later replaces the guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class LegInfo:
    """One answered party: ``dest_uniqueid`` (the callee's channel) talking to ``source_uniqueid``."""

    dest_uniqueid: str
    target: str
    source_uniqueid: str
    answered_at: float
    dial_string: str = ""
    dest_caller_num: str = ""
    queue: str | None = None
    ended_at: float | None = None
    answered_guess: bool = False
    ended_guess: bool = False

    @property
    def talk_seconds(self) -> float | None:
        """Seconds between answer and end (``None`` while the leg is open).

        >>> LegInfo("b", "PJSIP/m1", "a", 10.0, ended_at=12.5).talk_seconds
        2.5
        """
        return None if self.ended_at is None else max(self.ended_at - self.answered_at, 0.0)


def end_legs(
    legs: Iterable[LegInfo], uniqueid: str, at: float, *, guess: bool = False, correcting: bool = False
) -> bool:
    """Close the open legs ``uniqueid`` takes part in at ``at``. ``correcting``: the real hang-up of a channel
    that had vanished in a gap; it replaces the leg's guessed end (or an end it proves was earlier), while
    a hang-up of a party still alive after the gap never does.

    >>> leg = LegInfo("b", "PJSIP/m1", "a", 10.0)
    >>> end_legs([leg], "b", 13.0, guess=True), leg.ended_at, leg.ended_guess
    (True, 13.0, True)
    >>> end_legs([leg], "a", 20.0), leg.ended_at
    (False, 13.0)
    >>> end_legs([leg], "b", 14.0, correcting=True), leg.ended_at, leg.ended_guess
    (True, 14.0, False)
    >>> end_legs([leg], "a", 13.5, correcting=True), leg.ended_at
    (True, 13.5)
    """
    changed = False
    for leg in legs:
        if uniqueid not in (leg.dest_uniqueid, leg.source_uniqueid):
            continue
        if leg.ended_at is None or (correcting and (leg.ended_guess or at < leg.ended_at)):
            leg.ended_at, leg.ended_guess = max(at, leg.answered_at), guess
            changed = True
    return changed


def open_leg_with(legs: Iterable[LegInfo], uniqueids: set[str]) -> bool:
    """True when some open leg's callee is one of ``uniqueids``."""
    return any(leg.ended_at is None and leg.dest_uniqueid in uniqueids for leg in legs)
