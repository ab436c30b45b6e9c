"""Domain errors with stable, machine-readable ids; the API maps each kind to one HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule violation a service reports; ``error_id`` never changes between releases."""

    error_id = "domain-error"

    def __init__(self, error_id: str | None = None, detail: Any = None) -> None:
        self.error_id = error_id or self.error_id
        self.detail = detail
        super().__init__(f"{self.error_id}: {detail}")


class NotFound(DomainError):
    """The entity does not exist or the viewer may not see it (never told apart)."""

    error_id = "not-found"


class Conflict(DomainError):
    """The change contradicts existing data (duplicate, number owned elsewhere...)."""

    error_id = "conflict"


class PermissionDenied(DomainError):
    """The viewer may see the entity but not make this change."""

    error_id = "forbidden"


class InvalidInput(DomainError):
    """The input is well-formed but not acceptable (e.g. not a phone number)."""

    error_id = "invalid-input"
