"""Free-mail domains: an address at gmail.com says nothing about the person's company.

The matcher skips these when it looks for (or creates) a company, and duplicate
detection does not treat "both use gmail.com" as a hint. Brands that exist under many
country domains (yahoo.de, hotmail.co.uk …) are matched by their first label.
"""

from __future__ import annotations

import re

FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "web.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com", "gmx.fr",
    "gmx.li", "mail.de", "email.de", "t-online.de", "freenet.de", "posteo.de", "posteo.net", "mailbox.org",
    "arcor.de", "1und1.de", "online.de", "vodafone.de", "kabelmail.de", "icloud.com", "me.com", "mac.com",
    "aol.com", "aol.de", "aim.com", "msn.com", "proton.me", "pm.me", "protonmail.com", "protonmail.ch",
    "tutanota.com", "tutanota.de", "tuta.io", "tuta.com", "fastmail.com", "hushmail.com", "zoho.com",
    "mail.ru", "yandex.ru", "yandex.com", "bluewin.ch", "laposte.net", "orange.fr", "free.fr", "wanadoo.fr",
    "libero.it", "qq.com", "163.com", "naver.com", "mail.com", "inbox.com", "hey.com",
})

#: First labels of brands that run free mail under many country domains: yahoo.*, hotmail.* …
FREE_MAIL_BRANDS = ("yahoo", "ymail", "hotmail", "outlook", "live", "windowslive", "rocketmail")

#: A brand label directly under a country or generic domain (yahoo.de, hotmail.co.uk), but not
#: a company's sub-domain such as live.acme.com. Valid as Python and as PostgreSQL regex.
BRAND_DOMAIN_PATTERN = r"^[^.]+\.((co|com)\.)?[^.]+$"
_BRAND_DOMAIN = re.compile(BRAND_DOMAIN_PATTERN)


def is_free_mail_domain(domain: str) -> bool:
    domain = (domain or "").strip().lower().rstrip(".")
    if domain in FREE_MAIL_DOMAINS:
        return True
    return domain.split(".", 1)[0] in FREE_MAIL_BRANDS and bool(_BRAND_DOMAIN.match(domain))
