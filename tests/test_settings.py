"""Settings: embedded defaults, secrets required outside development and never shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from callrouter.settings import DEVELOPMENT_API_KEY, Settings, split_bind
from tests.dial_string_cases import UNSAFE_DIAL_STRINGS


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ENV",
        "API_SECRET_KEY",
        "AMI_HOST",
        "AMI_USERNAME",
        "AMI_SECRET",
        "DATABASE_URL",
        "REDIS_URL",
    ):
        monkeypatch.delenv(f"CALLROUTER_{name}", raising=False)
    monkeypatch.chdir("/")  # no stray .env file


def test_embedded_default_in_development() -> None:
    settings = Settings(env="development")
    assert settings.database_url == "sqlite:///./callrouter.db"
    assert settings.redis_url is None
    assert settings.signing_key == DEVELOPMENT_API_KEY


def test_production_refuses_missing_signing_key() -> None:
    with pytest.raises(ValidationError, match="CALLROUTER_API_SECRET_KEY"):
        Settings()


def test_production_refuses_ami_host_without_credentials() -> None:
    with pytest.raises(ValidationError, match="CALLROUTER_AMI_USERNAME"):
        Settings(api_secret_key="x" * 32, ami_host="pbx.local")


def test_settings_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLROUTER_API_SECRET_KEY", "s3cr3t-s3cr3t-s3cr3t")
    monkeypatch.setenv("CALLROUTER_AGI_DEADLINE_MS", "150")
    settings = Settings()
    assert settings.agi_deadline_ms == 150
    assert settings.signing_key == "s3cr3t-s3cr3t-s3cr3t"


def test_secrets_are_never_rendered() -> None:
    settings = Settings(api_secret_key="super-secret-signing-key", ami_secret="ami-pass", env="development")
    rendered = repr(settings) + str(settings.model_dump()) + settings.model_dump_json()
    assert "super-secret-signing-key" not in rendered
    assert "ami-pass" not in rendered


@pytest.mark.parametrize("bind", ["localhost", "host:port", ":80"])
def test_split_bind_rejects_garbage(bind: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        split_bind(bind)


@pytest.mark.parametrize(
    ("main", "extra", "message"),
    [
        ("twilio", [], "reserved for the Twilio voice front"),
        ("main", [{"name": "main", "host": "h", "username": "u", "secret": "s"}], "PBX names must differ"),
    ],
)
def test_pbx_names_are_distinct_and_not_twilio(main: str, extra: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(env="development", pbx_name=main, ami_extra_pbxs=extra)


@pytest.mark.parametrize("route", UNSAFE_DIAL_STRINGS)
def test_a_default_route_fastagi_could_not_send_is_refused(
    route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLROUTER_DEFAULT_ROUTE", route)
    with pytest.raises(ValidationError, match="default_route"):
        Settings(env="development")
    monkeypatch.setenv("CALLROUTER_DEFAULT_ROUTE", "PJSIP/100&PJSIP/101")
    assert Settings(env="development").default_route == "PJSIP/100&PJSIP/101"
