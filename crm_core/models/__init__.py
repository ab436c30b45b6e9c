"""Typed SQLAlchemy 2.0 table models of the CRM."""

from crm_core.models.base import Base, UTCDateTime, utcnow
from crm_core.models.calls import CallRecord, MissedCall
from crm_core.models.counterparties import ContactPerson, Counterparty
from crm_core.models.enums import (
    CallDirection,
    CallDisposition,
    ClientStatus,
    DealStageName,
    InteractionKind,
    ListKind,
    ListTreatment,
    ManagerRole,
    MissedReason,
    MissedStatus,
)
from crm_core.models.people import Manager
from crm_core.models.phones import NumberList, PhoneNumber
from crm_core.models.sales import Deal, DealStage, Interaction, Need, Shipment

__all__ = [
    "Base",
    "CallDirection",
    "CallDisposition",
    "CallRecord",
    "ClientStatus",
    "ContactPerson",
    "Counterparty",
    "Deal",
    "DealStage",
    "DealStageName",
    "Interaction",
    "InteractionKind",
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
    "UTCDateTime",
    "utcnow",
]
