"""The 1C exchange as seen by an admin: the last run with its duration, counts per object kind and errors."""

from __future__ import annotations

from fastapi import APIRouter

from callrouter.api.deps import DbSession, ManagementUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.sync import SyncStatusRead
from crm_core.syncing import last_run
from erp_bridge.onec.sync import SOURCE

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], responses=ERROR_RESPONSES)


@router.get(
    "/1c", summary="The last 1C sync run: status, duration, counts per kind, problems (admin, director)"
)
def onec_status(_user: ManagementUser, session: DbSession) -> SyncStatusRead:
    return SyncStatusRead.model_validate({"source": SOURCE, "last_run": last_run(session, SOURCE)})
