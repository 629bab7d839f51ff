"""The German catalogue is complete, and error pages speak the visitor's language.

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
        # Plural messages (ngettext) carry a tuple of forms; each German form needs the placeholders.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        elif message.fuzzy:
            fuzzy.append(message.id)
        elif any(sorted(PLACEHOLDER.findall(ids[-1])) != sorted(PLACEHOLDER.findall(string)) for string in strings):
            broken.append(message.id)
    assert (untranslated, fuzzy, broken) == ([], [], [])


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_error_pages_speak_german_too(root):
    page = text_of(root.get("/no-such-page", headers={"Accept-Language": "de"}))
    assert "Seite nicht gefunden" in page
    assert "Vielleicht ist die Adresse falsch geschrieben" in page
    assert "Not Found" not in page



def test_an_error_page_keeps_the_apps_own_explanation(client):
    """Werkzeug's stock text gives way to the translated default; a specific message stays."""
    for language, expected in (("en", "There is no workspace at “nosuch”. Check the address."),
                               ("de", "Unter „nosuch“ gibt es keinen Workspace. Prüfen Sie die Adresse.")):
        response = client.get("/", base_url="http://nosuch.kundo.test", headers={"Accept-Language": language})
        assert response.status_code == 404
        assert expected in text_of(response)
