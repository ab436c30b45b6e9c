"""The analytics thresholds stored in the database: read by every report, changed by an admin (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crm_core.analytics.abc_xyz import AbcThresholds, XyzThresholds
from crm_core.analytics.status import StatusThresholds
from crm_core.models import ManagerRole
from crm_core.models.analytics import AnalyticsSettings
from crm_core.repositories.scoped import Viewer
from crm_core.services import records
from crm_core.services.errors import InvalidInput

FIELDS = frozenset({"fresh_days", "departed_days", "abc_a_share", "abc_b_share", "xyz_x_cv", "xyz_y_cv"})
SETTINGS = records.WritePolicy(common=FIELDS, roles=frozenset({ManagerRole.ADMIN}), delete_roles=frozenset())


@dataclass(frozen=True)
class Thresholds:
    """Every threshold the reports apply."""

    status: StatusThresholds
    abc: AbcThresholds
    xyz: XyzThresholds


def _defaults() -> dict[str, Any]:
    return {
        column.key: column.default.arg
        for column in AnalyticsSettings.__table__.columns
        if column.default is not None and column.default.is_scalar
    }


def current_settings(session: Session) -> AnalyticsSettings:
    """The stored row, or an unsaved row holding the built-in defaults (90/180 days, 80/95 %, 0.10/0.25)."""
    row = session.get(AnalyticsSettings, 1)
    return row if row is not None else AnalyticsSettings(**_defaults())


def _thresholds_of(values: dict[str, Any]) -> Thresholds:
    """The thresholds ``values`` describe; ``InvalidInput`` naming the broken rule when inconsistent."""
    try:
        return Thresholds(
            StatusThresholds(values["fresh_days"], values["departed_days"]),
            AbcThresholds(values["abc_a_share"], values["abc_b_share"]),
            XyzThresholds(values["xyz_x_cv"], values["xyz_y_cv"]),
        )
    except ValueError as exc:
        raise InvalidInput("invalid-analytics-settings", {"message": str(exc)}) from exc


def thresholds(session: Session) -> Thresholds:
    """The thresholds in force."""
    row = current_settings(session)
    return _thresholds_of({name: getattr(row, name) for name in FIELDS})


def update_settings(session: Session, viewer: Viewer, values: dict[str, Any]) -> AnalyticsSettings:
    """Change the given thresholds (admin only; audited with before/after); the caller commits."""
    records.ensure_writable(SETTINGS, viewer, set(values))
    if nulls := sorted(name for name, value in values.items() if value is None):
        raise InvalidInput("field-required", {"field": nulls[0], "message": "may not be null"})
    row = session.get(AnalyticsSettings, 1)
    if row is None:
        row = AnalyticsSettings(**_defaults())
        session.add(row)
        session.flush()
    _thresholds_of({name: getattr(row, name) for name in FIELDS} | values)
    return records.update(session, viewer, row, SETTINGS, values)
