"""Domain events for live views: what happened, its JSON data, and who may see it.

Services record an event on the session with :func:`publish_after_commit`; it leaves the process only once
the session's transaction has committed (a rolled-back change is never announced). The composition root
connects a session factory to an :class:`EventPublisher` with :func:`connect_publisher`; without one, the
recorded events are simply dropped with the session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from crm_core.models.enums import ManagerRole

log = logging.getLogger(__name__)

_PENDING = "domain_events"
MISSED_CALL = "missed-call"
NOTIFICATION = "notification"
NOTIFICATIONS_READ = "notifications-read"
RINGING = "ringing"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who receives an event: these managers, and everyone holding one of these roles."""

    manager_ids: frozenset[int] = frozenset()
    roles: frozenset[ManagerRole] = frozenset()

    def admits(self, manager_id: int, role: ManagerRole) -> bool:
        """True when the user ``manager_id`` with ``role`` may receive the event.

        >>> Audience(frozenset({3}), frozenset({ManagerRole.DIRECTOR})).admits(3, ManagerRole.MANAGER)
        True
        >>> Audience(frozenset({3}), frozenset({ManagerRole.DIRECTOR})).admits(4, ManagerRole.MANAGER)
        False
        """
        return manager_id in self.manager_ids or role in self.roles

    @classmethod
    def of(cls, manager_ids: Iterable[int | None], roles: Iterable[ManagerRole] = ()) -> Audience:
        """An audience of the given managers (``None`` ignored) and roles."""
        return cls(frozenset(m for m in manager_ids if m is not None), frozenset(roles))


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One event: its name (the SSE event name), JSON-ready data and audience."""

    name: str
    data: Mapping[str, Any]
    audience: Audience = field(default_factory=Audience)

    def to_json(self) -> str:
        """The wire form used between instances.

        >>> e = DomainEvent("ringing", {"a": 1}, Audience.of([2]))
        >>> DomainEvent.from_json(e.to_json()) == e
        True
        """
        return json.dumps(
            {
                "name": self.name,
                "data": self.data,
                "managers": sorted(self.audience.manager_ids),
                "roles": sorted(self.audience.roles),
            },
            separators=(",", ":"),
            default=str,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> DomainEvent:
        """Parse :meth:`to_json`; ``ValueError`` (or ``KeyError``/``TypeError``) on a malformed one."""
        body = json.loads(raw)
        audience = Audience.of((int(m) for m in body["managers"]), (ManagerRole(r) for r in body["roles"]))
        return cls(str(body["name"]), dict(body["data"]), audience)


class EventPublisher(Protocol):
    """Takes committed domain events out of the process; callable from any thread, never blocks long."""

    def publish(self, event: DomainEvent) -> None: ...


def publish_after_commit(session: Session, domain_event: DomainEvent) -> None:
    """Announce ``domain_event`` once the session's current transaction commits."""
    if not session.in_transaction():
        session.begin()  # tie the event to a transaction, so a rollback drops it
    session.info.setdefault(_PENDING, []).append(domain_event)


def pending_events(session: Session) -> list[DomainEvent]:
    """The events recorded on ``session`` and not yet published (for tests and diagnostics)."""
    return list(session.info.get(_PENDING, ()))


def connect_publisher(sessions: sessionmaker[Session], publisher: EventPublisher) -> None:
    """Publish the events of every session from ``sessions`` after its commit; drop them on rollback."""

    def _committed(session: Session) -> None:
        events = session.info.pop(_PENDING, None)
        for item in events or ():
            try:
                publisher.publish(item)
            except Exception:  # the change is committed; a lost live update must not undo it
                log.exception("domain event not published", extra={"event_name": item.name})

    def _rolled_back(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:  # the whole transaction (a savepoint's rollback keeps the rest)
            session.info.pop(_PENDING, None)

    event.listen(sessions, "after_commit", _committed)
    event.listen(sessions, "after_soft_rollback", _rolled_back)
