"""Duplicate suggestions: pairs of contacts that are probably one person.

The same e-mail twice cannot happen (unique index on lower(email)), so the hints are:

* ``same_name_same_company``: identical names at the same company;
* ``similar_name_same_company`` / ``similar_name_same_email_domain``: names alike by
  trigram similarity (pg_trgm, "Jon Smith" ~ "John Smith") at the same company or
  with addresses at the same domain (free-mail domains say nothing and are skipped);
* ``same_phone``: a phone number ending in the same nine digits, so `+49 30 1234567`
  and `030 1234567` meet.

Suggestions for one contact use the indexes (e-mail domain, trigram on phone digits);
the workspace-wide list self-joins companies, domains and phones, which is meant for a
review screen or a job, not for every page view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from kundo.crm.matching.freemail import BRAND_DOMAIN_PATTERN, FREE_MAIL_BRANDS, FREE_MAIL_DOMAINS

SIMILARITY_THRESHOLD = 0.5
PHONE_TAIL = 9
_NAME = "lower(coalesce({c}.first_name, '') || ' ' || coalesce({c}.last_name, ''))"
_USEFUL_DOMAIN = ("{d} <> ALL(:free_domains) AND NOT (split_part({d}, '.', 1) = ANY(:free_brands) "
                  "AND {d} ~ :brand_pattern)")
_TAIL = rf"right(regexp_replace(p, '\D', '', 'g'), {PHONE_TAIL})"
_PHONE_OK = r"length(regexp_replace(p, '\D', '', 'g')) >= 7"

#: Pairs sharing a company and/or an e-mail domain, one row per pair (so each name pair is
#: compared once), kept if the names are equal or similar enough.
_WORKSPACE_NAME_PAIRS = f"""
WITH names AS MATERIALIZED (
    SELECT c.id, {_NAME.format(c="c")} AS name FROM contacts c
    WHERE c.erased_at IS NULL AND btrim({_NAME.format(c="c")}) <> ''
), domains AS (
    SELECT DISTINCT contact_id, split_part(lower(email), '@', 2) AS domain FROM contact_emails
), pairs AS (
    SELECT a, b, bool_or(via = 'company') AS via_company, bool_or(via = 'email_domain') AS via_domain FROM (
        SELECT a.contact_id AS a, b.contact_id AS b, 'company' AS via
        FROM contact_companies a
        JOIN contact_companies b ON b.company_id = a.company_id AND b.contact_id > a.contact_id
        UNION ALL
        SELECT a.contact_id, b.contact_id, 'email_domain'
        FROM domains a JOIN domains b ON b.domain = a.domain AND b.contact_id > a.contact_id
        WHERE {_USEFUL_DOMAIN.format(d="a.domain")}
    ) found GROUP BY a, b
)
SELECT p.a, p.b, p.via_company, p.via_domain, na.name = nb.name AS same_name,
       extensions.similarity(na.name, nb.name) AS similarity
FROM pairs p JOIN names na ON na.id = p.a JOIN names nb ON nb.id = p.b
WHERE na.name = nb.name OR extensions.similarity(na.name, nb.name) >= :threshold
"""

_WORKSPACE_PHONE_PAIRS = f"""
WITH tails AS (
    SELECT DISTINCT c.id, {_TAIL} AS tail FROM contacts c, unnest(c.phones) p
    WHERE c.erased_at IS NULL AND {_PHONE_OK}
)
SELECT DISTINCT a.id AS a, b.id AS b FROM tails a JOIN tails b ON b.tail = a.tail AND b.id > a.id
"""

_CONTACT_NAME_PAIRS = f"""
WITH me AS (
    SELECT {_NAME.format(c="c")} AS name FROM contacts c WHERE c.id = :contact_id AND c.erased_at IS NULL
), my_domains AS (
    SELECT DISTINCT split_part(lower(email), '@', 2) AS domain FROM contact_emails WHERE contact_id = :contact_id
), candidates AS (
    SELECT other, bool_or(via = 'company') AS via_company, bool_or(via = 'email_domain') AS via_domain FROM (
        SELECT b.contact_id AS other, 'company' AS via
        FROM contact_companies a
        JOIN contact_companies b ON b.company_id = a.company_id AND b.contact_id <> a.contact_id
        WHERE a.contact_id = :contact_id
        UNION ALL
        SELECT e.contact_id, 'email_domain'
        FROM my_domains d JOIN contact_emails e ON split_part(lower(e.email), '@', 2) = d.domain
        WHERE e.contact_id <> :contact_id AND {_USEFUL_DOMAIN.format(d="d.domain")}
    ) found GROUP BY other
)
SELECT least(c.id, :contact_id) AS a, greatest(c.id, :contact_id) AS b, candidates.via_company,
       candidates.via_domain, {_NAME.format(c="c")} = me.name AS same_name,
       extensions.similarity({_NAME.format(c="c")}, me.name) AS similarity
