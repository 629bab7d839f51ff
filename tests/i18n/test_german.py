"""The German catalogue is complete and what German speakers actually get.

`make test` compiles the catalogue first (`make translations`); the .mo files are
build output and not in git.
"""

from __future__ import annotations

import html
import re

from babel.messages.pofile import read_po

from kundo.platform.i18n import TRANSLATIONS_DIR

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def german_catalogue():
    with (TRANSLATIONS_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_every_message_has_a_german_translation_with_the_same_placeholders():
    untranslated, fuzzy, broken = [], [], []
    for message in german_catalogue():
        if not message.id:
            continue
        if not message.string:
            untranslated.append(message.id)
        elif message.fuzzy:
            fuzzy.append(message.id)
        elif sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(message.string)):
            broken.append(message.id)
    assert (untranslated, fuzzy, broken) == ([], [], [])


def test_the_compiled_catalogue_is_current():
    po = TRANSLATIONS_DIR / "de" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), "run `make translations` (make test does it first)"
    assert mo.stat().st_mtime >= po.stat().st_mtime, "messages.mo is older than messages.po: run `make translations`"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_german_browser_gets_german_pages(root):
    login = text_of(root.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}))
    assert '<html lang="de">' in login
    assert "Willkommen zurück" in login and "Passwort vergessen?" in login
    english = text_of(root.get("/login", headers={"Accept-Language": "en-US"}))
    assert "Welcome back" in english and "Willkommen" not in english


def test_error_pages_speak_german_too(root):
    page = text_of(root.get("/no-such-page", headers={"Accept-Language": "de"}))
    assert "Seite nicht gefunden" in page
    assert "Vielleicht ist die Adresse falsch geschrieben" in page
    assert "Not Found" not in page


def test_messages_from_python_are_translated(root):
    """Form errors come from services (slug rules, password strength), not templates."""
    answer = root.get("/signup/check?slug=ab", headers={"Accept-Language": "de", "Accept": "application/json"})
    assert answer.get_json()["message"] == "Die Workspace-Adresse braucht mindestens 3 Zeichen."

