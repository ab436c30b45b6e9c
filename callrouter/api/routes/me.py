"""``/api/v1/me``: who I am (role, name, manager id), my language and the company's time zone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field

from callrouter.api.deps import CurrentUser, DbSession, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.common import ReadModel, WriteModel
from crm_core.models import Language, Manager, ManagerRole
from crm_core.services import audit

router = APIRouter(prefix="/api/v1/me", tags=["auth"], responses=ERROR_RESPONSES)


class MeRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "manager_id": 5,
                    "name": "Maria Manager",
                    "login": "maria",
                    "role": "manager",
                    "controller_id": 2,
                    "language": "ru",
                    "own_language": None,
                    "company_language": "ru",
                    "timezone": "Europe/Moscow",
                }
            ]
        }
    )

    manager_id: int
    name: str
    login: str
    role: ManagerRole
    controller_id: int | None
    language: Language = Field(description="The language to show: your own choice, else the company's")
    own_language: Language | None = Field(description="Your choice; null: the company's language")
    company_language: Language
    timezone: str = Field(description="The company time zone every date is shown in (IANA name)")


class MeUpdate(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"language": "en"}, {"language": None}]})

    language: Language | None = Field(description="ru or en; null returns to the company's language")


def _me(request: Request, manager: Manager) -> MeRead:
    settings = container_of(request).settings
    company = Language(settings.language)
    return MeRead(
        manager_id=manager.id,
        name=manager.name,
        login=manager.login,
        role=manager.role,
        controller_id=manager.controller_id,
        language=manager.language or company,
        own_language=manager.language,
        company_language=company,
        timezone=settings.company_timezone,
    )


@router.get("", summary="Me: role, name, language and the company time zone")
def get_me(request: Request, user: CurrentUser, session: DbSession) -> MeRead:
    manager = session.get(Manager, user.manager_id)
    assert manager is not None  # the principal was just loaded
    return _me(request, manager)


@router.patch("", summary="Choose my language (null: the company's)")
def update_me(request: Request, body: MeUpdate, user: CurrentUser, session: DbSession) -> MeRead:
    manager = session.get(Manager, user.manager_id)
    assert manager is not None
    before = audit.snapshot(manager)
    manager.language = body.language
    session.flush()
    audit.record(session, user.manager_id, "update", "manager", manager.id, before, audit.snapshot(manager))
    return _me(request, manager)
