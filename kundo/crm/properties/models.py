"""Custom property definitions (tenant schema); values live in each object's `custom` JSONB."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import TenantModel


class PropertyType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    ENUM = "enum"
    BOOLEAN = "boolean"
    URL = "url"


class PropertyDefinition(TenantModel):
    __tablename__ = "property_definitions"
    __table_args__ = (Index("uq_property_definitions_key", "object_type", "key", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(20))
    #: For enums: [{"value": "a", "label": "A"}, …]
    options: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
