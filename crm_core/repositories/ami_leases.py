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

    Returns the epoch held now, ``None`` when another holder's lease is still valid. Waits at most a third
    of the TTL for the row (a write of the leader in flight holds it; ``OperationalError`` after that).
    """
    _set_local(conn, "lock_timeout", ttl_s / 3)
    epoch = conn.execute(_CLAIM, {"pbx": pbx, "holder": holder, "ttl": ttl_s}).scalar()
    return None if epoch is None else int(epoch)


def holds_lease(conn: Connection, pbx: str, holder: str, epoch: int, idle_limit_s: float) -> bool:
    """True when ``holder`` still holds ``pbx`` in ``epoch``; the row stays share-locked until the
    transaction ends, so no other instance can take the lease before this transaction's writes commit.

    The database ends the session when the transaction sits idle for ``idle_limit_s``: a holder frozen
    mid-transaction (``SIGSTOP``, a stalled VM) cannot keep the row locked, and so the lease, forever.
    """
    _set_local(conn, "idle_in_transaction_session_timeout", idle_limit_s)
    return conn.execute(_HOLDS, {"pbx": pbx, "holder": holder, "epoch": epoch}).first() is not None


def _set_local(conn: Connection, setting: str, seconds: float) -> None:
    """``SET LOCAL`` a duration setting for the current transaction (in whole milliseconds, at least 1)."""
    conn.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": setting, "value": f"{max(1, round(seconds * 1000))}ms"},
    )


def release_lease(conn: Connection, pbx: str, holder: str, epoch: int) -> None:
    """End ``holder``'s lease now (a clean shutdown: a standby takes over without waiting for expiry)."""
    conn.execute(_RELEASE, {"pbx": pbx, "holder": holder, "epoch": epoch})


def lease_holder(conn: Connection, pbx: str) -> str | None:
    """Who holds a valid lease on ``pbx`` (``None``: nobody)."""
    holder = conn.execute(_HOLDER, {"pbx": pbx}).scalar()
    return None if holder is None else str(holder)
