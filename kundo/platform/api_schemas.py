"""Schemas every API resource shares: the problem details of an error."""

from __future__ import annotations

from marshmallow import Schema, fields


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
