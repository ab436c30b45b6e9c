"""The outcome of an import: counts and per-line errors with stable machine-readable codes."""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterable
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


class WarningCode(enum.StrEnum):
    """Why an imported row deserves a second look; the row was imported all the same."""

    POSSIBLE_NUMBER = "possible-number"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found on one line of the file (a warning when its code is a :class:`WarningCode`)."""

    line: int
    code: ErrorCode | WarningCode
    reason: str

    def __str__(self) -> str:
        warning = "warning: " if isinstance(self.code, WarningCode) else ""
        return f"line {self.line}: {warning}{self.reason}"


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class ImportReport:
    """Counts per outcome; ``rejected`` counts rows, ``errors`` may hold several problems per row.

    ``warnings`` belong to imported rows (a number in no known allocated range, for example).
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    def count(self, outcome: Outcome, warnings: Iterable[RowError] = ()) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.warnings.extend(warnings)

    def reject(self, problems: list[RowError]) -> None:
        self.rejected += 1
        self.errors.extend(problems)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected

    def summary(self) -> str:
        """One line, e.g. ``3 created, 0 updated, 1 unchanged, 2 rejected`` (``, 1 warning`` if any)."""
        counts = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected"
        )
        if not self.warnings:
            return counts
        return f"{counts}, {len(self.warnings)} warning{'' if len(self.warnings) == 1 else 's'}"

    def problems(self) -> list[RowError]:
        """Errors and warnings by line (a line's errors first)."""
        return sorted([*self.errors, *self.warnings], key=lambda e: (e.line, isinstance(e.code, WarningCode)))

    def write_errors_csv(self, out: TextIO) -> None:
        """Errors and warnings as CSV (``line,code,reason``), sorted by line."""
        writer = csv.writer(out)
        writer.writerow(["line", "code", "reason"])
        for problem in self.problems():
            writer.writerow([problem.line, problem.code.value, problem.reason])
