"""A source that failed is skipped for a while: an outage costs one timeout, not one per call."""

from __future__ import annotations

import time


class Breaker:
    """Skips a source for ``retry_after_s`` after it failed."""

    def __init__(self, retry_after_s: float) -> None:
        self._retry_after_s = retry_after_s
        self._open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self._open_until

    def failed(self) -> None:
        self._open_until = time.monotonic() + self._retry_after_s

    def succeeded(self) -> None:
        self._open_until = 0.0
