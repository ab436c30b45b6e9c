"""Typed, immutable views of the routing data that live in the in-process cache.

The repository returns JSON-ready rows (``crm_core.repositories.routing``); Redis stores those rows as
JSON. A number is kept as its row (a small dict, no conversion needed); the configuration is parsed
once into :class:`RoutingConfig` (working hours, dates, managers and lists by id), so a cache hit costs
no parsing at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crm_core.models.enums import ListKind, ListTreatment
from crm_core.models.routing_config import RejectTreatment
from routing.calendar import WeeklyHours
from routing.decision import RouteStep

if TYPE_CHECKING:
    from crm_core.repositories.routing import ManagerRow, NumberRow, RoutingConfigRow, TargetRow

log = logging.getLogger(__name__)


def _hours(raw: Mapping[str, Any] | None, owner: str) -> WeeklyHours | None:
    """Parsed hours; malformed data is logged and read as "always open" so a call is never lost to it."""
    if raw is None:
        return None
    try:
        return WeeklyHours.parse(raw)
    except ValueError as exc:
        log.warning("ignoring malformed hours", extra={"owner": owner, "error": str(exc)})
        return None


@dataclass(frozen=True, slots=True)
class ManagerInfo:
    """What routing needs to know about one manager."""

    id: int
    name: str
    dial_target: str | None
    ring_timeout_s: int
    active: bool = True
    on_leave_until: date | None = None
    controller_id: int | None = None
    hours: WeeklyHours | None = None

    @classmethod
    def from_row(cls, row: ManagerRow) -> ManagerInfo:
        leave = row["on_leave_until"]
        return cls(
            id=row["id"],
            name=row["name"],
            dial_target=row["dial_target"],
            ring_timeout_s=row["ring_timeout_s"],
            active=row["active"],
            on_leave_until=date.fromisoformat(leave) if leave else None,
            controller_id=row["controller_id"],
            hours=_hours(row["working_hours"], f"manager {row['id']}"),
        )


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A special list and its treatment."""

    id: int
    name: str
    kind: ListKind
    treatment: ListTreatment
    target: str | None = None
    ring_timeout_s: int = 20


def _step(target: TargetRow | None) -> RouteStep | None:
    return RouteStep(target["dial_string"], target["ring_timeout_s"]) if target else None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The company's routing policy as data, plus the managers and lists it refers to.

    ``default_route`` is the reception / default queue; the other routes fall back to it when unset.
    """

    default_route: RouteStep
    after_hours_route: RouteStep | None = None
    group_route: RouteStep | None = None
    manager_number_route: RouteStep | None = None
    business_hours: WeeklyHours | None = None
    holidays: frozenset[date] = frozenset()
    reject_treatment: RejectTreatment = RejectTreatment.BUSY
    fallback_to_controller: bool = True
    fallback_to_reception: bool = True
    cache_ttl_s: int = 300
    negative_ttl_s: int = 30
    managers: Mapping[int, ManagerInfo] = field(default_factory=dict)
    lists: Mapping[int, ListInfo] = field(default_factory=dict)

    def lacks(self, row: NumberRow | None) -> bool:
        """True when ``row`` names a manager or list this configuration does not know (it is older than
        the CRM data, e.g. after an import or a direct write from another process).

        >>> RoutingConfig(RouteStep("PJSIP/r", 30)).lacks({"e164": "+7", "counterparty_id": 1,
        ...     "contact_person_id": None, "owner_manager_id": None, "number_list_id": None,
        ...     "personal_manager_id": 5})
        True
        """
        if row is None:
            return False
        managers = (row["personal_manager_id"], row["owner_manager_id"])
        return any(m is not None and m not in self.managers for m in managers) or (
            row["number_list_id"] is not None and row["number_list_id"] not in self.lists
        )

    @classmethod
    def from_row(cls, row: RoutingConfigRow, default_route: RouteStep) -> RoutingConfig:
        """Parse a configuration row; ``default_route`` is used when no default target is configured."""
        managers = MappingProxyType({m["id"]: ManagerInfo.from_row(m) for m in row["managers"]})
        lists = MappingProxyType(
            {
                r["id"]: ListInfo(
                    r["id"],
                    r["name"],
                    ListKind(r["kind"]),
                    ListTreatment(r["treatment"]),
                    r["target"],
                    r["ring_timeout_s"],
                )
                for r in row["lists"]
            }
        )
        holidays = frozenset(date.fromisoformat(d) for d in row["holidays"])
        s = row["settings"]
        if s is None:
            return cls(default_route, holidays=holidays, managers=managers, lists=lists)
        return cls(
            default_route=_step(s["default_target"]) or default_route,
            after_hours_route=_step(s["after_hours_target"]),
            group_route=_step(s["group_target"]),
            manager_number_route=_step(s["manager_number_target"]),
            business_hours=_hours(s["business_hours"], "company"),
            holidays=holidays,
            reject_treatment=RejectTreatment(s["reject_treatment"]),
            fallback_to_controller=s["fallback_to_controller"],
            fallback_to_reception=s["fallback_to_reception"],
            cache_ttl_s=s["cache_ttl_s"],
            negative_ttl_s=s["negative_ttl_s"],
            managers=managers,
            lists=lists,
        )
