"""Imports every module that declares tenant tables, so `TenantModel.metadata` is whole.

New tenant tables (CRM core, ...) are added here; the provisioning DDL and the
tenant migration check both read the metadata after this import.
"""

from __future__ import annotations

from kundo.platform.db import TenantModel
from kundo.tenants import workspace  # noqa: F401 - registers the table

tenant_metadata = TenantModel.metadata
