"""FastAPI dependencies as ``Annotated`` aliases: the request's session, the caller, role guards."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.from_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from callrouter.api.errors import ApiError
from callrouter.api.security import read_access_token
from callrouter.wiring import Container
from crm_core.models import Manager, ManagerRole
from crm_core.repositories.scoped import Viewer
from crm_core.services import api_tokens

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login or an API token")


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@dataclass
class AfterCommit:
    """Routing cache invalidations queued by a request, run once its transaction has committed."""

    numbers: set[str] = field(default_factory=set)
    config: bool = False

    def invalidate_numbers(self, e164s: list[str] | set[str]) -> None:
        self.numbers.update(e164s)

    def invalidate_config(self) -> None:
        self.config = True

    def run(self, container: Container) -> None:
        """Tell the routing service (if this process has one) so the change applies to the next call."""
        service = getattr(container, "routing", None)
        if service is None:
            return
        calls: list[Callable[[], Coroutine[Any, Any, Any]]] = []
        if self.config:
            calls.append(service.invalidate_config)
        if self.numbers:
            numbers = sorted(self.numbers)
            calls.append(lambda: service.invalidate_numbers(numbers))
        for call in calls:
            anyio.from_thread.run(call)


def _unit_of_work(request: Request) -> Iterator[tuple[Session, AfterCommit]]:
    """One session per request, committed once when the endpoint succeeded, rolled back otherwise."""
    container = container_of(request)
    after = AfterCommit()
    with container.sessions() as session:
        yield session, after
        session.commit()
    after.run(container)


UnitOfWork = Annotated[tuple[Session, AfterCommit], Depends(_unit_of_work, scope="function")]


def _session(uow: UnitOfWork) -> Session:
    return uow[0]


def _after_commit(uow: UnitOfWork) -> AfterCommit:
    return uow[1]


DbSession = Annotated[Session, Depends(_session)]
Invalidations = Annotated[AfterCommit, Depends(_after_commit)]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: their manager row (as a scope) and how they authenticated."""

    manager_id: int
    role: ManagerRole
    via_api_token: bool

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.manager_id, self.role)


def principal_of_token(container: Container, session: Session, bearer: str) -> Principal:
    """The user a bearer token (access token or API token) names; :class:`ApiError` 401 otherwise."""
    if api_tokens.is_api_token(bearer):
        token = api_tokens.resolve(session, bearer)
        if token is None:
            raise ApiError(401, "invalid-token", "the API token is unknown, revoked or expired")
        manager_id = token.manager_id
    else:
        manager_id = read_access_token(container.settings.signing_key, bearer)
    manager = session.get(Manager, manager_id)
    if manager is None or not manager.active:
        raise ApiError(401, "invalid-token", "the token's user no longer exists or is deactivated")
    return Principal(manager.id, manager.role, api_tokens.is_api_token(bearer))


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(request: Request, session: DbSession, credentials: BearerCredentials) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "not-authenticated", "send Authorization: Bearer <token>")
    return principal_of_token(container_of(request), session, credentials.credentials)


CurrentUser = Annotated[Principal, Depends(_principal)]


def require_roles(*roles: ManagerRole) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 ``forbidden-role`` otherwise)."""

    def guard(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise ApiError(403, "forbidden-role", f"this needs one of the roles: {', '.join(roles)}")
        return user

    return guard


AdminUser = Annotated[Principal, Depends(require_roles(ManagerRole.ADMIN))]
SupervisorUser = Annotated[
    Principal, Depends(require_roles(ManagerRole.ADMIN, ManagerRole.DIRECTOR, ManagerRole.CONTROLLER))
]
ManagementUser = Annotated[Principal, Depends(require_roles(ManagerRole.ADMIN, ManagerRole.DIRECTOR))]
