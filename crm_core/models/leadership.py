"""Leases naming the one process that consumes a PBX's AMI events (PostgreSQL deployments)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime


class AmiLease(Base):
    """Who leads a PBX until when; ``epoch`` grows with every change of holder (the fencing token)."""

    __tablename__ = "ami_leases"

    pbx: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
