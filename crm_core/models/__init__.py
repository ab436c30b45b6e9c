"""Typed SQLAlchemy 2.0 table models of the CRM.

Every module of this package is imported below, so ``Base.metadata`` always knows every table (Alembic
and the schema test rely on it); a new model module needs no registration here.
"""

import importlib
import pkgutil

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.calls import CallLeg, CallRecord, MissedCall
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.models.enums import (
    CallDirection,
    CallDisposition,
    ClientStatus,
    DealStageName,
    InteractionKind,
    Language,
    ListKind,
    ListTreatment,
    ManagerRole,
    MissedReason,
    MissedStatus,
    ShipmentKind,
    StatusCause,
)
from crm_core.models.people import Manager
from crm_core.models.phones import NumberList, PhoneNumber
from crm_core.models.sales import Deal, DealStage, Interaction, Need, Shipment

__all__ = [
    "Base",
    "CallDirection",
    "CallDisposition",
    "CallLeg",
    "CallRecord",
    "ClientStatus",
    "ContactPerson",
    "Counterparty",
    "Deal",
    "DealStage",
    "DealStageName",
    "Interaction",
    "InteractionKind",
    "Language",
    "ListKind",
    "ListTreatment",
    "Manager",
    "ManagerRole",
    "MissedCall",
    "MissedReason",
    "MissedStatus",
    "Need",
    "NumberList",
    "PhoneNumber",
    "Shipment",
    "ShipmentKind",
    "StatusCause",
    "UTCDateTime",
    "utcnow",
]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
