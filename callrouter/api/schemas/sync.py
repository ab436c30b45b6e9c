"""The 1C exchange's last run, as the admin API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SyncRunRead(BaseModel):
    status: str
    kind: str | None = None
    """``full`` (every catalog object re-read) or ``incremental``; None for runs recorded before kinds."""
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    counts: dict[str, dict[str, int]]
    problems: list[str]


class SyncStatusRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "1c",
                    "last_run": {
                        "status": "completed",
                        "kind": "incremental",
                        "started_at": "2026-11-30T03:00:00Z",
                        "finished_at": "2026-11-30T03:01:12Z",
                        "duration_s": 72.4,
                        "counts": {
                            "clients": {
                                "created": 3,
                                "updated": 12,
                                "unchanged": 12985,
                                "archived": 1,
                                "removed": 0,
                                "problems": 2,
                            }
                        },
                        "problems": ["clients 5f1c...: unreadable phone 'звонить Ивану'"],
                    },
                }
            ]
        }
    )

    source: str
    last_run: SyncRunRead | None
