"""The typed rows an outside system hands over: users, clients, contact persons and documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ExternalUser:
    """A user of the outside system, to become (or stay linked to) a manager."""

    ref: str
    name: str
    version: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ExternalClient:
    """A client (UT 11 partner with its counterparty, BP 3.0 counterparty) with its written phones."""

    ref: str
    name: str
    code: str | None = None
    tax_id: str | None = None
    manager_ref: str | None = None
    phones: tuple[str, ...] = ()
    version: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ExternalContact:
    """A contact person of a client, with its written phones."""

    ref: str
    client_ref: str
    name: str
    position: str | None = None
    phones: tuple[str, ...] = ()
    version: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ExternalLine:
    """One goods line of a sale or return, numbered as in the document (``LineNumber``)."""

    number: int
    product: str
    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ExternalDocument:
    """A sale or a return: only a posted, unmarked document has lines here."""

    ref: str
    client_ref: str | None
    on: date
    posted: bool
    is_return: bool = False
    lines: tuple[ExternalLine, ...] = field(default=())
    version: str | None = None
    deleted: bool = False

    @property
    def effective(self) -> bool:
        return self.posted and not self.deleted
