"""The interface through which the AMI transport hands events to call tracking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class AmiEventSink(Protocol):
    """Consumer of one or more PBXs' AMI events (implemented by call tracking)."""

    async def handle(self, pbx: str, message: Mapping[str, str]) -> None:
        """Process one AMI event; when it returns, the event's effect is persisted (ack)."""

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        """The CoreShowChannel events of the live channels (may be empty), at their place among the events:
        after every (re)connect, after an overflow or sink error, and periodically while the link is up.

        ``continuous``: every event since the previous snapshot reached the sink (a periodic re-check on an
        unbroken session); otherwise there was a gap in which events may have been lost."""
