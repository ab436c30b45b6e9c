"""The analytics settings: status windows and ABC/XYZ bounds an admin may change (one row, ``id = 1``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Integer, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, UTCDateTime, utcnow


class AnalyticsSettings(Base):
    """Thresholds of the client status rule, ABC shares and XYZ coefficient-of-variation bounds."""

    __tablename__ = "analytics_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    fresh_days: Mapped[int] = mapped_column(Integer, default=90)
    departed_days: Mapped[int] = mapped_column(Integer, default=180)
    abc_a_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.80"))
    abc_b_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.95"))
    xyz_x_cv: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("0.10"))
    xyz_y_cv: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("0.25"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("fresh_days >= 0 AND departed_days >= 0", name="days_not_negative"),
        CheckConstraint(
            "0 < abc_a_share AND abc_a_share <= abc_b_share AND abc_b_share <= 1", name="abc_shares"
        ),
        CheckConstraint("0 <= xyz_x_cv AND xyz_x_cv <= xyz_y_cv", name="xyz_bounds"),
    )
