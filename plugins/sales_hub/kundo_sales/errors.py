"""The hub's service errors: pages turn them into form messages, the API into problem+json."""

from __future__ import annotations


class SalesValidationError(ValueError):
    """`errors` maps each field to fix to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


class SalesNotFound(LookupError):
    """A pipeline, stage, deal or rule that does not exist in this workspace."""
