"""The Twilio voice adapter: route a call, ring the chain step by step, record the finished call.

A call's progress (the routing chain and the rung steps, as a :class:`~routing.call_state.CallState`) is kept
in ``active_calls`` under PBX ``twilio`` and Linkedid = ``CallSid`` between Twilio's webhook requests; the
status callback classifies it with :mod:`routing.missed_policy` and writes it through
:func:`~crm_core.services.call_records.record_finished_call`, exactly as the AMI path does.

Live-call answers (``incoming``, ``step``) stay within ``deadline_s``: a database write that is slower goes
on in the background and the TwiML is sent anyway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from crm_core.metrics import Metrics
from crm_core.services.active_calls import load_active_call, save_active_call
from crm_core.services.call_records import REPEAT_WINDOW
from crm_core.services.screen_pop import Ringing
from pbx_bridge.finished_calls import store_finished_call
from pbx_bridge.twilio_voice import twiml
from pbx_bridge.twilio_voice.call_summary import (
    TWILIO_CONTEXT,
    dial_began,
    dial_ended,
    hung_up,
    set_route,
    start_call,
)
from routing.call_state import CallState
from routing.decision import RouteDecision, RouteKind, RouteStep
from routing.missed_policy import PolicyConfig
from routing.service import RoutingService

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_DB_BUDGET_S = 0.01


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    """Site configuration of the Twilio front (``callrouter.api.twilio_webhooks`` fills it from settings)."""

    step_url: str
    """The public URL of the step callback (``<Dial action>``); ``?i=<step index>`` is appended."""
    default_route: RouteStep
    deadline_s: float = 0.3
    sip_domain: str | None = None
    region: str = "RU"
    policy: PolicyConfig = field(
        default_factory=lambda: PolicyConfig(inbound_contexts=frozenset({TWILIO_CONTEXT}))
    )
    repeat_window: timedelta = REPEAT_WINDOW
    pbx: str = "twilio"


@dataclass
class _Progress:
    """What is persisted between webhook requests: the call so far and its chain."""

    call: CallState
    steps: list[RouteStep]

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.call.to_dict(), "steps": [[s.target, s.timeout_s] for s in self.steps]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Progress:
        steps = [RouteStep(str(target), int(timeout)) for target, timeout in data["steps"]]
        return cls(CallState.from_dict(data["call"]), steps)


class TwilioVoice:
    """Answers Twilio's voice webhooks (already signature-checked) with TwiML and records the calls."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        routing: RoutingService | None,
        metrics: Metrics,
        options: VoiceOptions,
        clock: Callable[[], float] = time.time,
        on_ring: Callable[[Ringing], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._routing = routing
        self._metrics = metrics
        self._opt = options
        self._clock = clock
        self._on_ring = on_ring  # screen pop: told each target a step rings (must return at once)

    # the webhooks -------------------------------------------------------------------------------------

    async def incoming(self, form: Mapping[str, str]) -> str:
        """``POST /twilio/voice``: a new inbound call; TwiML for the first dialable chain step."""
        end = time.monotonic() + self._opt.deadline_s
        sid = _call_sid(form)
        caller, dialed = form.get("From"), form.get("To")
        decision = await self._decide(caller, dialed, sid)
        at = self._clock()
        progress = _Progress(start_call(sid, caller, dialed, at), list(decision.steps))
        set_route(progress.call, decision)
        if decision.kind is RouteKind.BLACKLIST:
            document = twiml.reject(decision.treatment)
        else:
            if twiml.next_dial(progress.steps, 0, self._opt.sip_domain)[0] is None:
                log.warning("no dialable step in the chain; default route", extra={"linkedid": sid})
                progress.steps.append(self._opt.default_route)
            document = self._ring(progress, 0, at)
        await self._within(end, sid, self._save, sid, progress)
        return document

    async def step(self, index: int, form: Mapping[str, str]) -> str:
        """``POST /twilio/voice/step?i=<index>``: step ``index`` ended; TwiML for the next one or the end."""
        end = time.monotonic() + self._opt.deadline_s
        sid = _call_sid(form)
        status = form.get("DialCallStatus", "")
        progress = await self._within(end, sid, self._load, sid)
        if progress is None:
            log.warning("step callback for an unknown call", extra={"linkedid": sid})
            return self.step_fallback(form)
        at = self._clock()
        result = dial_ended(progress.call, index, status, _seconds(form.get("DialCallDuration")), at)
        if result in ("ANSWER", "CANCEL") or progress.call.answered_at is not None:
            document = twiml.hang_up()
        else:
            document = self._ring(progress, index + 1, at)
        await self._within(end, sid, self._save, sid, progress)
        return document

    async def status(self, form: Mapping[str, str]) -> None:
        """``POST /twilio/voice/status``: the call is over; write its record (a replay writes nothing new)."""
        await asyncio.to_thread(self._finish, form, self._clock())

    def default_route(self) -> str:
        """The answer when something went wrong: ring the default route, nothing more."""
        plan, _ = twiml.next_dial([self._opt.default_route], 0, self._opt.sip_domain)
        return twiml.dial(plan, None) if plan is not None else twiml.hang_up()

    def step_fallback(self, form: Mapping[str, str]) -> str:
        """The step answer without the call's progress: end an answered call, else ring the default route."""
        answered = form.get("DialCallStatus", "") in ("completed", "answered")
        return twiml.hang_up() if answered else self.default_route()

    # helpers ------------------------------------------------------------------------------------------

    async def _decide(self, caller: str | None, dialed: str | None, sid: str) -> RouteDecision:
        if self._routing is None:
            return RouteDecision(RouteKind.DEFAULT, (self._opt.default_route,), reason="no routing service")
        return await self._routing.decide(caller, dialed, linkedid=sid)

    def _plan(self, steps: list[RouteStep], start: int, sid: str) -> twiml.PlannedDial | None:
        plan, skipped = twiml.next_dial(steps, start, self._opt.sip_domain)
        for target in skipped:
            self._metrics.twilio_webhooks.labels(endpoint="dial", result="unmapped_target").inc()
            log.error("dial string Twilio cannot ring; step skipped: %s", target, extra={"linkedid": sid})
        return plan

    def _ring(self, progress: _Progress, start: int, at: float) -> str:
        """TwiML ringing the first dialable step from ``start``; hang up when the chain is exhausted."""
        plan = self._plan(progress.steps, start, progress.call.linkedid)
        if plan is None:
            return twiml.hang_up()
        dial_began(progress.call, plan.index, plan.step.target, at)
        self._tell_ringing(progress.call, plan.step.target)
        return twiml.dial(plan, f"{self._opt.step_url}?i={plan.index}")

    def _tell_ringing(self, call: CallState, target: str) -> None:
        if self._on_ring is None:
            return
        try:
            self._on_ring(Ringing(call.linkedid, call.caller_num or None, target))
        except Exception:  # a screen pop never costs the call its route
            log.exception("ringing not announced", extra={"linkedid": call.linkedid})

    async def _within(self, end: float, sid: str, fn: Callable[..., T], *args: Any) -> T | None:
        """Run database work in a thread until ``end``; None (logged) when it fails or is late."""
        try:
            async with asyncio.timeout(max(end - time.monotonic(), MIN_DB_BUDGET_S)):
                return await asyncio.to_thread(fn, *args)
        except Exception as exc:
            self._metrics.twilio_webhooks.labels(endpoint="state", result="error").inc()
            log.warning("call progress not read/saved in time", extra={"linkedid": sid, "error": repr(exc)})
            return None

    def _load(self, sid: str) -> _Progress | None:
        with self._sessions() as session:
            raw = load_active_call(session, self._opt.pbx, sid)
        return _Progress.from_dict(raw) if raw is not None else None

    def _save(self, sid: str, progress: _Progress) -> None:
        with self._sessions() as session, session.begin():
            save_active_call(session, self._opt.pbx, sid, progress.to_dict())

    def _finish(self, form: Mapping[str, str], at: float) -> None:
        sid = _call_sid(form)
        with self._sessions() as session, session.begin():
            raw = load_active_call(session, self._opt.pbx, sid)
            if raw is not None:
                call = _Progress.from_dict(raw).call
            else:  # the routing answer was not persisted: what the status callback alone tells
                started = at - _seconds(form.get("CallDuration"))
                call = start_call(sid, form.get("From"), form.get("To"), started)
            hung_up(call, at)
            verdict, outcome = store_finished_call(
                session,
                self._opt.pbx,
                call,
                policy=self._opt.policy,
                metrics=self._metrics,
                region=self._opt.region,
                repeat_window=self._opt.repeat_window,
            )
        log.info(
            "twilio call finished: %s %s",
            verdict.disposition.value,
            verdict.missed_reason.value if verdict.missed_reason else "-",
            extra={"linkedid": sid, "pbx": self._opt.pbx, "record_created": outcome.created},
        )


def _call_sid(form: Mapping[str, str]) -> str:
    sid = form.get("CallSid", "").strip()
    if not sid or len(sid) > 64:
        raise ValueError("webhook without a valid CallSid")
    return sid


def _seconds(raw: str | None) -> float:
    """A duration parameter in seconds; 0 when absent or malformed.

    >>> _seconds("42"), _seconds(None), _seconds("x"), _seconds("-3"), _seconds("nan")
    (42.0, 0.0, 0.0, 0.0, 0.0)
    """
    try:
        value = float(raw or 0)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0
