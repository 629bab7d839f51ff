"""The public catalogue: one listing per plugin id, built from its approved versions.

A listing shows the newest approved version's manifest; the install count is the number
of workspaces that have the plugin installed (the plugin host's `tenant_plugins`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from packaging.version import Version
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kundo.platform.db import db
from kundo.plugins.marketplace.models import PluginVersion, Publisher, ReviewStatus
from kundo.plugins.sdk import CATEGORIES


@dataclass(frozen=True)
class Listing:
    plugin_id: str
    publisher: Publisher
    latest: PluginVersion
    versions: tuple[PluginVersion, ...]  # approved ones, newest first
    install_count: int

    @property
    def manifest(self) -> dict:
        return self.latest.manifest


def _approved(plugin_id: str | None = None) -> list[PluginVersion]:
    query = (select(PluginVersion).options(joinedload(PluginVersion.publisher))
             .where(PluginVersion.status == ReviewStatus.APPROVED.value))
    if plugin_id is not None:
        query = query.where(PluginVersion.plugin_id == plugin_id)
    return list(db.session.scalars(query))


def install_counts(plugin_ids: list[str]) -> dict[str, int]:
    from kundo.plugins.models import TenantPlugin

    if not plugin_ids:
        return {}
    rows = db.session.execute(select(TenantPlugin.plugin_id, func.count())
                              .where(TenantPlugin.plugin_id.in_(plugin_ids)).group_by(TenantPlugin.plugin_id))
    return dict(rows.all())


def _listings(versions: list[PluginVersion]) -> list[Listing]:
    by_plugin: dict[str, list[PluginVersion]] = defaultdict(list)
    for version in versions:
        by_plugin[version.plugin_id].append(version)
    counts = install_counts(list(by_plugin))
    listings = []
    for plugin_id, found in by_plugin.items():
        found.sort(key=lambda v: Version(v.version), reverse=True)
        listings.append(Listing(plugin_id, found[0].publisher, found[0], tuple(found), counts.get(plugin_id, 0)))
    return listings


def all_listings() -> list[Listing]:
    return _listings(_approved())


def search_listings(listings: list[Listing], query: str = "", category: str = "") -> list[Listing]:
    """Listings matching every word of `query` (name, summary, description, publisher), most installed first."""
    words = [w for w in (query or "").lower().split() if w]
    if category:
        listings = [item for item in listings if category in item.manifest.get("categories", ())]
    if words:
        def haystack(item: Listing) -> str:
            m = item.manifest
            return " ".join((m["name"], m["summary"], m.get("description", ""), item.publisher.name,
                             item.plugin_id)).lower()

        listings = [item for item in listings if all(w in haystack(item) for w in words)]
    return sorted(listings, key=lambda item: (-item.install_count, item.manifest["name"].lower()))


def find_listing(plugin_id: str) -> Listing | None:
    found = _listings(_approved(plugin_id))
    return found[0] if found else None


def category_counts(listings: list[Listing]) -> dict[str, int]:
    counts = dict.fromkeys(CATEGORIES, 0)
    for item in listings:
        for category in item.manifest.get("categories", ()):
            counts[category] = counts.get(category, 0) + 1
    return counts
