"""Who may write which fields of the records that hang off a counterparty."""

from __future__ import annotations

from crm_core.models import ManagerRole
from crm_core.services.records import SUPERVISORS, WritePolicy

_ASSIGN = {role: frozenset({"manager_id"}) for role in SUPERVISORS}
_MANAGEMENT = frozenset({ManagerRole.DIRECTOR, ManagerRole.ADMIN})

CONTACTS = WritePolicy(common=frozenset({"counterparty_id", "name", "position", "email"}))
INTERACTIONS = WritePolicy(
    common=frozenset(
        {"counterparty_id", "contact_person_id", "kind", "occurred_at", "summary", "call_record_id"}
    ),
    extra=_ASSIGN,
    actor_fields=frozenset({"manager_id"}),
)
DEALS = WritePolicy(
    common=frozenset({"counterparty_id", "title", "amount", "stage"}),
    extra=_ASSIGN,
    actor_fields=frozenset({"manager_id"}),
)
NEEDS = WritePolicy(common=frozenset({"counterparty_id", "product", "quantity", "period", "probability"}))
# Shipments are the ground truth for bonuses: only management (and its integrations) writes them.
SHIPMENTS = WritePolicy(
    common=frozenset(
        {
            "external_id",
            "counterparty_id",
            "shipped_on",
            "product",
            "quantity",
            "amount",
            "kind",
            "document_number",
            "line_number",
        }
    ),
    roles=_MANAGEMENT,
    delete_roles=_MANAGEMENT,
)
# Number lists change routing for everybody: only an admin defines them (entries: see services.phones).
NUMBER_LISTS = WritePolicy(
    common=frozenset({"name", "kind", "treatment", "target", "ring_timeout_s"}),
    roles=frozenset({ManagerRole.ADMIN}),
    delete_roles=frozenset({ManagerRole.ADMIN}),
)
