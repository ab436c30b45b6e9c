"""The answer to "where does this call go?": the contract between routing and the telephony adapters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RouteKind(enum.StrEnum):
    """What kind of destination a call was given (the ``ROUTE_KIND`` channel variable)."""

    MANAGER = "manager"
    FALLBACK = "fallback"
    BLACKLIST = "blacklist"
    LIST = "list"
    UNKNOWN = "unknown"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class RouteStep:
    """One step of the dial chain: a dial string (``PJSIP/101``) rung for ``timeout_s`` seconds."""

    target: str
    timeout_s: int


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a call goes and why.

    ``steps`` is the ordered chain (empty for a rejected call); ``reason`` is a human-readable
    explanation for the dry-run ("why did this call go there?"); ``degraded`` names the source that was
    down or too slow when the answer had to be given without it; ``notes`` are the details behind the
    reason (who was skipped and why).
    """

    kind: RouteKind
    steps: tuple[RouteStep, ...] = ()
    counterparty_id: int | None = None
    manager_id: int | None = None
    reason: str = ""
    register_number: bool = False
    after_hours: bool = False
    degraded: str | None = None
    notes: tuple[str, ...] = field(default=())
    treatment: str | None = None
    """For a rejected call: what the dialplan plays (``busy``, ``congestion`` or ``hangup``)."""

    @property
    def target(self) -> str | None:
        """The first dial string, or None when the call is rejected."""
        return self.steps[0].target if self.steps else None
