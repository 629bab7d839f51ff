"""Refusals of the contacts feature, each with a message for the person who asked.

They live apart from the service so the companies feature and the matcher can raise
and catch them without importing each other's logic.
"""

from __future__ import annotations

from flask_babel import gettext as _


class ContactError(ValueError):
    """Bad input for a contact; `field` names the request field to fix."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DuplicateEmailError(ContactError):
    """The e-mail address already belongs to a contact of this workspace."""

    def __init__(self, email: str, contact_id: int, contact_name: str):
        super().__init__(
            _("%(email)s already belongs to the contact “%(name)s” (id %(id)s). Open that contact, or merge the "
              "two.", email=email, name=contact_name, id=contact_id),
            field="emails",
        )
        self.email = email
        self.contact_id = contact_id


class ContactNotFound(LookupError):
    def __init__(self, contact_id):
        super().__init__(_("There is no contact with id %(id)s in this workspace.", id=contact_id))
        self.contact_id = contact_id


class MergeError(ValueError):
    """A merge that cannot be done (the same record twice, an erased record …)."""
