"""Click-to-call: what the API asks of a PBX (:class:`Originator`) and how a request becomes an Originate.

The manager's own phone rings first (Channel = their dial target); when they pick up, the PBX dials the
client's E.164 number from the ``originate_context`` dialplan context, showing the manager's name and
extension as caller id (the real trace ``i``). Implementations raise
:class:`~pbx_bridge.ami.originator.PbxUnavailable` or :class:`~pbx_bridge.ami.originator.OriginateRefused`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from crm_core.models import Manager
from crm_core.services.errors import Conflict
from pbx_bridge.ami.originator import OriginateFailed, OriginateRefused, PbxUnavailable

__all__ = [
    "OriginateFailed",
    "OriginateRefused",
    "OriginateRequest",
    "Originator",
    "PbxUnavailable",
    "caller_id",
    "plan_call",
]

_UNSAFE_IN_NAME = re.compile(r'["<>\\\r\n\x00]')


class Originator(Protocol):
    """Something that can make the PBX ring ``channel`` and then dial ``exten`` in ``context``."""

    async def originate(
        self, channel: str, exten: str, context: str, *, caller_id: str | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """The arguments of one click-to-call Originate."""

    channel: str
    exten: str
    context: str
    caller_id: str | None


def caller_id(name: str, extension: str | None) -> str:
    """The ``"Name" <extension>`` caller id the client's call shows; quotes and line breaks removed.

    >>> caller_id("Manager m1", "101")
    '"Manager m1" <101>'
    >>> caller_id('Ann "the boss"\\r\\nAction: Hangup', None)
    '"Ann the bossAction: Hangup"'
    """
    clean = _UNSAFE_IN_NAME.sub("", name).strip()
    number = _UNSAFE_IN_NAME.sub("", extension or "").strip()
    return f'"{clean}" <{number}>' if number else f'"{clean}"'


def plan_call(manager: Manager, e164: str, context: str) -> OriginateRequest:
    """The Originate ringing ``manager`` first; 409 ``no-dial-target`` when they have no phone to ring."""
    target = (manager.dial_target or "").strip()
    if not target:
        raise Conflict("no-dial-target", {"manager_id": manager.id, "hint": "an admin sets dial_target"})
    if "\r" in target or "\n" in target:
        raise Conflict("invalid-dial-target", {"manager_id": manager.id})
    return OriginateRequest(target, e164, context, caller_id(manager.name, manager.extension))