FROM candidates JOIN contacts c ON c.id = candidates.other CROSS JOIN me
WHERE c.erased_at IS NULL AND btrim(me.name) <> '' AND btrim({_NAME.format(c="c")}) <> ''
  AND ({_NAME.format(c="c")} = me.name OR extensions.similarity({_NAME.format(c="c")}, me.name) >= :threshold)
"""

_CONTACT_PHONE_PAIRS = f"""
WITH my_tails AS (
    SELECT DISTINCT {_TAIL} AS tail FROM contacts c, unnest(c.phones) p
    WHERE c.id = :contact_id AND c.erased_at IS NULL AND {_PHONE_OK}
)
SELECT DISTINCT least(c.id, :contact_id) AS a, greatest(c.id, :contact_id) AS b
FROM my_tails t JOIN contacts c ON c.phone_digits ~ (t.tail || '( |$)')
WHERE c.id <> :contact_id AND c.erased_at IS NULL
"""


@dataclass(frozen=True)
class DuplicateSuggestion:
    contact_ids: tuple[int, int]
    #: Why: same_name_same_company, similar_name_same_company, similar_name_same_email_domain, same_phone.
    reasons: tuple[str, ...]
    #: 0–1; higher is more likely the same person.
    score: float


def find_duplicate_contacts(session: Session, *, contact_id: int | None = None, limit: int = 50,
                            threshold: float = SIMILARITY_THRESHOLD) -> list[DuplicateSuggestion]:
    """Likely duplicate pairs, most likely first; only pairs with `contact_id` if given."""
    params = {"threshold": threshold, "free_domains": sorted(FREE_MAIL_DOMAINS), "free_brands": list(FREE_MAIL_BRANDS),
              "brand_pattern": BRAND_DOMAIN_PATTERN, "contact_id": contact_id}
    name_sql, phone_sql = ((_WORKSPACE_NAME_PAIRS, _WORKSPACE_PHONE_PAIRS) if contact_id is None
                           else (_CONTACT_NAME_PAIRS, _CONTACT_PHONE_PAIRS))
    found: dict[tuple[int, int], dict[str, float]] = {}
    for a, b, via_company, via_domain, same_name, similarity in session.execute(text(name_sql), params):
        reasons = found.setdefault((a, b), {})
        if via_company and same_name:
            reasons["same_name_same_company"] = 1.0
        elif via_company:
            reasons["similar_name_same_company"] = 0.5 + similarity / 2
        if via_domain:
            reasons["similar_name_same_email_domain"] = 0.4 + similarity / 2
    for a, b in session.execute(text(phone_sql), params):
        found.setdefault((a, b), {})["same_phone"] = 0.9
    suggestions = [
        DuplicateSuggestion(pair, tuple(sorted(reasons, key=reasons.get, reverse=True)),
                            round(min(1.0, max(reasons.values()) + 0.05 * (len(reasons) - 1)), 3))
        for pair, reasons in found.items()
    ]
    suggestions.sort(key=lambda suggestion: (-suggestion.score, suggestion.contact_ids))
    return suggestions[:limit]
