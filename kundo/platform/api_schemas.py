"""Schemas every API resource shares: the problem details of an error."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every API error."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem; `about:blank` if none."})
    title = fields.String(metadata={"description": "A short summary of the kind of problem."})
    status = fields.Integer(metadata={"description": "The HTTP status code."})
    detail = fields.String(metadata={"description": "What went wrong here, and what to do about it."})
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "Messages per invalid field (422 and some 400 responses)."},
    )
    request_id = fields.String(metadata={"description": "Quote it when asking support about this request."})


class TrimmedString(fields.String):
    """A string with surrounding white space removed; with `required_text`, it must
    keep at least one visible character (documented as a pattern, so clients know)."""

    def __init__(self, *args, required_text: bool = False, **kwargs):
        validators = list(kwargs.pop("validate", None) or [])
        if required_text:
            validators.append(validate.Regexp(r"^\s*\S", error="Enter some text, not only spaces."))
        super().__init__(*args, validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()
