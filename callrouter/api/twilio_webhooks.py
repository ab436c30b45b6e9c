"""Twilio's voice webhooks: ``POST /twilio/voice``, ``/twilio/voice/step`` and ``/twilio/voice/status``.

Every request must carry a valid ``X-Twilio-Signature`` over the public URL
(``CALLROUTER_TWILIO_WEBHOOK_BASE_URL`` + path + query) and the form, else 403 in the usual error format.
A live call is never answered with a 5xx: an internal error answers TwiML that rings the default route.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from callrouter.api.deps import container_of
from callrouter.api.errors import ApiError, ErrorBody
from callrouter.settings import TWILIO_PBX_NAME, Settings
from callrouter.wiring import Container
from pbx_bridge.twilio_voice import twiml
from pbx_bridge.twilio_voice.call_summary import TWILIO_CONTEXT
from pbx_bridge.twilio_voice.signature import parse_form, public_url, signature_ok
from pbx_bridge.twilio_voice.voice import TwilioVoice, VoiceOptions
from routing.decision import RouteStep
from routing.missed_policy import PolicyConfig

log = logging.getLogger(__name__)
PREFIX = "/twilio/voice"
XML = "application/xml"

router = APIRouter(
    prefix=PREFIX,
    tags=["twilio"],
    responses={
        200: {"description": "TwiML", "content": {XML: {"example": '<Response><Dial timeout="20">...'}}},
        403: {"model": ErrorBody, "description": "Missing or invalid Twilio signature"},
    },
)


def base_url(settings: Settings) -> str:
    """The public base URL Twilio calls (and signs)."""
    return settings.twilio_webhook_base_url or settings.public_base_url


def voice_options(settings: Settings) -> VoiceOptions:
    """The Twilio front's options from settings."""
    return VoiceOptions(
        pbx=TWILIO_PBX_NAME,
        step_url=public_url(base_url(settings), f"{PREFIX}/step"),
        default_route=RouteStep(settings.default_route, settings.default_route_timeout_s),
        deadline_s=settings.agi_deadline_ms / 1000,
        sip_domain=settings.twilio_sip_domain,
        region=settings.default_region,
        policy=PolicyConfig(
            inbound_contexts=frozenset({TWILIO_CONTEXT}),
            short_abandon_s=settings.short_abandon_s,
            machine_targets=tuple(settings.machine_targets),
        ),
    )


async def signed_form(request: Request) -> dict[str, str]:
    """The request's form once its Twilio signature is verified; 403 (counted) otherwise."""
    container = container_of(request)
    form = parse_form(await request.body())
    token = container.settings.twilio_auth_token
    url = public_url(base_url(container.settings), request.url.path, request.url.query)
    signature = request.headers.get("X-Twilio-Signature")
    if token is None or not signature_ok(token.get_secret_value(), url, form, signature):
        endpoint = request.url.path.removeprefix(PREFIX).strip("/") or "voice"
        container.metrics.twilio_webhooks.labels(endpoint=endpoint, result="bad_signature").inc()
        log.warning("Twilio webhook refused: bad signature", extra={"linkedid": form.get("CallSid")})
        detail = "missing signature" if not signature else "signature does not match"
        raise ApiError(403, "invalid-twilio-signature", detail if token else "Twilio is not configured")
    return form


SignedForm = Annotated[dict[str, str], Depends(signed_form)]


def _voice(container: Container) -> TwilioVoice:
    return TwilioVoice(
        container.sessions,
        container.routing,
        container.metrics,
        voice_options(container.settings),
        on_ring=container.ringing.notify,
    )


def _twiml(container: Container, endpoint: str, result: str, document: str) -> Response:
    container.metrics.twilio_webhooks.labels(endpoint=endpoint, result=result).inc()
    return Response(document, media_type=XML)


@router.post("", response_class=Response, summary="A call arrived at a Twilio number: where it goes")
async def voice(request: Request, form: SignedForm) -> Response:
    container = container_of(request)
    twilio = _voice(container)
    try:
        return _twiml(container, "voice", "ok", await twilio.incoming(form))
    except Exception:
        log.exception("Twilio voice webhook failed; default route", extra={"linkedid": form.get("CallSid")})
        return _twiml(container, "voice", "error", twilio.default_route())


@router.post("/step", response_class=Response, summary="A chain step ended: ring the next one or stop")
async def step(request: Request, form: SignedForm) -> Response:
    container = container_of(request)
    twilio = _voice(container)
    try:
        index = int(request.query_params.get("i", ""))
        return _twiml(container, "step", "ok", await twilio.step(index, form))
    except Exception:
        log.exception("Twilio step callback failed; default route", extra={"linkedid": form.get("CallSid")})
        return _twiml(container, "step", "error", twilio.step_fallback(form))


@router.post(
    "/status",
    response_class=Response,
    summary="The call is over: record it (and its missed call)",
    responses={503: {"model": ErrorBody, "description": "The call could not be recorded"}},
)
async def status(request: Request, form: SignedForm) -> Response:
    container = container_of(request)
    try:
        await _voice(container).status(form)
    except Exception as exc:
        log.exception("Twilio status callback not recorded", extra={"linkedid": form.get("CallSid")})
        container.metrics.twilio_webhooks.labels(endpoint="status", result="error").inc()
        raise ApiError(503, "twilio-call-not-recorded", "the call could not be recorded") from exc
    return _twiml(container, "status", "ok", twiml.empty())
