"""What a sync run did per object kind, what it could not apply, and what routing must forget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    removed: int = 0
    problems: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True, slots=True)
class Problem:
    """An object (or a value of it) that was not applied, with the reason; the run still completes."""

    kind: str
    ref: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}: {self.reason}"


@dataclass
class SyncReport:
    counts: dict[str, KindCounts] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    numbers_changed: set[str] = field(default_factory=set)
    config_changed: bool = False

    def of(self, kind: str) -> KindCounts:
        return self.counts.setdefault(kind, KindCounts())

    def problem(self, kind: str, ref: str, reason: str) -> None:
        self.problems.append(Problem(kind, ref, reason))
        self.of(kind).problems += 1

    def counts_dict(self) -> dict[str, Any]:
        return {kind: c.as_dict() for kind, c in self.counts.items()}

    def changed(self) -> bool:
        return any(c.created or c.updated or c.archived or c.removed for c in self.counts.values())

    def summary(self) -> str:
        parts = [
            f"{kind}: {c.created} new, {c.updated} updated, {c.unchanged} unchanged"
            + (f", {c.archived} archived" if c.archived else "")
            + (f", {c.removed} removed" if c.removed else "")
            for kind, c in self.counts.items()
        ]
        return "; ".join(parts) + f"; {len(self.problems)} warnings"
