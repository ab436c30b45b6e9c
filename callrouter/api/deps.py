"""FastAPI dependencies as ``Annotated`` aliases: the request's session, the caller, role guards."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.from_thread
from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from callrouter.api.errors import ApiError
from callrouter.api.security import read_access_token
from callrouter.wiring import Container
from crm_core.models import Manager, ManagerRole
from crm_core.repositories.scoped import Viewer
from crm_core.services import api_tokens

log = logging.getLogger(__name__)
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


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = "read_only"  # ``session.info`` key: the request only reads (its transaction takes no lock)


def _unit_of_work(request: Request) -> Iterator[tuple[Session, AfterCommit]]:
    """One session per request, committed once when the endpoint succeeded, rolled back otherwise.

    A GET reads through the container's read sessions (on SQLite: no write lock); any other method's
    transaction takes the write lock up front (see :mod:`crm_core.db`)."""
    container = container_of(request)
    after = AfterCommit()
    read_only = request.method in READ_ONLY_METHODS and container.read_sessions is not None
    factory = container.read_sessions if read_only and container.read_sessions else container.sessions
    with factory() as session:
        session.info[READ_ONLY] = read_only
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


def _record_token_use(
    container: Container, session: Session, token_id: int, later: BackgroundTasks | None
) -> None:
    """Record an API token's use: in the request's transaction when it writes anyway; for a plain read in
    a short transaction of its own once the response is sent (so a read never waits for a writer)."""
    if not session.info.get(READ_ONLY):
        api_tokens.mark_used(session, token_id)
    elif later is not None:
        later.add_task(_record_token_use_apart, container, token_id)
    else:
        _record_token_use_apart(container, token_id)


def _record_token_use_apart(container: Container, token_id: int) -> None:
    try:
        with container.sessions.begin() as writer:
            api_tokens.mark_used(writer, token_id)
    except (OperationalError, InterfaceError) as exc:  # a lost "last used" stamp is not worth an error
        log.warning("API token use not recorded", extra={"token_id": token_id, "error": str(exc.orig)[:300]})


def principal_of_token(
    container: Container, session: Session, bearer: str, later: BackgroundTasks | None = None
) -> Principal:
    """The user a bearer token (access token or API token) names; :class:`ApiError` 401 otherwise."""
    session_version: int | None = None  # an API token has none: a password change revokes it instead
    if api_tokens.is_api_token(bearer):
        token = api_tokens.resolve(session, bearer)
        if token is None:
            raise ApiError(401, "invalid-token", "the API token is unknown, revoked or expired")
        if api_tokens.use_is_stale(token):
            _record_token_use(container, session, token.id, later)
        manager_id = token.manager_id
    else:
        claims = read_access_token(container.settings.signing_key, bearer)
        manager_id, session_version = claims.manager_id, claims.session_version
    manager = session.get(Manager, manager_id)
    if manager is None or not manager.active:
        raise ApiError(401, "invalid-token", "the token's user no longer exists or is deactivated")
    if session_version is not None and session_version != manager.session_version:
        raise ApiError(401, "session-ended", "the password changed since this token was issued; log in again")
    return Principal(manager.id, manager.role, api_tokens.is_api_token(bearer))


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(
    request: Request, session: DbSession, later: BackgroundTasks, credentials: BearerCredentials
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "not-authenticated", "send Authorization: Bearer <token>")
    return principal_of_token(container_of(request), session, credentials.credentials, later)


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
