"""Typo-tolerant search over contacts and companies: names, e-mails, domains, phone numbers.

Three tiers, each answered by indexes of the tenant migrations:

1. precise — the query occurs in the name, address or domain (`LIKE '%query%'`);
2. spelling — contacts only, when the first tier found none: names one typo away
   from each query word (`kundo.crm.lists.spelling`), exact btree look-ups, so
   "Nuemann" finds "Neumann" in a few milliseconds at a million contacts;
3. fuzzy — only for the kinds the tiers before found nothing of: the query resembles a
   part of the text (`text %> query`, i.e. pg_trgm word similarity), so "Simens"
   finds "Siemens AG", and contacts with two typos in a word or names of three words
   are still found.

Ranking by similarity needs each candidate row, and a common name has thousands
(a million contacts hold ~2,000 Müllers, and "Schmitd" resembles every Schmidt and
Schmitt). So each branch ranks at most CANDIDATES rows the index found, not all:
when more match, the list shows the best of those, which for such names all look
alike. That keeps every search a few hundred row reads, whatever the tenant's size.

Phone numbers are matched on their digits; a leading national 0 ("030 …") also
finds the international spelling ("+49 30 …"). A query that is a phone number
searches phones only, one with an @ searches addresses (and company domains).

Settings are local to the transaction and put back afterwards: a word-similarity
threshold below pg_trgm's 0.6 lets one typo in a short name through, with
sequential scans off the planner cannot gamble on finding CANDIDATES rows early in
a scan that, for a rare name, would read the whole table, and JIT compilation (which
the planner's row estimates for hundreds of spellings would trigger) costs more than
the queries it would speed up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import Float, String, func, literal, select, text, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.fields import COMPANY_DOMAIN, CONTACT_NAME
from kundo.crm.lists.service import PRIMARY_COMPANY_NAME, PRIMARY_EMAIL, contact_item
from kundo.crm.lists.spelling import around_found, similar_names

WORD_SIMILARITY_THRESHOLD = 0.5
#: Rows each branch ranks at most (see the module docstring).
CANDIDATES = 200
MIN_PHONE_DIGITS = 3
_PHONE_QUERY = re.compile(r"^[\d\s+()/.\-]+$")
_SETTINGS = text(
    "SELECT current_setting('enable_seqscan'), current_setting('jit'), "
    "set_config('pg_trgm.word_similarity_threshold', :threshold, true), set_config('enable_seqscan', 'off', true), "
    "set_config('jit', 'off', true)"
)
_RESTORE = text("SELECT set_config('enable_seqscan', :seqscan, true), set_config('jit', :jit, true)")


@dataclass(frozen=True)
class SearchResults:
    contacts: list[dict]
    companies: list[dict]


@dataclass(frozen=True)
class _Branch:
    kind: str
    matched: str
    id_column: ColumnElement
    #: The lower-cased text the trigram index covers.
    target: ColumnElement
    extra: tuple = ()
    #: The needle this branch compares (phone digits differ from the query).
    needle: str | None = None
    fuzzy: bool = True

    def select(self, needle: str, tier: str, per_branch: int, condition: ColumnElement | None = None):
        needle = self.needle or needle
        if tier == "precise":
            condition = self.target.like(f"%{_like_escaped(needle)}%", escape="\\")
        elif tier == "fuzzy":
            condition = self.target.bool_op("%>")(needle)
        candidates = (select(self.id_column.label("id"), self.target.label("target"))
                      .where(condition, *self.extra).limit(CANDIDATES).subquery())
        score = func.word_similarity(needle, candidates.c.target).cast(Float)
        return (select(literal(self.kind, String).label("kind"), candidates.c.id, score.label("score"),
                       literal(self.matched, String).label("matched"))
                .order_by(score.desc(), candidates.c.id).limit(per_branch))


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phone_needles(query: str) -> list[str]:
    digits = re.sub(r"\D", "", query)
    if len(digits) < MIN_PHONE_DIGITS:
        return []
    needles = [digits]
    if digits.startswith("0") and not digits.startswith("00") and len(digits) > MIN_PHONE_DIGITS:
        needles.append(digits[1:])
    return needles


_FOLDED = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


def _folded(needle: str) -> str:
    """"müller" → "mueller": how umlauts are spelled in e-mail addresses and domains."""
    return "".join(_FOLDED.get(char, char) for char in needle)


def _unfolded(needle: str) -> str:
    """"mueller" → "müller": how a person without umlauts on the keyboard types a name."""
    for umlaut, spelled in _FOLDED.items():
        if umlaut != "ß":
            needle = needle.replace(spelled, umlaut)
    return needle


def _branches(needle: str) -> list[_Branch]:
    """What to search for this query: phones for a number, addresses for an @, names for words.

    E-mail addresses and domains contain no spaces, so a query with one only searches
    names; a single word with a dot searches addresses and companies. German spellings
    are tried both ways, precisely: "Mueller" finds "Müller", "Müller" finds
    "j.mueller@…".
    """
    listed = (Contact.erased_at.is_(None),)
    if _PHONE_QUERY.match(needle) and _phone_needles(needle):
        return [_Branch("contact", "phone", Contact.id, Contact.phone_digits, listed, needle=digits, fuzzy=False)
                for digits in _phone_needles(needle)]
    name = _Branch("contact", "name", Contact.id, CONTACT_NAME, listed)
    company = _Branch("company", "name", Company.id, func.lower(Company.name))
    email = _Branch("contact", "email", ContactEmail.contact_id, func.lower(ContactEmail.email))
    domain = _Branch("company", "domain", Company.id, COMPANY_DOMAIN)
    if "@" in needle:
        domain_part = needle.rpartition("@")[2]
        return [email] + ([replace(domain, needle=domain_part)] if len(domain_part) >= 3 else [])
    if " " in needle:
        branches = [name, company]
    elif "." in needle:  # "anna.sch", "siemens.com": an address or a domain, hardly a name
        branches = [email, company, domain]
    else:  # a word: a name most likely; addresses only where it occurs exactly
        branches = [name, replace(email, fuzzy=False), company, domain]
    unfolded, folded = _unfolded(needle), _folded(needle)
    if unfolded != needle:
        branches += [replace(branch, needle=unfolded, fuzzy=False) for branch in (name, company)]
    if folded != needle and " " not in needle:
        branches += [replace(branch, needle=folded, fuzzy=False) for branch in (email, domain)]
    return branches


def search(session: Session, query: str, *, limit: int = 10) -> SearchResults:
    """Contacts and companies resembling `query`, best first (at most `limit` of each)."""
    needle = " ".join(query.lower().split())
    if len(needle) < 2:
        return SearchResults([], [])
    seqscan, jit, *_set = session.execute(_SETTINGS, {"threshold": str(WORD_SIMILARITY_THRESHOLD)}).one()
    hits = _ranked_hits(session, needle, _branches(needle), limit)
    results = SearchResults(_contact_hits(session, hits["contact"], limit),
                            _company_hits(session, hits["company"], limit))
    # After an error the transaction is rolled back, which undoes the local settings too.
    session.execute(_RESTORE, {"seqscan": seqscan, "jit": jit})
    return results


def _ranked_hits(session: Session, needle: str, branches: list[_Branch], limit: int) -> dict[str, list]:
    """{kind: [(id, score, matched), …]} best first.

    All branches precisely first; the next steps only for kinds the steps before
    found nothing of (exact hits are what the person typed, and guesses would only
    bury them): contact names one typo away, then trigram guesses for names and
    companies, then e-mail addresses for a query that looks like one (the costliest
    step: the e-mail index is the largest, and a misspelt name is found in the names).
    """
    best: dict[str, dict[int, tuple[float, str]]] = {"contact": {}, "company": {}}
    names = [b for b in branches if b.fuzzy and b.kind == "contact" and b.matched == "name" and b.needle is None]
    steps = [("precise", branches), ("spelling", names),
             ("fuzzy", [b for b in branches if b.fuzzy and b.matched != "email"]),
             ("fuzzy", [b for b in branches if b.fuzzy and b.matched == "email"])]
    for tier, candidates in steps:
        wanted = [branch for branch in candidates if not best[branch.kind]]
        if not wanted:
            continue
        if tier == "spelling":
            _spelt_names(session, needle, wanted, limit, best)
            continue
        rows = session.execute(union_all(*(branch.select(needle, tier, limit).subquery().select()
                                           for branch in wanted))).all()
        _keep_best(best, rows)
    return {kind: _best_first(found) for kind, found in best.items()}


def _spelt_names(session: Session, needle: str, branches: list[_Branch], limit: int, best: dict) -> None:
    """The spelling step: names one typo away, widened around the names found when they are few."""
    spellings = similar_names(session, needle)
    if spellings is None:
        return
    for widen in (False, True):
        if widen:
            if len(best["contact"]) >= limit or not (spellings.first or spellings.last):
                return
            spellings = around_found(session, spellings)
        rows = session.execute(union_all(*(branch.select(needle, "spelling", limit, spellings.condition())
                                           .subquery().select() for branch in branches))).all()
        _keep_best(best, rows)


def _keep_best(best: dict, rows) -> None:
    for kind, record_id, score, matched in rows:
        if record_id not in best[kind] or score > best[kind][record_id][0]:
            best[kind][record_id] = (score, matched)


def _best_first(found: dict[int, tuple[float, str]]) -> list[tuple[int, float, str]]:
    hits = [(record_id, score, matched) for record_id, (score, matched) in found.items()]
    return sorted(hits, key=lambda hit: (-hit[1], hit[0]))


def _contact_hits(session: Session, ranked: list, limit: int) -> list[dict]:
    if not ranked:
        return []
    wanted = [record_id for record_id, _score, _matched in ranked[: limit * 2]]
    rows = session.execute(select(Contact, PRIMARY_EMAIL, PRIMARY_COMPANY_NAME)
                           .where(Contact.id.in_(wanted), Contact.erased_at.is_(None)))
    items = {contact.id: contact_item(contact, email, company) for contact, email, company in rows}
    hits = []
    for record_id, score, matched in ranked:
        item = items.get(record_id)
        if item is None:
            continue
        hits.append({"id": record_id, "name": item["name"] or item["email"] or f"#{record_id}",
                     "email": item["email"], "phone": item["phone"], "company_name": item["company_name"],
                     "matched": matched, "score": round(score, 3)})
        if len(hits) == limit:
            break
    return hits


def _company_hits(session: Session, ranked: list, limit: int) -> list[dict]:
    ranked = ranked[:limit]
    if not ranked:
        return []
    companies = {company.id: company for company in session.scalars(
        select(Company).where(Company.id.in_([record_id for record_id, _s, _m in ranked])))}
    return [
        {"id": record_id, "name": companies[record_id].name, "domain": companies[record_id].domain,
         "phone": companies[record_id].phone, "matched": matched, "score": round(score, 3)}
        for record_id, score, matched in ranked if record_id in companies
    ]
