"""Login (password -> short-lived access token) and long-lived, revocable API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from sqlalchemy import Select, select

from callrouter.api.deps import CurrentUser, DbSession, Principal, container_of
from callrouter.api.errors import ERROR_RESPONSES, ApiError
from callrouter.api.schemas.auth import (
    AccessToken,
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenRead,
    LoginRequest,
)
from callrouter.api.schemas.common import MAX_ID
from callrouter.api.schemas.managers import ManagerRead
from callrouter.api.security import ACCESS_TOKEN_TTL, LoginRateLimiter, issue_access_token
from crm_core.models import Manager, ManagerRole
from crm_core.models.auth import ApiToken
from crm_core.services import api_tokens, audit
from crm_core.services.errors import NotFound, PermissionDenied
from crm_core.services.passwords import verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _limiter(request: Request) -> LoginRateLimiter:
    limiter: LoginRateLimiter = request.app.state.login_limiter
    return limiter


@router.post("/login", summary="Log in with login and password; returns a short-lived access token")
def login(body: LoginRequest, request: Request, session: DbSession) -> AccessToken:
    limiter = _limiter(request)
    address = request.client.host if request.client else "unknown"
    limiter.check(body.login, address)
    manager = session.scalars(select(Manager).where(Manager.login == body.login)).first()
    usable = manager is not None and manager.active
    # always one argon2 verification (against a dummy hash when there is no such user): same timing
    matches = verify_password(manager.password_hash if manager and usable else None, body.password)
    if manager is None or not usable or not matches:
        limiter.failed(body.login, address)
        raise ApiError(401, "invalid-credentials", "login or password is wrong")
    limiter.succeeded(body.login, address)
    signing_key = container_of(request).settings.signing_key
    token = issue_access_token(signing_key, manager.id, session_version=manager.session_version)
    return AccessToken(access_token=token, expires_in=int(ACCESS_TOKEN_TTL.total_seconds()))


@router.get("/me", summary="The authenticated user")
def me(user: CurrentUser, session: DbSession) -> ManagerRead:
    return ManagerRead.model_validate(session.get(Manager, user.manager_id))


@router.post(
    "/api-tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a long-lived API token (the secret is shown once)",
)
def create_api_token(body: ApiTokenCreate, user: CurrentUser, session: DbSession) -> ApiTokenIssued:
    owner = body.manager_id or user.manager_id
    if owner != user.manager_id:
        if user.role is not ManagerRole.ADMIN:
            raise PermissionDenied("field-not-writable", {"fields": ["manager_id"], "role": str(user.role)})
        if session.get(Manager, owner) is None:
            raise NotFound("no-such-manager", {"id": owner})
    row, secret = api_tokens.issue(session, owner, body.name, body.expires_at)
    audit.record(
        session,
        user.manager_id,
        "issue",
        "api-token",
        row.id,
        None,
        audit.snapshot(row, frozenset({"token_digest"})),
    )
    return ApiTokenIssued(**ApiTokenRead.model_validate(row).model_dump(), token=secret)


def _tokens_query(user: Principal) -> Select[ApiToken]:
    """Tokens the user may see: their own, or every token for an admin."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    return stmt if user.role is ManagerRole.ADMIN else stmt.where(ApiToken.manager_id == user.manager_id)


@router.get("/api-tokens", summary="Your API tokens (an admin sees all)")
def list_api_tokens(user: CurrentUser, session: DbSession) -> list[ApiTokenRead]:
    return [ApiTokenRead.model_validate(row) for row in session.scalars(_tokens_query(user))]


@router.delete("/api-tokens/{token_id}", summary="Revoke an API token")
def revoke_api_token(token_id: TokenId, user: CurrentUser, session: DbSession) -> ApiTokenRead:
    row = session.scalars(_tokens_query(user).where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound("no-such-api-token", {"id": token_id})
    api_tokens.revoke(row)
    audit.record(session, user.manager_id, "revoke", "api-token", row.id)
    return ApiTokenRead.model_validate(row)
