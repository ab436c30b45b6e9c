"""Message templates per channel: who called, from which number, when, how long ago, and where to act."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.services.escalation import MissedCallFacts, Recipient


@dataclass(frozen=True, slots=True)
class Links:
    """The CRM card, a click-to-call URI and a "Write in WhatsApp" link."""

    card: str
    call: str
    whatsapp: str


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything a template may say."""

    missed_call: MissedCallFacts
    recipient: Recipient
    step: int
    now: datetime
    public_base_url: str
    timezone: ZoneInfo

    @property
    def client(self) -> str:
        return self.missed_call.counterparty_name or "Unknown caller"

    @property
    def local_time(self) -> str:
        return self.missed_call.created_at.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M %Z")

    @property
    def ago(self) -> str:
        return humanize(self.now - self.missed_call.created_at)

    @property
    def links(self) -> Links:
        base = self.public_base_url.rstrip("/")
        mc = self.missed_call
        card = (
            f"{base}/counterparties/{mc.counterparty_id}"
            if mc.counterparty_id
            else f"{base}/missed-calls/{mc.id}"
        )
        digits = "".join(ch for ch in mc.caller_number if ch.isdigit())
        return Links(card=card, call=f"tel:+{digits}", whatsapp=f"https://wa.me/{digits}")


def humanize(delta: timedelta) -> str:
    """A short "how long ago".

    >>> humanize(timedelta(seconds=40)), humanize(timedelta(minutes=75)), humanize(timedelta(hours=26))
    ('under 1 min', '1 h 15 min', '1 d 2 h')
    """
    minutes = max(0, int(delta.total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min" if mins else "under 1 min"


def _headline(ctx: TemplateContext) -> str:
    mc = ctx.missed_call
    times = f" ({mc.attempts} calls)" if mc.attempts > 1 else ""
    if ctx.step == 0:
        return f"Missed call from {ctx.client} {mc.caller_number}{times} at {ctx.local_time} ({ctx.ago} ago)."
    return (
        f"{ctx.client} {mc.caller_number} called{times} at {ctx.local_time} ({ctx.ago} ago): "
        "nobody answered and nobody has called back."
    )


def _subject(ctx: TemplateContext) -> str:
    if ctx.step == 0:
        return f"Missed call: {ctx.client} {ctx.missed_call.caller_number}"
    return f"Not called back for {ctx.ago}: {ctx.client} {ctx.missed_call.caller_number}"


def _long_text(ctx: TemplateContext) -> str:
    links = ctx.links
    return (
        f"{_headline(ctx)}\n\n"
        f"CRM card: {links.card}\n"
        f"Call back: {links.call}\n"
        f"Write in WhatsApp: {links.whatsapp}\n"
    )


def _webhook(ctx: TemplateContext) -> str:
    mc = ctx.missed_call
    links = ctx.links
    payload = {
        "event": "missed_call.notification",
        "step": ctx.step,
        "missed_call_id": mc.id,
        "client": {
            "name": mc.counterparty_name,
            "number": mc.caller_number,
            "counterparty_id": mc.counterparty_id,
        },
        "missed_at": mc.created_at.isoformat(),
        "age_seconds": int((ctx.now - mc.created_at).total_seconds()),
        "attempts": mc.attempts,
        "recipient": {"manager_id": ctx.recipient.id, "name": ctx.recipient.name},
        "links": {"card": links.card, "call": links.call, "whatsapp": links.whatsapp},
        "text": _headline(ctx),
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def render(channel: str, ctx: TemplateContext) -> Rendered:
    """The message for ``channel``: email and WhatsApp get the full text, SMS a short one, webhook JSON."""
    subject = _subject(ctx)
    if channel == "sms":
        return Rendered(subject, f"{_headline(ctx)} Call back: {ctx.links.call}")
    if channel == "webhook":
        return Rendered(subject, _webhook(ctx))
    if channel == "inapp":
        return Rendered(subject, f"{_headline(ctx)}\n{ctx.links.card}")
    return Rendered(subject, _long_text(ctx))
