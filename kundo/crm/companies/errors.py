"""Refusals of the companies feature, each with a message for the person who asked."""

from __future__ import annotations

from flask_babel import gettext as _


class CompanyError(ValueError):
    """Bad input for a company; `field` names the request field to fix."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DuplicateDomainError(CompanyError):
    """The domain already belongs to a company of this workspace."""

    def __init__(self, domain: str, company_id: int, company_name: str):
        super().__init__(
            _("The domain %(domain)s already belongs to the company “%(name)s” (id %(id)s). Open that company, or "
              "merge the two.", domain=domain, name=company_name, id=company_id),
            field="domain",
        )
        self.domain = domain
        self.company_id = company_id


class CompanyNotFound(LookupError):
    def __init__(self, company_id):
        super().__init__(_("There is no company with id %(id)s in this workspace.", id=company_id))
        self.company_id = company_id
