"""Fill German translations from a PO fragment into the catalogue (used after `make messages`).

Parallel work keeps its German texts in fragments so nobody edits the shared catalogue by
hand; this copies every fragment msgstr whose msgid is in the catalogue, drops fuzzy flags
on the ones it fills, and lists what is still untranslated.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parents[1] / "kundo/platform/translations/de/LC_MESSAGES/messages.po"


def main(fragments: list[str]) -> int:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="de")
    filled = 0
    for fragment in fragments:
        with open(fragment, "rb") as handle:
            source = read_po(handle, locale="de")
        for message in source:
            if not message.id or not message.string:
                continue
            target = catalogue.get(message.id, message.context)
            if target is not None and (target.string != message.string or target.fuzzy):
                target.string = message.string
                target.flags.discard("fuzzy")
                filled += 1
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False, sort_output=True)
    missing = [m.id for m in catalogue if m.id and not all(m.string if isinstance(m.string, tuple) else (m.string,))]
    print(f"filled {filled}; untranslated {len(missing)}")
    for msgid in missing:
        print("  untranslated:", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
