"""Reading deal forms: the raw strings of a form into the values `deals.service` takes."""

from __future__ import annotations

from flask_babel import gettext as _

from kundo_sales.access import is_member
from kundo_sales.errors import SalesValidationError

FIELDS = ("name", "amount", "currency", "expected_close_date", "source", "next_step", "forecast_category",
          "company_id")


def owner_from(raw) -> int | None:
    """A member's id from a form value; blank is no one, anything else not a member is refused."""
    text = str(raw or "").strip()
    if not text:
        return None
    if text.isdigit() and is_member(int(text)):
        return int(text)
    raise SalesValidationError({"owner_id": [_("Choose an owner from the members of this workspace.")]})


def deal_values(form) -> dict:
    values = {field: form.get(field) for field in FIELDS if field in form}
    if "amount" in values:
        values["amount"] = (values["amount"] or "").replace(",", ".") if values["amount"] else None
    if "contact_ids" in form:
        values["contact_ids"] = [v for raw in form.getlist("contact_ids") for v in str(raw).replace(",", " ").split()]
    if "owner_id" in form:
        values["owner_id"] = owner_from(form.get("owner_id"))
    return values


def first_errors(error: SalesValidationError) -> dict[str, str]:
    """One message per field, for the form."""
    return {field: " ".join(messages) for field, messages in error.errors.items()}
