"""Login, access tokens and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from callrouter.api.schemas.common import Id, Medium, ReadModel, WriteModel

Login = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LoginRequest(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"login": "ivanova", "password": "correct horse battery"}]}
    )

    login: Login
    password: Password


class AccessToken(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"access_token": "eyJhbGciOi...", "token_type": "bearer", "expires_in": 900}]
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class ApiTokenCreate(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "1C exchange", "expires_at": "2027-01-01T00:00:00Z"}]}
    )

    name: Annotated[Medium, StringConstraints(min_length=1)]
    expires_at: AwareDatetime | None = Field(default=None, description="None: valid until revoked")
    manager_id: Id | None = Field(default=None, description="Owner (admin only); defaults to the caller")


class ApiTokenRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "manager_id": 1,
                    "name": "1C exchange",
                    "created_at": "2026-11-28T10:00:00Z",
                    "expires_at": None,
                    "revoked_at": None,
                    "last_used_at": None,
                }
            ]
        }
    )

    id: int
    manager_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokenIssued(ApiTokenRead):
    token: str = Field(description="The secret; shown only once", examples=["crt_3q2-7wE..."])
