"""A small, idempotent demo data set: director, controller, manager, reception, a client, two lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import (
    Base,
    Counterparty,
    ListKind,
    ListTreatment,
    Manager,
    ManagerRole,
    NumberList,
    PhoneNumber,
)

RowT = TypeVar("RowT", bound=Base)

CLIENT_NUMBER = "+79001234567"
BLACKLISTED_NUMBER = "+79001112233"
CANDIDATE_NUMBER = "+79004445566"
UNKNOWN_NUMBER = (
    "+79005550123"  # in no card and on no list: routed to reception, registered from the workspace
)
DEMO_LOGINS = ("maria", "controller", "director", "reception")


@dataclass(frozen=True)
class DemoNumbers:
    """The numbers to try a demo call with, and what each should do."""

    client: str = CLIENT_NUMBER
    blacklisted: str = BLACKLISTED_NUMBER
    job_candidate: str = CANDIDATE_NUMBER


def _get_or_create(session: Session, model: type[RowT], key: str, value: str, **fields: object) -> RowT:
    """The ``model`` row whose unique ``key`` column is ``value``, added with ``fields`` when missing."""
    found = session.scalar(select(model).filter_by(**{key: value}))
    if found is None:
        found = model(**{key: value}, **fields)
        session.add(found)
        session.flush()
    return found


def _phone(session: Session, e164: str, **owner: int) -> None:
    if session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164)) is None:
        session.add(PhoneNumber(e164=e164, **owner))


def seed_demo(session: Session) -> DemoNumbers:
    """Create the demo data unless it is there already (the caller commits)."""
    _get_or_create(
        session,
        Manager,
        "login",
        "director",
        name="Olga Director",
        role=ManagerRole.DIRECTOR,
        dial_target="PJSIP/300",
    )
    controller = _get_or_create(
        session,
        Manager,
        "login",
        "controller",
        name="Cyril Controller",
        role=ManagerRole.CONTROLLER,
        dial_target="PJSIP/201",
    )
    manager = _get_or_create(
        session,
        Manager,
        "login",
        "maria",
        name="Maria Manager",
        role=ManagerRole.MANAGER,
        dial_target="PJSIP/101",
        extension="101",
        controller_id=controller.id,
    )
    _get_or_create(
        session,
        Manager,
        "login",
        "reception",
        name="Rita Reception",
        role=ManagerRole.RECEPTION,
    )  # no phone of her own: the reception desk phone is shared, its missed calls go to the shared queue
    client = _get_or_create(
        session, Counterparty, "external_id", "demo-1", name="Demo Client LLC", manager_id=manager.id
    )
    blacklist = _get_or_create(
        session, NumberList, "name", "Blacklist", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT
    )
    candidates = _get_or_create(
        session,
        NumberList,
        "name",
        "Job candidates",
        kind=ListKind.JOB_CANDIDATES,
        treatment=ListTreatment.ROUTE,
        target="PJSIP/hr",
    )
    _phone(session, CLIENT_NUMBER, counterparty_id=client.id)
    _phone(session, BLACKLISTED_NUMBER, number_list_id=blacklist.id)
    _phone(session, CANDIDATE_NUMBER, number_list_id=candidates.id)
    session.flush()
    return DemoNumbers()


def set_demo_passwords(session: Session, password_hash: str, *, replace: bool = False) -> list[str]:
    """Give the demo staff (:data:`DEMO_LOGINS`) ``password_hash``: those without one (all: ``replace``).

    Returns the logins changed (the caller commits).
    """
    changed = []
    for manager in session.scalars(select(Manager).where(Manager.login.in_(DEMO_LOGINS))):
        if replace or manager.password_hash is None:
            manager.password_hash = password_hash
            changed.append(manager.login)
    return sorted(changed)
