"""The screen pop shows the rung manager the card the API would show them; a client they may not see (a
colleague's, ringing them through the fallback chain) pops only what they need to answer the phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bench.live_server import add_missed
from crm_core.models import (
    Deal,
    DealStageName,
    Interaction,
    InteractionKind,
    ManagerRole,
    Need,
    PhoneNumber,
    utcnow,
)
from crm_core.services.card import build_card, card_json
from crm_core.services.screen_pop import Ringing, ringing_event
from tests.api.conftest import add_counterparty, add_manager

CALLER = "+79161234567"
OFFICE = "+74951112233"


def _pop(session: Session, target: str) -> dict[str, object]:
    event = ringing_event(session, Ringing("17.1", "89161234567", target), "RU", utcnow())
    assert event is not None
    return event.data


@pytest.mark.parametrize(
    ("target", "scope"),
    [
        ("PJSIP/101", "full"),  # the client's own manager
        ("PJSIP/201", "full"),  # her controller: the team's clients
        ("PJSIP/300", "full"),  # the director sees everyone's
        ("PJSIP/102", "caller"),  # a colleague in another team, next in the fallback chain
        ("PJSIP/reception", "caller"),  # reception answers everyone's calls, owns no client
    ],
)
def test_card_follows_the_api_scope_of_the_rung_manager(session: Session, target: str, scope: str) -> None:
    controller = add_manager(session, "c1", ManagerRole.CONTROLLER, dial_target="PJSIP/201")
    maria = add_manager(
        session, "maria", ManagerRole.MANAGER, dial_target="PJSIP/101", controller_id=controller.id
    )
    add_manager(session, "ivan", ManagerRole.MANAGER, dial_target="PJSIP/102")
    add_manager(session, "dir", ManagerRole.DIRECTOR, dial_target="PJSIP/300")
    add_manager(session, "desk", ManagerRole.RECEPTION, dial_target="PJSIP/reception")
    client = add_counterparty(
        session, "ACME LLC", maria, tax_id="7701234567", notes="pays late", region="Kazan"
    )
    session.add_all(
        [
            PhoneNumber(e164=CALLER, counterparty_id=client.id),
            PhoneNumber(e164=OFFICE, counterparty_id=client.id, label="office"),
            Deal(counterparty_id=client.id, manager_id=maria.id, title="Cable", stage=DealStageName.PROPOSAL),
            Interaction(
                counterparty_id=client.id, manager_id=maria.id, kind=InteractionKind.CALL, summary="quote"
            ),
            Need(counterparty_id=client.id, product="Copper cable", probability=80),
        ]
    )
    waiting = add_missed(session, CALLER, maria, client, timedelta(hours=2))

    data = _pop(session, target)

    assert data["card_scope"] == scope
    card = data["card"]
    assert isinstance(card, dict)
    client_json = card["client"]
    # what anyone who picks up needs: who calls, their status and manager, the missed calls waiting
    assert (client_json["name"], client_json["status"], client_json["manager_name"]) == (
        "ACME LLC",
        "potential",
        "Maria",
    )
    assert [m["id"] for m in card["open_missed_calls"]] == [waiting.id]
    if scope == "full":
        assert card == card_json(build_card(session, client, utcnow())) | {
            "open_missed_calls": card["open_missed_calls"]
        }
        assert {p["e164"] for p in card["phones"]} == {CALLER, OFFICE}
        assert (card["open_deals"][0]["title"], client_json["tax_id"], client_json["notes"]) == (
            "Cable",
            "7701234567",
            "pays late",
        )
        assert card["last_interactions"] and card["needs"]
    else:
        assert [p["e164"] for p in card["phones"]] == [CALLER]  # the number calling, not the client's others
        assert (client_json["tax_id"], client_json["notes"], client_json["region"]) == (None, None, None)
        assert card["last_calls"] == card["last_interactions"] == card["open_deals"] == card["needs"] == []


def test_unknown_number_pops_no_card(session: Session) -> None:
    add_manager(session, "desk", ManagerRole.RECEPTION, dial_target="PJSIP/reception")
    data = _pop(session, "PJSIP/reception")
    assert (data["card"], data["card_scope"], data["counterparty_id"]) == (None, None, None)
