"""Marshmallow schemas of the contacts API (and the matcher's, which answers with contacts)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.crm.companies.schemas import CompanySchema
from kundo.crm.contacts.models import ConsentStatus, LifecycleStage

STAGES = tuple(stage.value for stage in LifecycleStage)
CONSENT = tuple(status.value for status in ConsentStatus)
_ID = {"strict": True, "validate": validate.Range(min=1, max=2**63 - 1)}


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


class ContactEmailSchema(Schema):
    email = fields.String(dump_only=True)
    primary = fields.Boolean(attribute="is_primary", dump_only=True)


class ConsentSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(CONSENT))
    at = fields.AwareDateTime(load_default=None, metadata={"description": "When it was given or withdrawn; now if "
                                                                           "omitted."})
    source = fields.String(load_default=None, validate=validate.Length(max=2000),
                           metadata={"description": "How: the form, e-mail link or call (GDPR proof)."})


def _consent_of(contact) -> dict:
    return {"status": contact.consent_status, "source": contact.consent_source,
            "at": contact.consent_at.isoformat() if contact.consent_at else None}


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True, metadata={"description": "First and last name, else the e-mail."})
    first_name = fields.String(dump_only=True, allow_none=True)
    last_name = fields.String(dump_only=True, allow_none=True)
    email = fields.String(attribute="primary_email", dump_only=True, allow_none=True,
                          metadata={"description": "The primary e-mail."})
    emails = fields.List(fields.Nested(ContactEmailSchema), dump_only=True)
    phones = fields.List(fields.String(), dump_only=True)
    job_title = fields.String(dump_only=True, allow_none=True)
    owner_id = fields.Integer(dump_only=True, allow_none=True)
    primary_company_id = fields.Integer(dump_only=True, allow_none=True)
    lifecycle_stage = fields.String(dump_only=True, allow_none=True)
    lifecycle_dates = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True,
                                  metadata={"description": "When each lifecycle stage was first reached."})
    lead_status = fields.String(dump_only=True, allow_none=True)
    source = fields.String(dump_only=True, allow_none=True)
    tags = fields.List(fields.String(), dump_only=True)
    consent = fields.Function(_consent_of, dump_only=True,
                              metadata={"description": "{status, at, source} of the latest consent decision."})
    custom = fields.Dict(keys=fields.String(), dump_only=True, metadata={"description": "Custom property values."})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class _ContactFieldsSchema(Schema):
    first_name = _text(200)
    last_name = _text(200)
    job_title = _text(200)
    phones = fields.List(fields.String(validate=validate.Length(max=50)), validate=validate.Length(max=20))
    owner_id = fields.Integer(allow_none=True, **_ID, metadata={"description": "A member of the workspace."})
    company_id = fields.Integer(allow_none=True, **_ID, metadata={"description": "Made the primary company."})
    lifecycle_stage = fields.String(allow_none=True, validate=validate.OneOf(STAGES))
    lead_status = _text(40)
    source = _text(100)
    tags = fields.List(fields.String(validate=validate.Length(max=60)), validate=validate.Length(max=100))
    custom = fields.Dict(keys=fields.String(), metadata={"description": "Custom property values by key; null "
                                                                        "clears one."})


class ContactCreateSchema(_ContactFieldsSchema):
    emails = fields.List(fields.String(validate=validate.Length(max=320)), validate=validate.Length(max=20),
                         metadata={"description": "The first one becomes the primary e-mail."})
    consent = fields.Nested(ConsentSchema)


class ContactPatchSchema(_ContactFieldsSchema):
    """Only the fields sent change; e-mails, tags and consent also have their own endpoints."""


class EmailCreateSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    primary = fields.Boolean(load_default=False)


class TagsChangeSchema(Schema):
    add = fields.List(fields.String(validate=validate.Length(max=60)), load_default=list)
    remove = fields.List(fields.String(validate=validate.Length(max=60)), load_default=list)


class MergeSchema(Schema):
    merge_id = fields.Integer(required=True, **_ID, metadata={"description": "The record merged in and deleted."})


class DuplicateQueryArgsSchema(Schema):
    contact_id = fields.Integer(validate=_ID["validate"], metadata={"description": "Only pairs with this contact."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DuplicateSchema(Schema):
    contacts = fields.List(fields.Nested(ContactSchema), dump_only=True)
    reasons = fields.List(fields.String(), dump_only=True, metadata={
        "description": "same_name_same_company, similar_name_same_company, similar_name_same_email_domain, "
                       "same_phone"})
    score = fields.Float(dump_only=True, metadata={"description": "0–1; higher is more likely one person."})


class LinkedContactSchema(Schema):
    """A contact as one of a company's people."""

    contact = fields.Nested(ContactSchema, dump_only=True)
    role = fields.String(dump_only=True, allow_none=True)
    primary = fields.Boolean(dump_only=True)


class LinkedContactPageSchema(Schema):
    items = fields.List(fields.Nested(LinkedContactSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})


class ContactCompanySchema(Schema):
    company = fields.Nested(CompanySchema, dump_only=True)
    role = fields.String(dump_only=True, allow_none=True)
    primary = fields.Boolean(dump_only=True)


class MatchSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    first_name = _text(200, metadata={"description": "Used only when the contact is created."})
    last_name = _text(200, metadata={"description": "Used only when the contact is created."})
    create = fields.Boolean(load_default=True, metadata={"description": "False: look up only, change nothing."})
    create_company = fields.Boolean(load_default=True, metadata={
        "description": "False: link an existing company of the e-mail's domain, but create none."})
    source = _text(100, metadata={"description": "Where a new contact came from, e.g. `form:contact-page`."})


class MatchResultSchema(Schema):
    contact = fields.Nested(ContactSchema, allow_none=True, dump_only=True)
    company = fields.Nested(CompanySchema, allow_none=True, dump_only=True)
    contact_created = fields.Boolean(dump_only=True)
    company_created = fields.Boolean(dump_only=True)
