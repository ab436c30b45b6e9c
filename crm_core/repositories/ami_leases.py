"""PostgreSQL queries on ``ami_leases``: claim or renew a PBX's lease, check it inside a write, release it.

Times are the database's own clock (``now()``), so the instances' clocks never have to agree.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_CLAIM = text(
    """
    INSERT INTO ami_leases (pbx, holder, epoch, expires_at)
    VALUES (:pbx, :holder, 1, now() + make_interval(secs => :ttl))
    ON CONFLICT (pbx) DO UPDATE SET
        holder = excluded.holder,
        epoch = CASE WHEN ami_leases.holder = excluded.holder AND ami_leases.expires_at > now()
                     THEN ami_leases.epoch ELSE ami_leases.epoch + 1 END,
        expires_at = excluded.expires_at
    WHERE (ami_leases.holder = excluded.holder AND ami_leases.expires_at > now())
       OR ami_leases.expires_at <= now()
    RETURNING epoch
    """
)

_HOLDS = text(
    """
    SELECT 1 FROM ami_leases
    WHERE pbx = :pbx AND holder = :holder AND epoch = :epoch AND expires_at > now()
    FOR SHARE
    """
)

_RELEASE = text(
    "UPDATE ami_leases SET expires_at = now() WHERE pbx = :pbx AND holder = :holder AND epoch = :epoch"
)

_HOLDER = text("SELECT holder FROM ami_leases WHERE pbx = :pbx AND expires_at > now()")


def claim_lease(conn: Connection, pbx: str, holder: str, ttl_s: float) -> int | None:
    """Renew ``holder``'s valid lease on ``pbx`` (same epoch) or take a free or expired one (next epoch).

    Returns the epoch held now, ``None`` when another holder's lease is still valid.
    """
    epoch = conn.execute(_CLAIM, {"pbx": pbx, "holder": holder, "ttl": ttl_s}).scalar()
    return None if epoch is None else int(epoch)


def holds_lease(conn: Connection, pbx: str, holder: str, epoch: int) -> bool:
    """True when ``holder`` still holds ``pbx`` in ``epoch``; the row stays share-locked until the
    transaction ends, so no other instance can take the lease before this transaction's writes commit."""
    return conn.execute(_HOLDS, {"pbx": pbx, "holder": holder, "epoch": epoch}).first() is not None


def release_lease(conn: Connection, pbx: str, holder: str, epoch: int) -> None:
    """End ``holder``'s lease now (a clean shutdown: a standby takes over without waiting for expiry)."""
    conn.execute(_RELEASE, {"pbx": pbx, "holder": holder, "epoch": epoch})


def lease_holder(conn: Connection, pbx: str) -> str | None:
    """Who holds a valid lease on ``pbx`` (``None``: nobody)."""
    holder = conn.execute(_HOLDER, {"pbx": pbx}).scalar()
    return None if holder is None else str(holder)
