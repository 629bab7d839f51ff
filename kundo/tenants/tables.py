"""Imports every module that declares tenant tables, so `TenantModel.metadata` is whole.

New tenant tables (CRM core, ...) are added here; the provisioning DDL and the
tenant migration check both read the metadata after this import.
"""

from __future__ import annotations

from kundo.crm.companies import models as _companies  # noqa: F401 - registers tables
from kundo.crm.contacts import models as _contacts  # noqa: F401
from kundo.crm.imports import models as _imports  # noqa: F401
from kundo.crm.lists import models as _lists  # noqa: F401
from kundo.crm.properties import models as _properties  # noqa: F401
from kundo.crm.tasks import models as _tasks  # noqa: F401
from kundo.crm.timeline import models as _timeline  # noqa: F401
from kundo.platform import events as _events  # noqa: F401
from kundo.platform.db import TenantModel
from kundo.platform.jobs.models import TENANT_DDL as _DELIVERY_DDL
from kundo.platform.notifications import models as _notifications  # noqa: F401
from kundo.platform.webhooks import models as _webhooks  # noqa: F401
from kundo.platform.workflows import models as _workflows  # noqa: F401
from kundo.tenants import workspace  # noqa: F401 - registers the table

tenant_metadata = TenantModel.metadata

#: Statements beyond the tables (triggers), with `{schema}` where the schema name goes.
tenant_extra_ddl: tuple[str, ...] = (*_DELIVERY_DDL,)
