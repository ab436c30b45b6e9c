"""Wire the escalation worker: the channels whose settings are present, the database, metrics, timing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from callrouter.settings import Settings
from callrouter.wiring import Container
from pbx_bridge.notifications.channel import NotificationChannel
from pbx_bridge.notifications.email import SmtpEmailChannel
from pbx_bridge.notifications.inapp import InAppChannel
from pbx_bridge.notifications.twilio_messages import TwilioMessagingChannel, make_twilio_client
from pbx_bridge.notifications.webhook import WebhookChannel
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig


def build_channels(settings: Settings, sessions: sessionmaker[Session]) -> list[NotificationChannel]:
    """In-app always; email, SMS, WhatsApp and webhook when configured (half a configuration is an error)."""
    channels: list[NotificationChannel] = [InAppChannel(sessions)]
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        channels.append(
            SmtpEmailChannel(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                settings.smtp_username,
                password,
                settings.smtp_starttls,
            )
        )
    if settings.twilio_sms_from or settings.twilio_whatsapp_from:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError(
                "Twilio senders are set: CALLROUTER_TWILIO_ACCOUNT_SID and _AUTH_TOKEN are required"
            )
        client = make_twilio_client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
        )
        if settings.twilio_sms_from:
            channels.append(TwilioMessagingChannel(client, settings.twilio_sms_from))
        if settings.twilio_whatsapp_from:
            channels.append(TwilioMessagingChannel(client, settings.twilio_whatsapp_from, whatsapp=True))
    if settings.notify_webhook_url:
        if settings.notify_webhook_secret is None:
            raise ValueError(
                "CALLROUTER_NOTIFY_WEBHOOK_URL is set: CALLROUTER_NOTIFY_WEBHOOK_SECRET is required"
            )
        channels.append(
            WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_secret.get_secret_value())
        )
    return channels


def build_escalation_worker(container: Container) -> EscalationWorker:
    """The worker for this process; run it with ``await worker.run(stop_event)`` beside the other services."""
    settings = container.settings
    config = WorkerConfig(
        public_base_url=settings.public_base_url,
        timezone=settings.company_timezone,
        language=settings.language,
        poll_interval=timedelta(seconds=settings.escalation_poll_interval_s),
    )
    return EscalationWorker(
        container.sessions, build_channels(settings, container.sessions), config, metrics=container.metrics
    )
