"""Marshmallow schemas of the GDPR API."""

from __future__ import annotations

from marshmallow import Schema, fields


class ContactExportSchema(Schema):
    """The export document (documentation only: the file is sent as produced)."""

    format = fields.String(metadata={"description": "kundo.contact-export/1"})
    exported_at = fields.DateTime()
    contact = fields.Dict(metadata={"description": "The record: names, job title, lifecycle, tags, owner …"})
    emails = fields.List(fields.Dict())
    phones = fields.List(fields.String())
    companies = fields.List(fields.Dict())
    custom_values = fields.List(fields.Dict(), metadata={"description": "key, label and value of each property."})
    consent = fields.Dict(metadata={"description": "Current status, when, how, and the history of decisions."})
    activities = fields.List(fields.Dict(), metadata={"description": "Timeline entries with their payloads."})
    tasks = fields.List(fields.Dict())
    events = fields.List(fields.Dict(), metadata={"description": "Domain events about the contact."})


class ContactEraseSchema(Schema):
    confirm = fields.String(required=True, metadata={
        "description": "The contact's id once more, as a guard against erasing the wrong record."})


class ErasureSchema(Schema):
    contact_id = fields.Integer()
    erased_at = fields.DateTime()
    already_erased = fields.Boolean(metadata={"description": "Erased before; nothing changed this time."})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Activities blanked or unlinked, tasks, events, e-mails."})
