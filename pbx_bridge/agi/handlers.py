"""Route handlers for the FastAGI server: a FastAGI request turned into a question to ``routing``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pbx_bridge.agi.protocol import AgiRequest
from pbx_bridge.agi.server import Handler
from routing.decision import RouteDecision, RouteKind, RouteStep


class RouteDecider(Protocol):
    """What the server needs from the routing service (``routing.service.RoutingService``)."""

    async def decide(
        self,
        caller: str | None,
        dialed: str | None = None,
        at: datetime | None = None,
        *,
        linkedid: str | None = None,
    ) -> RouteDecision: ...


def default_decision(target: str, timeout_s: int) -> RouteDecision:
    """The answer when nothing better is known: ring ``target`` for ``timeout_s`` seconds.

    >>> default_decision("PJSIP/reception", 30).target
    'PJSIP/reception'
    """
    return RouteDecision(RouteKind.DEFAULT, (RouteStep(target, timeout_s),), reason="default route")


def routing_handler(decider: RouteDecider) -> Handler:
    """Ask ``decider`` about the request's caller and DID (the server enforces the deadline)."""

    async def handle(request: AgiRequest) -> RouteDecision:
        return await decider.decide(request.caller, request.dialed, linkedid=request.linkedid)

    return handle


def default_handler(decision: RouteDecision) -> Handler:
    """Always answer ``decision``: the handler while no routing service is wired."""

    async def handle(_request: AgiRequest) -> RouteDecision:
        return decision

    return handle
