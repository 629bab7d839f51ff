"""German and English: the user's setting first, then the browser's language."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale

SUPPORTED_LOCALES = ("en", "de")
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        return "en"  # CLI commands and jobs: services still translate their messages
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    user = g.get("user")
    if user is not None and user.locale in SUPPORTED_LOCALES:
        return user.locale
    return browser_locale()


def browser_locale() -> str:
    """The browser's most preferred language that Kundo speaks, by primary tag.

    Not `best_match`: it prefers any exact match over a regional one, so "de-CH, en;q=0.5"
    would get English.
    """
    for value, _quality in request.accept_languages:  # highest quality first
        primary = value.replace("_", "-").split("-")[0].lower()
        if primary in SUPPORTED_LOCALES:
            return primary
    return "en"


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
