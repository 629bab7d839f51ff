"""The marketplace's rules: who may publish, what an upload must be, how a review ends.

Views, the API and the CLI call these; they never commit — the caller commits, so the
audit entry lands with the change it describes.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from packaging.version import Version
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kundo.platform.audit.service import record_audit
from kundo.platform.auth.models import User
from kundo.platform.auth.service import AuthError, valid_email
from kundo.platform.db import db, utcnow, violates_unique
from kundo.plugins.marketplace.models import PluginVersion, Publisher, ReviewStatus
from kundo.plugins.marketplace.storage import TooLarge, keep_artifact, receive_upload
from kundo.plugins.marketplace.wheels import ENTRY_POINT_GROUP, InspectedWheel, WheelRefused, inspect_wheel

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
MAX_CHANGELOG = 10_000
MAX_REASON = 2_000


class MarketplaceError(ValueError):
    """A refusal to show as it is; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- publishers -----------------------------------------------------------------------


def publisher_of(user: User | None) -> Publisher | None:
    if user is None:
        return None
    return db.session.scalar(select(Publisher).where(Publisher.user_id == user.id))


def register_publisher(user: User, *, name: str, website: str, support_email: str) -> Publisher:
    """Make `user` a publisher; the name is what their manifests must say as `publisher`."""
    if publisher_of(user) is not None:
        raise MarketplaceError(_("You are already registered as a publisher."))
    name, website = (name or "").strip(), (website or "").strip()
    if not 2 <= len(name) <= 80:
        raise MarketplaceError(_("Enter a publisher name of 2 to 80 characters."), "name")
    if len(website) > 300 or not _URL.match(website):
        raise MarketplaceError(_("Enter the website as a full address, e.g. https://example.com."), "website")
    try:
        support_email = valid_email(support_email)
    except AuthError as error:
        raise MarketplaceError(str(error), "support_email") from None
    if db.session.scalar(select(Publisher.id).where(func.lower(Publisher.name) == name.lower())):
        raise MarketplaceError(_("A publisher with this name exists already. Choose another name."), "name")
    publisher = Publisher(user_id=user.id, name=name, website=website, support_email=support_email)
    db.session.add(publisher)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        if violates_unique(error, "uq_publishers_name"):
            raise MarketplaceError(_("A publisher with this name exists already. Choose another name."),
                                   "name") from None
        raise
    record_audit("marketplace.publisher_registered", actor_user_id=user.id, target=f"publisher:{publisher.id}",
                 data={"name": name})
    return publisher


# ---- uploads --------------------------------------------------------------------------


def submit_version(publisher: Publisher, stream: BinaryIO, filename: str, *, changelog: str = "") -> PluginVersion:
    """Check an uploaded wheel, store it with its SHA-256 and queue it for review.

    Every refusal raises :class:`MarketplaceError` and leaves nothing behind.
    """
    changelog = (changelog or "").strip()
    if len(changelog) > MAX_CHANGELOG:
        raise MarketplaceError(_("Keep the changelog under %(count)d characters.", count=MAX_CHANGELOG),
                               "changelog")
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not filename:
        raise MarketplaceError(_("Choose a wheel file (.whl) to upload."), "wheel")
    limit = current_app.config["KUNDO"].marketplace_max_bytes
    try:
        upload = receive_upload(stream, limit)
    except TooLarge:
        megabytes = format(limit / 1024 / 1024, "g")
        raise MarketplaceError(_("The file is larger than %(limit)s MB, the most the marketplace accepts.",
                                 limit=megabytes), "wheel") from None
    try:
        if upload.size == 0:
            raise MarketplaceError(_("The file is empty."), "wheel")
        try:
            wheel = inspect_wheel(upload.path, filename)
        except WheelRefused as error:
            raise MarketplaceError(str(error), "wheel") from None
        _check_publishable(publisher, wheel)
        relative = keep_artifact(upload, wheel.plugin_id, filename)
    except BaseException:
        upload.discard()
        raise
    version = PluginVersion(
        plugin_id=wheel.plugin_id, version=wheel.version, publisher_id=publisher.id, manifest=wheel.manifest,
        distribution=wheel.distribution, changelog=changelog, artifact_path=relative,
        files=[{"name": m.name, "size": m.size} for m in wheel.members], sha256=upload.sha256,
        size_bytes=upload.size, status=ReviewStatus.PENDING.value,
    )
    db.session.add(version)
    record_audit("marketplace.version_submitted", actor_user_id=publisher.user_id,
                 target=f"plugin:{wheel.plugin_id}@{wheel.version}",
                 data={"sha256": upload.sha256, "size": upload.size})
    return version


