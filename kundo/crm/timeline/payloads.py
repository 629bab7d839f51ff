"""What each activity type carries in its payload, and the check every write passes.

Hubs and integrations append activities from many sources; checking the payload at the
one entry point keeps the timeline renderable and reportable (a call always has a
duration, an invoice always a currency). Unknown keys are refused so that a typo in
an integration shows up at once instead of as silently missing data. Types without
a schema here (note, system) take any JSON object.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

DIRECTIONS = ("in", "out")
CALL_OUTCOMES = ("connected", "no_answer", "left_voicemail", "busy", "wrong_number")
INVOICE_STATUSES = ("draft", "sent", "paid", "overdue", "cancelled")


def _text(max_length: int = 300, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _moment(**kwargs) -> fields.AwareDateTime:
    # A payload time without a zone is read as UTC, like `occurred_at`.
    return fields.AwareDateTime(default_timezone=UTC, **kwargs)


class _PayloadSchema(Schema):
    class Meta:
        unknown = RAISE


class CallPayloadSchema(_PayloadSchema):
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    duration_seconds = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=86_400 * 7))
    outcome = fields.String(required=True, validate=validate.OneOf(CALL_OUTCOMES))
    phone_number = _text(50)
    recording_url = fields.Url(validate=validate.Length(max=2000))


class MeetingPayloadSchema(_PayloadSchema):
    starts_at = _moment(required=True)
    ends_at = _moment(required=True)
    location = _text(500)
    meeting_url = fields.Url(validate=validate.Length(max=2000))
    attendees = fields.List(_text(320), validate=validate.Length(max=500))

    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data and data["ends_at"] < data["starts_at"]:
            raise ValidationError("The meeting must end after it starts.", "ends_at")


class EmailPayloadSchema(_PayloadSchema):
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    sender = fields.Email(required=True, data_key="from")
    to = fields.List(fields.Email(), required=True, validate=validate.Length(min=1, max=500))
    cc = fields.List(fields.Email(), validate=validate.Length(max=500))
    message_id = _text(500, required=True)
    thread_id = _text(500)
    in_reply_to = _text(500)


class FormSubmissionPayloadSchema(_PayloadSchema):
    form = _text(200, required=True, metadata={"description": "The form's name."})
    form_id = _text(100)
    # `fields` would shadow Schema.fields, hence the attribute name.
    form_fields = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), required=True,
                              data_key="fields")
    page_url = fields.Url(validate=validate.Length(max=2000))


class InvoicePayloadSchema(_PayloadSchema):
    number = _text(100, required=True)
    # Kept as a decimal string: a float would turn 0.10 € into 0.1000000000000000055 €.
    amount = fields.Decimal(required=True, allow_nan=False, as_string=True)
    currency = fields.String(required=True,
                             validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter ISO code like EUR."))
    status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))
    due_date = fields.Date()
    url = fields.Url(validate=validate.Length(max=2000))


class TicketEventPayloadSchema(_PayloadSchema):
    ticket_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    event = _text(60, required=True, metadata={"description": "What happened, e.g. created, replied, closed."})
    status = _text(60)


class SocialMessagePayloadSchema(_PayloadSchema):
    network = _text(40, required=True, metadata={"description": "linkedin, xing, x, facebook, instagram …"})
    author = _text(300, required=True)
    url = fields.Url(required=True, validate=validate.Length(max=2000))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))


PAYLOAD_SCHEMAS: dict[str, type[Schema]] = {
    "call": CallPayloadSchema,
    "meeting": MeetingPayloadSchema,
    "email": EmailPayloadSchema,
    "form_submission": FormSubmissionPayloadSchema,
    "invoice": InvoicePayloadSchema,
    "ticket_event": TicketEventPayloadSchema,
    "social_message": SocialMessagePayloadSchema,
}


def clean_payload(activity_type: str, payload) -> tuple[dict, dict[str, list[str]]]:
    """(the payload in its stored JSON form, errors keyed `payload.<field>`)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return {}, {"payload": ["Send the payload as a JSON object."]}
    schema_class = PAYLOAD_SCHEMAS.get(activity_type)
    if schema_class is None:
        return payload, {}
    schema = schema_class()
    try:
        loaded = schema.load(payload)
    except ValidationError as error:
        return {}, {f"payload.{field}": _as_list(messages) for field, messages in _flat(error.messages).items()}
    return schema.dump(loaded), {}


def _flat(messages) -> dict:
    if isinstance(messages, dict):
        return {str(key): value for key, value in messages.items()}
    return {"_schema": messages}


def _as_list(messages) -> list[str]:
    if isinstance(messages, list):
        return [str(message) for message in messages]
    if isinstance(messages, dict):  # nested errors, e.g. one bad address in `to`
        return [f"{key}: {_as_list(value)[0]}" for key, value in messages.items()]
    return [str(messages)]
