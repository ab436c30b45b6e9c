"""Analytics: the thresholds every report applies (admin writes, audited; management reads)."""

from __future__ import annotations

from fastapi import APIRouter

from callrouter.api.deps import AdminUser, DbSession, ManagementUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.analytics import AnalyticsSettingsPatch, AnalyticsSettingsRead
from crm_core.services import analytics_settings

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)


@router.get("/settings", summary="Status windows, ABC shares and XYZ bounds in force (admin, director)")
def get_settings(_user: ManagementUser, session: DbSession) -> AnalyticsSettingsRead:
    return AnalyticsSettingsRead.model_validate(analytics_settings.current_settings(session))


@router.patch(
    "/settings", summary="Change analytics thresholds (admin; audited; 422 invalid-analytics-settings)"
)
def patch_settings(
    body: AnalyticsSettingsPatch, user: AdminUser, session: DbSession
) -> AnalyticsSettingsRead:
    values = body.model_dump(exclude_unset=True)
    return AnalyticsSettingsRead.model_validate(
        analytics_settings.update_settings(session, user.viewer, values)
    )
