"""Typo-tolerant search over contacts and companies: names, e-mails, domains, phone numbers.

pg_trgm compares trigrams, so "Schmitd" still finds "Schmidt". Each branch asks
`query <% expression` (word similarity: the query resembles some part of the text),
which the GIN trigram indexes of the tenant migration answer, and ranks by the
similarity itself. Phone numbers are matched on their digits; a leading national
0 ("030 …") also finds the international spelling ("+49 30 …").

The thresholds are set for the transaction only: a lower word-similarity threshold
than pg_trgm's 0.6 lets one typo in a short name through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Float, String, func, literal, select, text, union_all
from sqlalchemy.orm import Session

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.fields import CONTACT_NAME
from kundo.crm.lists.service import contact_items

WORD_SIMILARITY_THRESHOLD = 0.5
#: How many candidates each branch ranks before the best are merged.
BRANCH_FACTOR = 2
MIN_PHONE_DIGITS = 3


@dataclass(frozen=True)
class SearchResults:
    contacts: list[dict]
    companies: list[dict]


def _similar(query: str, expression):
    """(condition, score): `query <% expression` and its word similarity."""
    return expression.bool_op("%>")(query), func.word_similarity(query, expression)


def _phone_patterns(query: str) -> list[str]:
    digits = re.sub(r"\D", "", query)
    if len(digits) < MIN_PHONE_DIGITS or len(digits) * 2 < len(re.sub(r"\s", "", query)):
        return []
    patterns = [digits]
    if digits.startswith("0") and not digits.startswith("00") and len(digits) > MIN_PHONE_DIGITS:
        patterns.append(digits[1:])
    return patterns


def _branch(model, score, condition, matched: str, limit: int, *extra):
    return (
        select(model.id.label("id"), score.cast(Float).label("score"), literal(matched, String).label("matched"))
        .where(condition, *extra).order_by(score.desc(), model.id).limit(limit)
    )


def _best(session: Session, branches: list, limit: int) -> list[tuple[int, float, str]]:
    """The best hit per record over all branches, best first."""
    if not branches:
        return []
    rows = session.execute(union_all(*(branch.subquery().select() for branch in branches))).all()
    best: dict[int, tuple[float, str]] = {}
    for record_id, score, matched in rows:
        if record_id not in best or score > best[record_id][0]:
            best[record_id] = (score, matched)
    ranked = sorted(best.items(), key=lambda hit: (-hit[1][0], hit[0]))[:limit]
    return [(record_id, score, matched) for record_id, (score, matched) in ranked]


def search(session: Session, query: str, *, limit: int = 10) -> SearchResults:
    """Contacts and companies resembling `query`, best first (at most `limit` of each)."""
    needle = " ".join(query.lower().split())
    if len(needle) < 2:
        return SearchResults([], [])
    session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :value, true)"),
                    {"value": str(WORD_SIMILARITY_THRESHOLD)})
    per_branch = limit * BRANCH_FACTOR
    return SearchResults(_contacts(session, needle, limit, per_branch), _companies(session, needle, limit, per_branch))


def _contacts(session: Session, needle: str, limit: int, per_branch: int) -> list[dict]:
    listed = Contact.erased_at.is_(None)
    condition, score = _similar(needle, CONTACT_NAME)
    branches = [_branch(Contact, score, condition, "name", per_branch, listed)]
    email = func.lower(ContactEmail.email)
    condition, score = _similar(needle, email)
    branches.append(
        select(ContactEmail.contact_id.label("id"), score.cast(Float).label("score"),
               literal("email", String).label("matched"))
        .where(condition).order_by(score.desc(), ContactEmail.contact_id).limit(per_branch)
    )
    for pattern in _phone_patterns(needle):
        # A digit fragment either occurs or not; shorter numbers around it rank higher.
        found = Contact.phone_digits.like(f"%{pattern}%")
        score = func.word_similarity(pattern, Contact.phone_digits)
        branches.append(_branch(Contact, score, found, "phone", per_branch, listed))
    ranked = _best(session, branches, limit * BRANCH_FACTOR)
    if not ranked:
        return []
    contacts = {contact.id: contact for contact in session.scalars(
        select(Contact).where(Contact.id.in_([record_id for record_id, _score, _m in ranked]), listed))}
    hits = []
    for item in contact_items(session, [contacts[record_id] for record_id, _s, _m in ranked if record_id in contacts]):
        score, matched = next((s, m) for record_id, s, m in ranked if record_id == item["id"])
        hits.append({"id": item["id"], "name": item["name"] or item["email"] or f"#{item['id']}",
                     "email": item["email"], "phone": item["phone"], "company_name": item["company_name"],
                     "matched": matched, "score": round(score, 3)})
    return hits[:limit]


def _companies(session: Session, needle: str, limit: int, per_branch: int) -> list[dict]:
    branches = []
    for matched, expression in (("name", func.lower(Company.name)),
                                ("domain", func.lower(func.coalesce(Company.domain, "")))):
        condition, score = _similar(needle, expression)
        branches.append(_branch(Company, score, condition, matched, per_branch))
    ranked = _best(session, branches, limit)
    if not ranked:
        return []
    companies = {company.id: company for company in session.scalars(
        select(Company).where(Company.id.in_([record_id for record_id, _s, _m in ranked])))}
    return [
        {"id": record_id, "name": companies[record_id].name, "domain": companies[record_id].domain,
         "phone": companies[record_id].phone, "matched": matched, "score": round(score, 3)}
        for record_id, score, matched in ranked if record_id in companies
    ]

