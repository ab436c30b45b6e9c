"""Message templates per channel: who called, from which number, when, how long ago, and where to act.

Texts come from the gettext catalogs (:mod:`crm_core.i18n`) in the recipient's language; times are in the
company timezone, written the way that language writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from crm_core.i18n import Localizer
from crm_core.services.escalation import MissedCallFacts, Recipient


@dataclass(frozen=True, slots=True)
class Links:
    """The workspace view of the client (or of the missed call), a click-to-call URI and a WhatsApp link."""

    card: str
    call: str
    whatsapp: str


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


def workspace_link(base_url: str, mc: MissedCallFacts) -> str:
    """A deep link the workspace opens after login: the client's card, or the missed call itself.

    >>> from datetime import UTC
    >>> facts = MissedCallFacts(24, "+7900", datetime(2026, 1, 1, tzinfo=UTC), None, None, None, 1)
    >>> workspace_link("https://crm.example.com/", facts)
    'https://crm.example.com/workspace#/missed/24'
    """
    base = base_url.rstrip("/")
    if mc.counterparty_id:
        return f"{base}/workspace#/client/{mc.counterparty_id}"
    return f"{base}/workspace#/missed/{mc.id}"


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything a template may say, and the language (default: the company's) to say it in."""

    missed_call: MissedCallFacts
    recipient: Recipient
    step: int
    now: datetime
    public_base_url: str
    timezone: ZoneInfo
    default_language: str = "ru"

    @property
    def l10n(self) -> Localizer:
        return Localizer.of(self.recipient.language or self.default_language, self.timezone)

    @property
    def client(self) -> str:
        return self.missed_call.counterparty_name or self.l10n.gettext("Unknown caller")

    @property
    def local_time(self) -> str:
        return self.l10n.date_time(self.missed_call.created_at)

    @property
    def ago(self) -> str:
        return self.l10n.duration(self.now - self.missed_call.created_at)

    @property
    def links(self) -> Links:
        mc = self.missed_call
        digits = "".join(ch for ch in mc.caller_number if ch.isdigit())
        return Links(
            card=workspace_link(self.public_base_url, mc),
            call=f"tel:+{digits}",
            whatsapp=f"https://wa.me/{digits}",
        )


def _headline(ctx: TemplateContext) -> str:
    mc, l10n = ctx.missed_call, ctx.l10n
    values = {"client": ctx.client, "number": mc.caller_number, "time": ctx.local_time, "ago": ctx.ago}
    if mc.attempts > 1:
        values["times"] = l10n.ngettext("%(num)d call", "%(num)d calls", mc.attempts)
        if ctx.step == 0:
            return l10n.gettext(
                "Missed call from %(client)s %(number)s (%(times)s) at %(time)s (%(ago)s ago).", **values
            )
        return l10n.gettext(
            "%(client)s %(number)s called (%(times)s) at %(time)s (%(ago)s ago): "
            "nobody answered and nobody has called back.",
            **values,
        )
    if ctx.step == 0:
        return l10n.gettext("Missed call from %(client)s %(number)s at %(time)s (%(ago)s ago).", **values)
    return l10n.gettext(
        "%(client)s %(number)s called at %(time)s (%(ago)s ago): nobody answered and nobody has called back.",
        **values,
    )


def _subject(ctx: TemplateContext) -> str:
    values = {"client": ctx.client, "number": ctx.missed_call.caller_number, "ago": ctx.ago}
    if ctx.step == 0:
        return ctx.l10n.gettext("Missed call: %(client)s %(number)s", **values)
    return ctx.l10n.gettext("Not called back for %(ago)s: %(client)s %(number)s", **values)


def _long_text(ctx: TemplateContext) -> str:
    links, l10n = ctx.links, ctx.l10n
    lines = [
        _headline(ctx),
        "",
        l10n.gettext("Open in the workspace: %(url)s", url=links.card),
        l10n.gettext("Call back: %(url)s", url=links.call),
        l10n.gettext("Write in WhatsApp: %(url)s", url=links.whatsapp),
    ]
    return "\n".join(lines) + "\n"


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
        "language": ctx.l10n.language,
        "text": _headline(ctx),
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def render(channel: str, ctx: TemplateContext) -> Rendered:
    """The message for ``channel``: email and WhatsApp get the full text, SMS a short one, webhook JSON."""
    subject = _subject(ctx)
    if channel == "sms":
        call_back = ctx.l10n.gettext("Call back: %(url)s", url=ctx.links.call)
        return Rendered(subject, f"{_headline(ctx)} {call_back}")
    if channel == "webhook":
        return Rendered(subject, _webhook(ctx))
    if channel == "inapp":
        return Rendered(subject, f"{_headline(ctx)}\n{ctx.links.card}")
    return Rendered(subject, _long_text(ctx))
