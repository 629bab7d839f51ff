"""Imports every control-plane model module so the metadata is complete."""

from __future__ import annotations

from sqlalchemy import MetaData


def load_control_models() -> MetaData:
    from kundo.billing import models as billing_models  # noqa: F401
    from kundo.platform.audit import models as audit_models  # noqa: F401
    from kundo.platform.auth import models as auth_models  # noqa: F401
    from kundo.platform.db import ControlModel
    from kundo.platform.jobs import models as job_models  # noqa: F401
    from kundo.platform.mail import models as mail_models  # noqa: F401
    from kundo.plugins import models as plugin_models  # noqa: F401
    from kundo.plugins.marketplace import models as marketplace_models  # noqa: F401
    from kundo.tenants import models as tenant_models  # noqa: F401
    from kundo.tenants import spares as spare_models  # noqa: F401

    return ControlModel.metadata