def _check_publishable(publisher: Publisher, wheel: InspectedWheel) -> None:
    """What only the database knows: ownership of the id, and the versions already there."""
    if wheel.manifest["publisher"] != publisher.name:
        raise MarketplaceError(_("The manifest names the publisher “%(manifest)s”, but you publish as "
                                 "“%(publisher)s”. Set \"publisher\": \"%(publisher)s\" in kundo_plugin.json.",
                                 manifest=wheel.manifest["publisher"], publisher=publisher.name), "wheel")
    earlier = db.session.scalars(select(PluginVersion).where(PluginVersion.plugin_id == wheel.plugin_id)).all()
    owners = {v.publisher_id for v in earlier}
    if owners - {publisher.id}:
        raise MarketplaceError(_("The plugin id “%(id)s” belongs to another publisher. Choose an id of your own.",
                                 id=wheel.plugin_id), "wheel")
    if not earlier and _installed_outside_marketplace(wheel.plugin_id, wheel.distribution):
        raise MarketplaceError(_("The plugin id “%(id)s” is taken by a plugin Kundo ships. Choose an id of "
                                 "your own.", id=wheel.plugin_id), "wheel")
    new = Version(wheel.version)
    for version in earlier:
        if Version(version.version) == new:
            raise MarketplaceError(_("Version %(version)s of “%(id)s” was uploaded already. Raise the version "
                                     "number for a new upload.", version=version.version, id=wheel.plugin_id),
                                   "wheel")
    newest = max((Version(v.version) for v in earlier), default=None)
    if newest is not None and new < newest:
        raise MarketplaceError(_("Version %(version)s is older than %(newest)s, the newest uploaded version of "
                                 "“%(id)s”. Upload a newer version.", version=wheel.version, newest=str(newest),
                                 id=wheel.plugin_id), "wheel")


def _installed_outside_marketplace(plugin_id: str, distribution: str) -> bool:
    """A first-party hub's id, or an id some other installed distribution already serves."""
    from packaging.utils import canonicalize_name

    from kundo.plugins.loader import FIRST_PARTY

    if plugin_id in FIRST_PARTY:
        return True
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=plugin_id):
        if entry.dist is None or canonicalize_name(entry.dist.name) != distribution:
            return True
    return False


def versions_of(publisher: Publisher) -> list[PluginVersion]:
    return list(db.session.scalars(select(PluginVersion).where(PluginVersion.publisher_id == publisher.id)
                                   .order_by(PluginVersion.submitted_at.desc(), PluginVersion.id.desc())))


# ---- review ---------------------------------------------------------------------------


def review_queue() -> list[PluginVersion]:
    """Pending versions, oldest first: first come, first reviewed."""
    return list(db.session.scalars(select(PluginVersion).where(PluginVersion.status == ReviewStatus.PENDING.value)
                                   .order_by(PluginVersion.submitted_at, PluginVersion.id)))


def recently_reviewed(limit: int = 20) -> list[PluginVersion]:
    return list(db.session.scalars(select(PluginVersion).where(PluginVersion.reviewed_at.is_not(None))
                                   .order_by(PluginVersion.reviewed_at.desc()).limit(limit)))


def review_version(version: PluginVersion, reviewer: User, *, approve: bool, reason: str = "") -> PluginVersion:
    """Approve or reject a pending version; a rejection needs a reason the publisher will read."""
    if not reviewer.is_operator:
        raise MarketplaceError(_("Only platform operators review plugins."))
    if version.status != ReviewStatus.PENDING.value:
        raise MarketplaceError(_("This version was reviewed already."))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise MarketplaceError(_("Say why the version is rejected: the publisher reads the reason."), "reason")
    if len(reason) > MAX_REASON:
        raise MarketplaceError(_("Keep the reason under %(count)d characters.", count=MAX_REASON), "reason")
    version.status = (ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED).value
    version.review_reason = reason or None
    version.reviewed_by = reviewer.id
    version.reviewed_at = utcnow()
    record_audit(f"marketplace.version_{version.status}", actor_user_id=reviewer.id,
                 target=f"plugin:{version.plugin_id}@{version.version}", data={"reason": reason} if reason else {})
    return version


def find_version(version_id: int) -> PluginVersion | None:
    return db.session.get(PluginVersion, version_id)


def approved_versions() -> list[PluginVersion]:
    return list(db.session.scalars(select(PluginVersion).where(PluginVersion.status == ReviewStatus.APPROVED.value)
                                   .order_by(PluginVersion.plugin_id, PluginVersion.id)))
