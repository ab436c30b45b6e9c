"""Escalation policy schemas: the ordered steps with delay, business-hours flag, recipients and channels."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from callrouter.api.schemas.common import Line, WriteModel
from crm_core.services.escalation import CHANNELS, GROUP_PREFIX, ROLES, PolicyStep

MAX_DELAY_S = 30 * 24 * 3600

Recipient = Annotated[
    Line,
    StringConstraints(pattern=rf"^({'|'.join(sorted(ROLES))}|{GROUP_PREFIX}.+)$"),
    Field(description=f"One of {sorted(ROLES)} or '{GROUP_PREFIX}<notification group name>'"),
]
Channel = Annotated[str, StringConstraints(pattern=rf"^({'|'.join(sorted(CHANNELS))})$")]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("each value may appear once")
    return values


_EXAMPLE: dict[str, Any] = {
    "steps": [
        {
            "delay_seconds": 0,
            "business_hours_only": False,
            "recipients": ["assigned_manager", "controller"],
            "channels": ["inapp", "email"],
        },
        {
            "delay_seconds": 86_400,
            "business_hours_only": True,
            "recipients": ["controller", "director"],
            "channels": ["inapp", "email", "sms"],
        },
    ]
}


class PolicyStepBody(BaseModel):
    """One step: who is told, on which channels, how long after the missed call."""

    model_config = ConfigDict(extra="forbid")

    delay_seconds: Annotated[int, Field(ge=0, le=MAX_DELAY_S, description="Counted from the missed call")]
    business_hours_only: bool = Field(
        default=False, description="Count the delay in business hours only (routing calendar and holidays)"
    )
    recipients: Annotated[list[Recipient], Field(min_length=1, max_length=10), AfterValidator(_distinct)]
    channels: Annotated[list[Channel], Field(min_length=1, max_length=5), AfterValidator(_distinct)]

    def to_step(self) -> PolicyStep:
        return PolicyStep(
            self.delay_seconds, tuple(self.recipients), tuple(self.channels), self.business_hours_only
        )

    @classmethod
    def of(cls, step: PolicyStep) -> PolicyStepBody:
        return cls(
            delay_seconds=step.delay_seconds,
            business_hours_only=step.business_hours_only,
            recipients=list(step.recipients),
            channels=list(step.channels),
        )


class EscalationPolicyPut(WriteModel):
    """The whole ordered policy; it replaces the stored one atomically."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    steps: Annotated[list[PolicyStepBody], Field(min_length=1, max_length=20)]


class EscalationPolicyRead(BaseModel):
    """The policy in force; ``is_default`` when nothing was stored (the built-in two steps)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE | {"is_default": False}]})

    steps: list[PolicyStepBody]
    is_default: bool
