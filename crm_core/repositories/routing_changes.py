"""Reading the routing change feed (``routing_changes``, filled by triggers for every writer).

A reader keeps a :class:`FeedPosition` and asks for what committed since. On SQLite one writer commits
at a time, so ids grow in commit order and "since" is the last id read. On PostgreSQL ids are taken
before commit and can become visible out of order, so the position is the snapshot of the last read:
new rows can only come from transactions that were still running then (``in_progress``) or started
after it (``txid >= xmax``); the read and its snapshot are one statement, so no row is missed or
read twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from crm_core.models.routing_changes import EVERYTHING, RoutingChange

Db = Session | Connection

_PG_READ = text(
    "SELECT s.snap::text, c.id, c.e164 FROM (SELECT pg_current_snapshot() AS snap) s"
    " LEFT JOIN routing_changes c ON c.txid >= :xmax OR c.txid = ANY(:in_progress)"
    " ORDER BY c.id LIMIT :limit"
).bindparams(bindparam("in_progress", type_=ARRAY(BigInteger())))


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """What a reader has seen: the last id (SQLite), or the last snapshot's ``xmax`` and the transactions
    it saw in progress (PostgreSQL). The default position is the beginning of the feed."""

    last_id: int = 0
    xmax: int = 0
    in_progress: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """What changed since a position: numbers, the configuration, or everything (also when more rows
    came than the reader asked for: then the reader forgets all instead of reading them)."""

    position: FeedPosition
    numbers: frozenset[str] = field(default_factory=frozenset)
    config: bool = False
    everything: bool = False


def _is_postgres(db: Db) -> bool:
    bind = db if isinstance(db, Connection) else db.get_bind()
    return bind.dialect.name == "postgresql"


def parse_snapshot(snapshot: str) -> tuple[int, tuple[int, ...]]:
    """``xmax`` and the in-progress ids of a ``pg_snapshot`` in its text form.

    >>> parse_snapshot("735:740:736,738")
    (740, (736, 738))
    >>> parse_snapshot("740:740:")
    (740, ())
    """
    _xmin, xmax, xip = snapshot.split(":")
    return int(xmax), tuple(int(x) for x in xip.split(",") if x)


def feed_end(db: Db) -> FeedPosition:
    """The current end of the feed (a reader starting here sees only later changes)."""
    if _is_postgres(db):
        snapshot = db.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
        xmax, in_progress = parse_snapshot(snapshot)
        return FeedPosition(xmax=xmax, in_progress=in_progress)
    return FeedPosition(last_id=db.execute(select(func.coalesce(func.max(RoutingChange.id), 0))).scalar_one())


def read_changes(db: Db, since: FeedPosition, limit: int = 1000) -> FeedChanges:
    """The changes committed after ``since`` (at most ``limit`` rows, else ``everything``)."""
    if _is_postgres(db):
        params = {"xmax": since.xmax, "in_progress": list(since.in_progress), "limit": limit + 1}
        rows = db.execute(_PG_READ, params).all()
        xmax, in_progress = parse_snapshot(rows[0][0])
        position = FeedPosition(xmax=xmax, in_progress=in_progress)
        found = [(row[1], row[2]) for row in rows if row[1] is not None]
    else:
        stmt = (
            select(RoutingChange.id, RoutingChange.e164)
            .where(RoutingChange.id > since.last_id)
            .order_by(RoutingChange.id)
            .limit(limit + 1)
        )
        found = [(row[0], row[1]) for row in db.execute(stmt)]
        if len(found) > limit:
            position = feed_end(db)
        else:
            position = FeedPosition(last_id=found[-1][0] if found else since.last_id)
    if len(found) > limit:
        return FeedChanges(position, everything=True)
    e164s = [e164 for _id, e164 in found]
    return FeedChanges(
        position,
        numbers=frozenset(n for n in e164s if n is not None and n != EVERYTHING),
        config=None in e164s,
        everything=EVERYTHING in e164s,
    )


def prune_changes(db: Db, before: datetime) -> int:
    """Delete the feed rows written before ``before``; how many were deleted."""
    result = db.execute(delete(RoutingChange).where(RoutingChange.changed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
