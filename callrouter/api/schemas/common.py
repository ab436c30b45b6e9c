"""Field types shared by the schemas: bounded text the databases accept, ids, pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2**31 - 1


def _storable(value: str) -> str:
    """Refuse text PostgreSQL cannot store (NUL bytes, lone surrogates)."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]  # an id in the URL path
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)]
LongName = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_storable)]
Short = Annotated[str, StringConstraints(max_length=50), AfterValidator(_storable)]
Medium = Annotated[str, StringConstraints(max_length=100), AfterValidator(_storable)]
Line = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
Note = Annotated[str, StringConstraints(max_length=500), AfterValidator(_storable)]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_storable)]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(_storable)
]
Target = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    AfterValidator(_storable),
    Field(
        description='An Asterisk dial string; without | ~ , " \\, spaces, control characters or '
        "unbalanced brackets (refused as invalid-dial-string)",
        examples=["PJSIP/101", "PJSIP/102&PJSIP/103", "Local/reception@agents"],
    ),
]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._:/-]+$")]
RawNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_storable),
    Field(description="A phone number in any written form; stored as E.164", examples=["8 (843) 123-45-67"]),
]


class ReadModel(BaseModel):
    """Base of response schemas: built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class WriteModel(BaseModel):
    """Base of request schemas: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
