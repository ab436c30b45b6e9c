"""An AMI sink wrapper that sees ``DialBegin`` (a phone starts ringing) before call tracking does.

It hands each dial to ``notify`` (which must return at once: the screen pop runs elsewhere) and passes
every event on to the wrapped sink unchanged, so call tracking and its acknowledgement are untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from crm_core.services.screen_pop import Ringing
from pbx_bridge.ami.sink import AmiEventSink
from routing.call_state import UNKNOWN_CALLER, channel_target

log = logging.getLogger(__name__)


def ringing_of(message: Mapping[str, str]) -> Ringing | None:
    """The dial a ``DialBegin`` frame starts; ``None`` for any other frame or one without a destination.

    >>> r = ringing_of({"Event": "DialBegin", "Linkedid": "17.1", "CallerIDNum": "+79001234568",
    ...                 "DestChannel": "Local/noanswer-m2@agents-000000de;1",
    ...                 "DialString": "noanswer-m2@agents"})
    >>> (r.linkedid, r.caller, r.target, r.dial_string)
    ('17.1', '+79001234568', 'Local/noanswer-m2@agents', 'noanswer-m2@agents')
    >>> ringing_of({"Event": "Newchannel"}) is None
    True
    """
    if message.get("Event") != "DialBegin" or not message.get("DestChannel"):
        return None
    linkedid = message.get("Linkedid") or message.get("DestLinkedid") or ""
    caller = message.get("CallerIDNum") or message.get("DestConnectedLineNum") or ""
    return Ringing(
        linkedid=linkedid,
        caller=None if caller in UNKNOWN_CALLER else caller,
        target=channel_target(message["DestChannel"]),
        dial_string=message.get("DialString", ""),
        dest_number=message.get("DestCallerIDNum", ""),
    )


class RingingObserver:
    """An :class:`~pbx_bridge.ami.sink.AmiEventSink` around another one, reporting dials to ``notify``."""

    def __init__(self, inner: AmiEventSink, notify: Callable[[Ringing], None]) -> None:
        self._inner = inner
        self._notify = notify

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        for message in messages:
            self._observe(pbx, message)
        return await self._inner.handle_batch(pbx, messages)

    def _observe(self, pbx: str, message: Mapping[str, str]) -> None:
        ring = ringing_of(message)
        if ring is not None:
            try:
                self._notify(ring)
            except Exception:  # a screen pop never stops call tracking
                log.exception("ringing observer failed", extra={"pbx": pbx, "linkedid": ring.linkedid})

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        await self._inner.reconcile(pbx, live_channels, continuous)
