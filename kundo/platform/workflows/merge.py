"""Merge fields in e-mail and task texts: ``Hello {{ contact.first_name }}``.

Texts are written by workspace admins and rendered in the worker, so they go through
Jinja's sandbox: no attribute tricks reach Python internals, unknown fields render as
nothing, and output is plain text (e-mails are sent as text/plain).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

MAX_TEMPLATE = 20_000
MAX_OUTPUT = 100_000


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # An empty property (None) renders as nothing, not as "None".
    return SandboxedEnvironment(autoescape=False, trim_blocks=True, keep_trailing_newline=False,
                                finalize=lambda value: "" if value is None else value)


def template_problem(text: str) -> str | None:
    """Why `text` is not a usable template (a syntax error with its line), or None."""
    if len(text) > MAX_TEMPLATE:
        return f"Use at most {MAX_TEMPLATE} characters."
    try:
        _environment().parse(text)
    except TemplateSyntaxError as error:
        return f"Template error on line {error.lineno}: {error.message}"
    return None


def render(text: str, context: dict[str, Any]) -> str:
    """Render a template checked by `template_problem`; raises on errors inside the sandbox."""
    return _environment().from_string(text).render(**context)[:MAX_OUTPUT]
