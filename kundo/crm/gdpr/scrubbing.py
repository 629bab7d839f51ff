"""Removing one person's identifiers from free text and JSON.

An erased contact still shows up in text written about several people ("Call with
Anna Schmidt and Bert Meier"). Those texts stay, for the other people's sake, with
the erased person's e-mail addresses, name, phone numbers and job title replaced.
Names match as whole words, ignoring case, so "Anna" is replaced but "Annabelle" is
not; the erasure rather removes too much than too little, so a first name that
another person in the same text shares is replaced as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REPLACEMENT = "[erased]"
_MIN_TERM = 2


class Scrubber:
    """Replaces a fixed set of personal terms wherever they occur."""

    def __init__(self, *, words: Iterable[str | None] = (), literals: Iterable[str | None] = ()):
        words = {w.strip() for w in words if w and len(w.strip()) >= _MIN_TERM}
        literals = {item.strip() for item in literals if item and len(item.strip()) >= _MIN_TERM}
        # Longest first, so "Anna Schmidt" goes as one piece before "Anna" is looked at.
        parts = [(rf"(?<!\w){re.escape(w)}(?!\w)", len(w)) for w in words]
        parts += [(re.escape(literal), len(literal)) for literal in literals]
        parts.sort(key=lambda part: -part[1])
        self.terms = sorted(words | literals, key=len, reverse=True)
        self._pattern = re.compile("|".join(p for p, _n in parts), re.IGNORECASE) if parts else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str | None) -> str | None:
        if value is None or self._pattern is None:
            return value
        return self._pattern.sub(REPLACEMENT, value)

    def mentions(self, value: str | None) -> bool:
        return bool(value and self._pattern and self._pattern.search(value))

    def json(self, value):
        """`value` with every string (keys too) scrubbed; other JSON values unchanged."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(key): self.json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.json(item) for item in value]
        return value
