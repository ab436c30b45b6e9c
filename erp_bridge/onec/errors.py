"""What can go wrong talking to 1C, as one exception with a clear message and a stable id."""

from __future__ import annotations


class OneCError(Exception):
    """The 1C publication could not be read; ``code`` is stable (``wrong-password``, ``not-published``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Retryable(OneCError):
    """A timeout, a dropped connection or a 5xx: worth another try after a pause."""
