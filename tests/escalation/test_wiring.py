"""The escalation worker is wired from settings: configured channels only, clear errors on half a config."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callrouter.escalation import build_channels, build_escalation_worker
from callrouter.settings import Settings
from callrouter.wiring import build_container


def settings(**kwargs: object) -> Settings:
    return Settings(env="development", database_url="sqlite://", **kwargs)  # type: ignore[arg-type]


def names(s: Settings, sessions: sessionmaker[Session]) -> list[str]:
    return [c.name for c in build_channels(s, sessions)]


def test_channels_follow_the_settings(sessions: sessionmaker[Session]) -> None:
    assert names(settings(), sessions) == ["inapp"]
    full = settings(
        smtp_host="smtp.example.com",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="t" * 32,
        twilio_sms_from="+15005550006",
        twilio_whatsapp_from="+15005550007",
        notify_webhook_url="https://hooks.example.com/crm",
        notify_webhook_secret="s" * 32,
    )
    assert names(full, sessions) == ["inapp", "email", "sms", "whatsapp", "webhook"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"twilio_sms_from": "+15005550006"}, "TWILIO_ACCOUNT_SID"),
        ({"notify_webhook_url": "https://hooks.example.com"}, "NOTIFY_WEBHOOK_SECRET"),
    ],
)
def test_half_a_channel_configuration_is_a_clear_error(
    sessions: sessionmaker[Session], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_channels(settings(**kwargs), sessions)


def test_the_worker_is_built_from_the_container() -> None:
    container = build_container(settings(escalation_poll_interval_s=0.5))
    try:
        worker = build_escalation_worker(container)
        assert worker.config.poll_interval.total_seconds() == 0.5
    finally:
        container.close()
