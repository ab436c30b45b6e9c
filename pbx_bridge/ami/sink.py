"""The interface through which the AMI transport hands events to call tracking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class AmiEventSink(Protocol):
    """Consumer of one or more PBXs' AMI events (implemented by call tracking)."""

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        """Process events read together, in stream order; when it returns, their effects are persisted
        (ack). Returns how many of them could not be persisted (the sink counts and logs each one; the
        others are persisted). Raising means none of them is acknowledged."""

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        """The CoreShowChannel events of the live channels (may be empty), at their place among the events:
        after every (re)connect, after an overflow or sink error, and periodically while the link is up.

        ``continuous``: every event since the previous snapshot reached the sink (a periodic re-check on an
        unbroken session); otherwise there was a gap in which events may have been lost."""
