"""Names one typo away: the search step between exact matches and trigram guesses.

Most misspellings are one edit away from the name meant: a letter dropped ("Wber"),
doubled ("Steinbrrand"), swapped ("Nuemann") or replaced ("Mair"). A trigram
similarity search finds those too, but its GIN index cannot tell a close name from
one that merely shares common trigrams ("er ", "ann", "sch"), so at a million
contacts it rechecks thousands of heap rows (20–40 ms) and short names with one typo
score below any useful threshold ("wber"/"weber" is 0.4).

Here every spelling one edit away from each query word is written out (a few
hundred for a name), and btree probes on lower(first_name) and lower(last_name)
keep those that are somebody's name — a few microseconds each. The contacts are
then found by those exact names through the composite index (last name, first
name): one or two words are taken as a first name, a last name, or both in either
order. When that finds few, the names one edit from the names found are added
(`around_found`): "Meir" finds Meier, then Maier and Meyer. Longer queries return
None and are left to the trigram step.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, any_, exists, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.contacts.models import Contact

#: Letters tried for insertions and replacements (besides the word's own): German and
#: the accents a German keyboard types easily ("Lopez" finds "López").
ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzäöüßéèáíóúñç")
#: Shorter words are only taken as they are: one edit from "a" is every short word.
MIN_EDITED_LENGTH = 2
MAX_WORDS = 2
#: Longer words are no names; their thousands of spellings would cost tens of milliseconds.
MAX_WORD_LENGTH = 40
FIRST_NAME = func.lower(Contact.first_name)
LAST_NAME = func.lower(Contact.last_name)


def one_edit_away(word: str) -> set[str]:
    """`word` and every spelling one deletion, swap of neighbours, replacement or insertion away."""
    if len(word) < MIN_EDITED_LENGTH:
        return {word}
    letters = sorted(ALPHABET | set(word))
    spellings = {word}
    for at in range(len(word)):
        head, tail = word[:at], word[at + 1:]
        spellings.add(head + tail)
        if tail:
            spellings.add(head + tail[0] + word[at] + tail[1:])
        spellings.update(head + letter + tail for letter in letters)
    for at in range(len(word) + 1):
        spellings.update(word[:at] + letter + word[at:] for letter in letters)
    return {spelling for spelling in spellings if len(spelling) >= 2}


@dataclass(frozen=True)
class NameSpellings:
    """The spellings tried for each query word and those that are somebody's name."""

    words: tuple[str, ...]
    #: Per query word, the spellings looked up.
    tried: tuple[frozenset[str], ...]
    #: A single word split in two: ("javier", "baumann") for "javierbaumann".
    halves: tuple[tuple[str, str], ...]
    first: frozenset[str]
    last: frozenset[str]

    def condition(self) -> ColumnElement:
        """Contacts with those names: one word as a first or a last name, two as both in either order."""
        first, last = self.first, self.last
        if len(self.tried) == 1:
            (word,) = self.tried
            glued = [_any_of([one], [two]) for one, two in self.halves if one in first and two in last]
            return or_(_any_of(sorted(first & word), sorted(last & word), either=True), *glued)
        one, two = self.tried
        return or_(_any_of(sorted(first & one), sorted(last & two)), _any_of(sorted(first & two), sorted(last & one)))


def similar_names(session: Session, needle: str) -> NameSpellings | None:
    """The names one typo away from each word of a one or two word `needle`.

    A single word may also be a first and a last name written together. None when the
    needle has more words than a first and a last name (or a word no name is as long
    as); the condition matches nothing when no spelling is anybody's name.
    """
    words = needle.split()
    if not 1 <= len(words) <= MAX_WORDS or max(map(len, words)) > MAX_WORD_LENGTH:
        return None
    tried = tuple(frozenset(one_edit_away(word)) for word in words)
    # The one typo may be a lost space: "JavierBaumann" is a first and a last name.
    halves = tuple((words[0][:at], words[0][at:]) for at in range(2, len(words[0]) - 1)) if len(words) == 1 else ()
    first, last = _existing_names(session, set().union(*tried, *halves))
    return NameSpellings(tuple(words), tried, halves, frozenset(first), frozenset(last))


def around_found(session: Session, found: NameSpellings) -> NameSpellings:
    """`found` widened by the names one edit away from the names it found.

    "Meir" is one edit from Meier but two from Maier; people expect both (and Meyer).
    Widening from real names keeps that to a few hundred probes per name found; a
    word that is a name as typed ("Hans" in "Hans Meir") is not widened.
    """
    names = found.first | found.last
    tried = []
    more: set[str] = set()
    for word, spellings in zip(found.words, found.tried, strict=True):
        wider = set(spellings)
        if word not in names:
            for name in names & spellings:
                wider |= one_edit_away(name)
        tried.append(frozenset(wider))
        more |= wider - spellings
    first, last = _existing_names(session, more) if more else (set(), set())
    return NameSpellings(found.words, tuple(tried), found.halves, found.first | first, found.last | last)


def _any_of(firsts: list[str], lasts: list[str], *, either: bool = False) -> ColumnElement:
    first = FIRST_NAME == any_(literal(firsts, ARRAY(String))) if firsts else None
    last = LAST_NAME == any_(literal(lasts, ARRAY(String))) if lasts else None
    if either:
        parts = [part for part in (first, last) if part is not None]
        return or_(*parts) if parts else false()
    return and_(first, last) if first is not None and last is not None else false()


def _existing_names(session: Session, spellings: set[str]) -> tuple[set[str], set[str]]:
    """(first names, last names) among `spellings`: one index probe per spelling and column."""
    value = func.unnest(literal(sorted(spellings), ARRAY(String))).column_valued("spelling")
    query = select(value,
                   exists().where(FIRST_NAME == value).label("first"),
                   exists().where(LAST_NAME == value).label("last"))
    first, last = set(), set()
    for spelling, is_first, is_last in session.execute(query):
        if is_first:
            first.add(spelling)
        if is_last:
            last.add(spelling)
    return first, last
