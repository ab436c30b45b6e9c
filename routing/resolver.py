"""The routing policy: who owns the calling number, is the company open, who is reachable, in what order.

Pure: it reads only its arguments (the normalized number, the number's owner row, the configuration and
the local time) and never touches a database, a cache or the network.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crm_core.models.enums import ListKind, ListTreatment
from crm_core.phone_numbers import NormalizedNumber, NumberStatus
from routing.calendar import is_business_time
from routing.decision import RouteDecision, RouteKind, RouteStep
from routing.snapshot import ListInfo, ManagerInfo, RoutingConfig

if TYPE_CHECKING:
    from crm_core.repositories.routing import NumberRow


def unavailability(manager: ManagerInfo, local: datetime) -> str | None:
    """Why ``manager`` cannot take a call at ``local`` (company wall-clock time), or None if they can."""
    if not manager.active:
        return "is inactive"
    if manager.on_leave_until is not None and local.date() <= manager.on_leave_until:
        return f"is on leave until {manager.on_leave_until.isoformat()}"
    if not manager.dial_target:
        return "has no dial target"
    if manager.hours is not None and not manager.hours.is_open(local):
        return "is outside working hours"
    return None


def _manager_step(manager: ManagerInfo) -> RouteStep:
    return RouteStep(manager.dial_target or "", manager.ring_timeout_s)


def _dedupe(steps: list[RouteStep]) -> tuple[RouteStep, ...]:
    seen: set[str] = set()
    unique = []
    for step in steps:
        if step.target not in seen:
            seen.add(step.target)
            unique.append(step)
    return tuple(unique)


def fallback_chain(
    config: RoutingConfig, manager: ManagerInfo | None, local: datetime, notes: list[str]
) -> list[RouteStep]:
    """The steps after the personal manager: controller, group, reception (as configured; never empty)."""
    steps: list[RouteStep] = []
    if manager is not None and config.fallback_to_controller and manager.controller_id is not None:
        controller = config.managers.get(manager.controller_id)
        why = "is unknown" if controller is None else unavailability(controller, local)
        if controller is not None and why is None:
            steps.append(_manager_step(controller))
        else:
            name = controller.name if controller else f"#{manager.controller_id}"
            notes.append(f"controller {name} {why}: skipped")
    if config.group_route is not None:
        steps.append(config.group_route)
    if config.fallback_to_reception or not steps:
        steps.append(config.default_route)
    return steps


def _unknown(number: NormalizedNumber, config: RoutingConfig, open_now: bool) -> RouteDecision:
    if number.status is NumberStatus.WITHHELD:
        who = "caller id withheld"
    elif number.status is NumberStatus.INVALID:
        who = f"caller id {number.raw!r} is not a phone number"
    else:
        who = f"{number.e164} is not in the CRM"
    route = config.default_route if open_now else (config.after_hours_route or config.default_route)
    when = "reception" if open_now else "after-hours route"
    registrable = number.e164 is not None  # a withheld or garbled caller id leaves nothing to register
    return RouteDecision(
        RouteKind.UNKNOWN,
        (route,),
        reason=f"{who}: {when}" + (", flagged for registration" if registrable else ""),
        register_number=registrable,
        after_hours=not open_now,
    )


def _listed(lst: ListInfo | None, list_id: int, config: RoutingConfig, open_now: bool) -> RouteDecision:
    if lst is None:
        return RouteDecision(
            RouteKind.DEFAULT,
            (config.default_route,),
            reason=f"number is in list #{list_id} that the configuration does not know yet: reception",
        )
    if lst.kind is ListKind.BLACKLIST or lst.treatment is ListTreatment.REJECT:
        return RouteDecision(
            RouteKind.BLACKLIST,
            reason=f"number is in list {lst.name!r} ({lst.kind}): rejected with {config.reject_treatment}",
            treatment=str(config.reject_treatment),
        )
    if not open_now:
        return RouteDecision(
            RouteKind.LIST,
            (config.after_hours_route or config.default_route,),
            reason=f"number is in list {lst.name!r}; outside business hours: after-hours route",
            after_hours=True,
        )
    steps = [RouteStep(lst.target or config.default_route.target, lst.ring_timeout_s)]
    if config.fallback_to_reception:
        steps.append(config.default_route)
    return RouteDecision(
        RouteKind.LIST, _dedupe(steps), reason=f"number is in list {lst.name!r} ({lst.kind}): its target"
    )


def _client(entry: NumberRow, config: RoutingConfig, local: datetime, open_now: bool) -> RouteDecision:
    cp_id = entry["counterparty_id"]
    via = "a contact person of " if entry["contact_person_id"] is not None else ""
    who = f"number belongs to {via}counterparty #{cp_id}"
    manager_id = entry["personal_manager_id"]
    if not open_now:
        return RouteDecision(
            RouteKind.FALLBACK,
            (config.after_hours_route or config.default_route,),
            counterparty_id=cp_id,
            manager_id=manager_id,
            reason=f"{who}; outside business hours: after-hours route",
            after_hours=True,
        )
    notes: list[str] = []
    manager = config.managers.get(manager_id) if manager_id is not None else None
    if manager is None:
        why = "has no personal manager" if manager_id is None else f"has unknown manager #{manager_id}"
        chain = fallback_chain(config, None, local, notes)
        return RouteDecision(
            RouteKind.FALLBACK,
            _dedupe(chain),
            counterparty_id=cp_id,
            manager_id=manager_id,
            reason=f"{who}, which {why}: fallback chain",
            notes=tuple(notes),
        )
    unavailable = unavailability(manager, local)
    chain = fallback_chain(config, manager, local, notes)
    if unavailable is not None:
        return RouteDecision(
            RouteKind.FALLBACK,
            _dedupe(chain),
            counterparty_id=cp_id,
            manager_id=manager.id,
            reason=f"{who}; personal manager {manager.name} {unavailable}: fallback chain",
            notes=tuple(notes),
        )
    return RouteDecision(
        RouteKind.MANAGER,
        _dedupe([_manager_step(manager), *chain]),
        counterparty_id=cp_id,
        manager_id=manager.id,
        reason=f"{who}: personal manager {manager.name}, then the fallback chain if unanswered",
        notes=tuple(notes),
    )


def resolve(
    number: NormalizedNumber, entry: NumberRow | None, config: RoutingConfig, local: datetime
) -> RouteDecision:
    """Decide where a call from ``number`` goes at ``local`` (wall-clock time in the company timezone).

    ``entry`` is the owner of the number (None: not in the CRM). A blacklisted caller is rejected at any
    hour; outside business hours and on holidays every other caller goes to the after-hours route, except
    a manager's own number, which always goes where the configuration says.
    """
    open_now = is_business_time(local, config.business_hours, config.holidays)
    if entry is None or number.e164 is None:
        return _unknown(number, config, open_now)
    list_id = entry["number_list_id"]
    if list_id is not None:
        return _listed(config.lists.get(list_id), list_id, config, open_now)
    owner_manager = entry["owner_manager_id"]
    if owner_manager is not None:
        manager = config.managers.get(owner_manager)
        name = manager.name if manager else f"#{owner_manager}"
        return RouteDecision(
            RouteKind.DEFAULT,
            (config.manager_number_route or config.default_route,),
            manager_id=owner_manager,
            reason=f"number belongs to manager {name}: configured route for managers' own numbers",
        )
    return _client(entry, config, local, open_now)
