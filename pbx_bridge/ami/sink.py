"""The interface through which the AMI transport hands events to call tracking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class AmiEventSink(Protocol):
    """Consumer of one or more PBXs' AMI events (implemented by call tracking)."""

    async def handle(self, pbx: str, message: Mapping[str, str]) -> None:
        """Process one AMI event; when it returns, the event's effect is persisted (ack)."""

    async def reconcile(self, pbx: str, live_channels: Sequence[Mapping[str, str]]) -> None:
        """After every (re)connect: the CoreShowChannel events of the live channels (may be empty)."""
