"""Organisations (providers and the funder) and the sites they serve."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ORG_KINDS = ("provider", "funder")


class Organisation(db.Model):
    """A CVI provider, or the city office that funds providers."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="provider")
    # The funder (an organisation of kind "funder") whose statistics include this provider.
    funded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # Bumped in the transaction of every write to the organisation's records (portal.versions):
    # kept worker pages are keyed by it, so a write makes them be worked out afresh.
    data_version: Mapped[int] = mapped_column(default=1, server_default="1")

    sites: Mapped[list[Site]] = relationship(back_populates="organisation", order_by="Site.name")

    __table_args__ = (sa.CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"


class Site(db.Model):
    """A neighbourhood or area a provider's programme serves."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="sites")

    __table_args__ = (sa.UniqueConstraint("organisation_id", "name"),)

    def __repr__(self) -> str:
        return f"<Site {self.name}>"
