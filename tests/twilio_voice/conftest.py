"""Twilio webhook fixtures: the real app over the test's rolled-back transaction, a small CRM, and a
client that signs its requests with the official library as Twilio does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container, routing_options
from crm_core.metrics import Metrics
from crm_core.models import Counterparty, ListKind, ListTreatment, Manager, NumberList, PhoneNumber
from crm_core.models.routing_config import RoutingSettings, RoutingTarget
from routing.service import RoutingService
from tests.live.inline_ringing import inline_ringing

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
BASE_URL = "https://callrouter.example.com"
SIP_DOMAIN = "pbx.example.com"
DID = "+74950001122"


@dataclass(frozen=True)
class World:
    """The seeded CRM: Ann is Acme's manager, Bob her controller, reception the default route."""

    ann: int
    bob: int
    acme_phone: str = "+79001110001"
    blacklisted: str = "+79001110004"
    stranger: str = "+79001119999"


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    with sessions() as s:
        bob = Manager(name="Bob", login="bob", dial_target="PJSIP/102", ring_timeout_s=25)
        s.add(bob)
        s.flush()
        ann = Manager(
            name="Ann", login="ann", dial_target="PJSIP/101", ring_timeout_s=20, controller_id=bob.id
        )
        s.add(ann)
        s.flush()
        acme = Counterparty(name="Acme", manager_id=ann.id)
        blacklist = NumberList(name="blacklist", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
        reception = RoutingTarget(name="reception", dial_string="PJSIP/100", ring_timeout_s=30)
        s.add_all([acme, blacklist, reception])
        s.flush()
        s.add(RoutingSettings(id=1, default_target_id=reception.id))
        world = World(ann=ann.id, bob=bob.id)
        s.add_all(
            [
                PhoneNumber(e164=world.acme_phone, counterparty_id=acme.id),
                PhoneNumber(e164=world.blacklisted, number_list_id=blacklist.id),
            ]
        )
        s.commit()
    return world


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        env="development",
        database_url=db_url,
        agi_deadline_ms=2000,  # generous: a loaded CI machine must not turn the test into a fallback test
        twilio_account_sid="AC00000000000000000000000000000000",
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_webhook_base_url=BASE_URL,
        twilio_sip_domain=SIP_DOMAIN,
    )


@pytest.fixture
def container(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> Iterator[Container]:
    metrics = Metrics()
    routing = RoutingService(sessions, metrics, routing_options(settings))
    container = Container(
        settings=settings, engine=engine, sessions=sessions, metrics=metrics, routing=routing
    )
    inline_ringing(container)  # the screen-pop lookup must not share the test's one connection concurrently
    yield container
    asyncio.run(routing.stop())


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


class TwilioClient:
    """Posts form webhooks signed like Twilio (``RequestValidator.compute_signature``)."""

    def __init__(self, client: TestClient, token: str = AUTH_TOKEN) -> None:
        self.client = client
        self.validator = RequestValidator(token)

    def post(self, path: str, form: dict[str, str], *, signature: str | None = "sign") -> httpx.Response:
        headers = {}
        if signature == "sign":
            headers["X-Twilio-Signature"] = self.validator.compute_signature(BASE_URL + path, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(path, data=form, headers=headers)


@pytest.fixture
def twilio(app: FastAPI) -> Iterator[TwilioClient]:
    with TestClient(app) as client:
        yield TwilioClient(client)
