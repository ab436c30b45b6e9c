"""The outcome of an import: counts and per-line errors with stable machine-readable codes."""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass, field
from typing import TextIO


class ErrorCode(enum.StrEnum):
    """Why a row was rejected; the values are stable ids for scripts reading ``--errors-csv``."""

    MISSING_VALUE = "missing-value"
    BAD_NUMBER = "bad-number"
    BAD_VALUE = "bad-value"
    NO_MATCH_KEY = "no-match-key"
    NUMBER_TAKEN = "number-taken"
    KEY_TAKEN = "key-taken"
    DUPLICATE_IN_FILE = "duplicate-in-file"
    UNKNOWN_MANAGER = "unknown-manager"
    UNKNOWN_COUNTERPARTY = "unknown-counterparty"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found on one line of the file."""

    line: int
    code: ErrorCode
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class ImportReport:
    """Counts per outcome; ``rejected`` counts rows, ``errors`` may hold several problems per row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def reject(self, problems: list[RowError]) -> None:
        self.rejected += 1
        self.errors.extend(problems)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected

    def summary(self) -> str:
        """One line, e.g. ``3 created, 0 updated, 1 unchanged, 2 rejected``."""
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected"
        )

    def write_errors_csv(self, out: TextIO) -> None:
        """The errors as CSV (``line,code,reason``), sorted by line."""
        writer = csv.writer(out)
        writer.writerow(["line", "code", "reason"])
        for error in sorted(self.errors, key=lambda e: e.line):
            writer.writerow([error.line, error.code.value, error.reason])
