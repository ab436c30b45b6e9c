"""The one validated settings class (env prefix ``CALLROUTER_``), built once in the entry point."""

from __future__ import annotations

import ipaddress
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from crm_core.dial_strings import check_dial_string

TWILIO_PBX_NAME = "twilio"  # the PBX system name of calls seen by the Twilio voice front
DEVELOPMENT_API_KEY = "development-only-signing-key-do-not-use-in-production"


def split_bind(bind: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:port`` for IPv6) into its parts.

    >>> split_bind("127.0.0.1:4573")
    ('127.0.0.1', 4573)
    >>> split_bind("[::1]:8000")
    ('::1', 8000)
    """
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port with a port 1-65535, got {bind!r}")
    return host.strip("[]"), int(port)


class AmiPbxSettings(BaseModel):
    """A further PBX's manager interface (items of ``CALLROUTER_AMI_EXTRA_PBXS``, a JSON list)."""

    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = Field(min_length=1)
    secret: SecretStr


class Settings(BaseSettings):
    """Everything callrouter reads from its environment.

    The defaults are the *embedded default*: a SQLite file in the working directory and an in-process
    cache (no ``CALLROUTER_REDIS_URL``). Secrets have no usable default outside
    ``CALLROUTER_ENV=development``.
    """

    model_config = SettingsConfigDict(
        env_prefix="CALLROUTER_", env_file=".env", extra="ignore", populate_by_name=True
    )

    env: Literal["development", "production"] = "production"
    log_level: str = "INFO"

    database_url: str = "sqlite:///./callrouter.db"
    # SQLite: how long a writer waits for another one (an import holds the lock while it commits its file)
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0, le=600)
    redis_url: str | None = None
    redis_key_prefix: str = "callrouter:"

    api_bind: str = "127.0.0.1:8000"
    api_secret_key: SecretStr | None = None
    # reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); none by
    # default: the client address is the TCP peer's
    trusted_proxies: Annotated[list[str], NoDecode] = []
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger JSON bodies: 413
    api_max_import_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)  # bulk imports (``/bulk``)

    agi_bind: str = "127.0.0.1:4573"
    agi_deadline_ms: int = Field(default=300, ge=10, le=10_000)
    # rung for unknown and anonymous callers unless the routing settings name a default target, and whenever
    # no routing data can be read at all; must be an endpoint that exists on the PBX
    default_route: Annotated[str, AfterValidator(check_dial_string)] = "PJSIP/reception"
    default_route_timeout_s: int = Field(default=30, ge=1, le=600)

    default_region: str = Field(default="RU", min_length=2, max_length=2)
    company_timezone: str = "Europe/Moscow"
    language: Literal["ru", "en"] = "ru"  # the company's language; a user may choose their own
    pbx_name: str = "main"
    # call tracking: dialplan contexts where outside calls enter, ringing under this is a "short abandon",
    # dial targets that are machines (voicemail/IVR, shell patterns), not people
    inbound_contexts: list[str] = ["from-trunk", "from-trunk-queue", "callrouter-inbound"]
    short_abandon_s: float = Field(default=3.0, ge=0)
    machine_targets: list[str] = ["*voicemail*", "*ivr*"]

    ami_host: str | None = None
    ami_port: int = 5038
    ami_username: str | None = None
    ami_secret: SecretStr | None = None
    ami_extra_pbxs: list[AmiPbxSettings] = []  # more PBXs besides pbx_name (names must differ)
    # every link re-lists the live channels this often (closes calls whose end was lost); 0: only on login
    ami_recheck_s: float = Field(default=60.0, ge=0, le=86_400)
    # PostgreSQL: the lease that makes one instance the consumer of a PBX's events; a standby takes an
    # expired lease (a dead, frozen or cut-off leader) after at most this long
    ami_lease_ttl_s: float = Field(default=3.0, ge=0.6, le=300)
    originate_context: str = "from-internal"  # dialplan context a click-to-call dials the client from

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    # Twilio voice front: public base URL Twilio calls (signatures cover it), SIP domain for PJSIP/<user>
    twilio_webhook_base_url: str | None = None
    twilio_sip_domain: str | None = None
    # escalation notifications: a channel is enabled when its settings are present
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "callrouter@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"  # CRM card links in notifications
    escalation_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    # 1C exchange (docs/onec.md): the publication's base URL (callrouter appends /odata/standard.odata/),
    # a 1C user, the profile (ut11, bp30 or a TOML mapping file) and how often `serve` syncs
    onec_url: str | None = Field(default=None, validation_alias="CALLROUTER_1C_URL")
    onec_username: str | None = Field(default=None, validation_alias="CALLROUTER_1C_USERNAME")
    onec_password: SecretStr | None = Field(default=None, validation_alias="CALLROUTER_1C_PASSWORD")
    onec_profile: str = Field(default="ut11", validation_alias="CALLROUTER_1C_PROFILE")
    onec_interval_s: float = Field(default=900.0, ge=30, validation_alias="CALLROUTER_1C_INTERVAL_S")
    # the first run after this time of day (company timezone) re-reads every catalog object; "" = never
    onec_full_at: time | None = Field(default=time(2, 0), validation_alias="CALLROUTER_1C_FULL_AT")
    # daily client status recompute in ``serve``: company-timezone time after which it runs ("off": never)
    analytics_daily_at: time | None = time(3, 0)

    @field_validator("onec_full_at", mode="before")
    @classmethod
    def _no_nightly_full_run(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "off", "never") else value

    @field_validator("api_bind", "agi_bind")
    @classmethod
    def _host_and_port(cls, bind: str) -> str:
        split_bind(bind)
        return bind

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        networks = [str(item).strip() for item in items if str(item).strip()]
        for network in networks:
            ipaddress.ip_network(network, strict=False)  # ValueError: "... does not appear to be ..."
        return networks

    @field_validator("analytics_daily_at", mode="before")
    @classmethod
    def _daily_off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "off") else value

    @field_validator("database_url")
    @classmethod
    def _readable_database_url(cls, url: str) -> str:
        try:
            make_url(url).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            shown = url.split("@", 1)[-1]  # never echo a password
            raise ValueError(f"not a database URL SQLAlchemy can use ({shown!r}): {exc}") from None
        return url

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def signing_key(self) -> str:
        """The API signing key; in development a fixed, clearly named key is allowed."""
        if self.api_secret_key is not None:
            return self.api_secret_key.get_secret_value()
        return DEVELOPMENT_API_KEY

    @property
    def pbx_names(self) -> list[str]:
        """The configured PBXs: the main one (``pbx_name``) first, then ``ami_extra_pbxs``."""
        return [self.pbx_name, *(pbx.name for pbx in self.ami_extra_pbxs)]

    @model_validator(mode="after")
    def _distinct_pbx_names(self) -> Settings:
        names = self.pbx_names
        if TWILIO_PBX_NAME in names:
            raise ValueError(f"PBX name {TWILIO_PBX_NAME!r} is reserved for the Twilio voice front")
        if len(set(names)) != len(names):
            raise ValueError(f"PBX names must differ: {', '.join(names)}")
        return self

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> Settings:
        if self.is_development:
            return self
        missing = []
        if self.api_secret_key is None or len(self.api_secret_key.get_secret_value()) < 16:
            missing.append("CALLROUTER_API_SECRET_KEY (16+ characters)")
        if self.ami_host and not (self.ami_username and self.ami_secret):
            missing.append("CALLROUTER_AMI_USERNAME and CALLROUTER_AMI_SECRET (AMI host is set)")
        if self.twilio_account_sid and self.twilio_auth_token is None:
            missing.append("CALLROUTER_TWILIO_AUTH_TOKEN (Twilio account is set)")
        if missing:
            raise ValueError(
                "outside CALLROUTER_ENV=development these secrets are required: " + ", ".join(missing)
            )
        return self
