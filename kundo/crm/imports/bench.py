"""Benchmark helpers for the import (used by bench/crm.py; not used by the app).

`sample_contacts_csv` writes a German-Excel-like file with the cases the importer
has to handle at scale: companies shared by many contacts, several phone columns,
tags, lifecycle stages, e-mails repeated inside the file, and (with `existing`) rows
that match contacts already stored. `measure_import` times one run end to end.
"""

from __future__ import annotations

import random
import time

from kundo.crm.imports.runner import run_import
from kundo.tenants.session import TenantScope

_FIRST = ("Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannes", "Ilse", "Jürgen", "Katrin", "Lukas")
_LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Bäcker", "Wagner", "Größer", "Koch", "Özdemir")
_STAGES = ("Lead", "Kunde", "Abonnent", "MQL", "Verkaufschance", "")


def sample_contacts_csv(rows: int, *, companies: int = 5000, in_file_duplicates: float = 0.01,
                        email_offset: int = 0, seed: int = 1) -> bytes:
    """A `;`-separated cp1252 CSV of `rows` contacts (German headers, as Excel writes them).

    E-mails are `person<N>@example.com` with N from `email_offset`, so a second file
    with an overlapping offset re-imports (matches) contacts of the first.
    """
    rng = random.Random(seed)
    lines = ["Vorname;Nachname;E-Mail;Telefon;Mobil;Firma;Website;Position;Lebenszyklusphase;Quelle;Tags"]
    for index in range(rows):
        number = email_offset + index
        if index and rng.random() < in_file_duplicates:
            number = email_offset + rng.randrange(index)
        company = rng.randrange(companies)
        lines.append(";".join((
            rng.choice(_FIRST), rng.choice(_LAST), f"person{number}@example.com",
            f"+49 30 {rng.randrange(10**6, 10**7)}", f"0171 {rng.randrange(10**6, 10**7)}" if index % 3 else "",
            f"Firma {company} GmbH", f"firma{company}.de", "Einkauf", rng.choice(_STAGES), "Messe",
            "vip, newsletter" if index % 5 == 0 else "",
        )))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def measure_import(scope: TenantScope, content: bytes, **options) -> dict:
    """Run an import in the foreground and return its counts and wall time."""
    started = time.perf_counter()
    run = run_import(scope, content, members={}, **options)
    seconds = time.perf_counter() - started
    return {
        "rows": run.total_rows, "seconds": round(seconds, 3),
        "rows_per_second": round(run.total_rows / seconds) if seconds else None,
        "created": run.created_count, "updated": run.updated_count, "skipped": run.skipped_count,
        "failed": run.failed_count, "status": run.status,
    }
