"""Escalation policy as pure functions: when each step of a missed call is due, and who receives it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from crm_core.services.escalation import GROUP_PREFIX, PolicyStep, RecipientFacts, StepPlan
from routing.business_time import BusinessCalendar, add_business_time


def plan_steps(
    policy: Sequence[PolicyStep], missed_at: datetime, now: datetime, calendar: BusinessCalendar
) -> list[StepPlan]:
    """Due times of every step, counted from the missed call.

    A missed call stamped after ``now`` (application clock ahead of the database clock) counts from ``now``,
    so step 0 is never held back by clock skew. Business-hours-only delays skip nights, days off and holidays.
    """
    anchor = min(missed_at, now)
    plans = []
    for index, step in enumerate(policy):
        delay = timedelta(seconds=step.delay_seconds)
        due = add_business_time(anchor, delay, calendar) if step.business_hours_only else anchor + delay
        plans.append(StepPlan(index, due, step.recipients, step.channels))
    return plans


def group_names(roles: Sequence[str]) -> list[str]:
    """The named groups among ``roles``.

    >>> group_names(["controller", "group:night-shift"])
    ['night-shift']
    """
    return [r[len(GROUP_PREFIX) :] for r in roles if r.startswith(GROUP_PREFIX)]


def resolve_recipients(roles: Sequence[str], facts: RecipientFacts) -> list[int]:
    """Manager ids for ``roles``, in role order, each once; roles nobody fills are dropped.

    When nobody fills any role (no assigned manager, no controller), the directors are told instead: a
    missed call is never escalated to no one.

    >>> facts = RecipientFacts(5, controller_id=2, director_ids=(1,), groups={"ops": (2, 9)})
    >>> resolve_recipients(["assigned_manager", "controller", "director", "group:ops"], facts)
    [5, 2, 1, 9]
    >>> resolve_recipients(["controller"], RecipientFacts(None, None, (1,)))
    [1]
    """
    ids: list[int] = []
    for role in roles:
        if role == "assigned_manager":
            found: Sequence[int] = () if facts.assigned_manager_id is None else (facts.assigned_manager_id,)
        elif role == "controller":
            found = () if facts.controller_id is None else (facts.controller_id,)
        elif role == "director":
            found = facts.director_ids
        else:
            found = facts.groups.get(role[len(GROUP_PREFIX) :], ())
        ids.extend(i for i in found if i not in ids)
    return ids or list(facts.director_ids)
