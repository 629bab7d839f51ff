"""Reading an uploaded wheel without installing or importing it.

Why so strict: an approved wheel is pip-installed into the environment every tenant's
requests run in. Everything a reviewer needs (manifest, permissions, file list) is read
from the archive as data; the plugin's own code never runs before an operator approved it.

Where the manifest lives: the plugin's top-level package (the first part of its
`kundo.plugins` entry point's module) carries it as `kundo_plugin.json`. The plugin class
loads that same file (`kundo.plugins.sdk.load_manifest`), so both see one manifest.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import importlib.metadata
import json
import re
import stat
import sys
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from flask_babel import gettext as _
from marshmallow import ValidationError
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from kundo.plugins.sdk import ManifestSchema

ENTRY_POINT_GROUP = "kundo.plugins"
MANIFEST_FILE = "kundo_plugin.json"
_ENTRY_POINT_VALUE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
#: Top-level names no plugin may install files into.
_RESERVED_TOP_LEVEL = frozenset({"kundo", "tests", "test", "bin", "lib", "site-packages"})


class WheelRefused(ValueError):
    """The upload is not a wheel Kundo will take; the message says exactly why."""


@dataclass(frozen=True)
class WheelMember:
    name: str
    size: int


@dataclass(frozen=True)
class InspectedWheel:
    """What the marketplace stores about a wheel that passed every check."""

    filename: str
    distribution: str  # canonical name, e.g. "kundo-sample-app"
    version: str
    plugin_id: str
    entry_point: str  # "module:Class"
    manifest: dict
    members: tuple[WheelMember, ...] = field(default_factory=tuple)


def inspect_wheel(path: Path, filename: str) -> InspectedWheel:
    """Check the wheel at `path` (uploaded as `filename`) and read its manifest.

    Raises :class:`WheelRefused` with a message a publisher can act on.
    """
    if not zipfile.is_zipfile(path):
        raise WheelRefused(_("The file is not a wheel: it is not a ZIP archive. Upload the .whl file that "
                             "`pip wheel` or `python -m build` made."))
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise WheelRefused(_("“%(name)s” is not a valid wheel file name (NAME-VERSION-PYTHON-ABI-PLATFORM.whl).",
                             name=filename)) from None
    try:
        with zipfile.ZipFile(path) as archive:
            members = _safe_members(archive)
            dist_info = _dist_info(archive, members, name, version)
            _check_record(archive, members, dist_info)
            ep_name, ep_value = _the_entry_point(archive, members, dist_info)
            manifest = _read_manifest(archive, members, ep_value)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise WheelRefused(_("The wheel is damaged and cannot be read (%(error)s).", error=str(error))) from None
    _check_manifest_matches(manifest, ep_name, version)
    _check_top_level_names(members, dist_info, name)
    return InspectedWheel(
        filename=filename, distribution=str(name), version=str(version), plugin_id=ep_name,
        entry_point=ep_value, manifest=manifest,
        members=tuple(WheelMember(m.filename, m.file_size) for m in members if not m.is_dir()),
    )


def _safe_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Refuse names that would land outside site-packages, links, and start-up hooks."""
    members = archive.infolist()
    for info in members:
        raw = info.filename
        parts = PurePosixPath(raw).parts
        if (raw.startswith(("/", "\\")) or "\\" in raw or ".." in parts or (parts and ":" in parts[0])
                or "\x00" in raw):
            raise WheelRefused(_("The wheel contains the path “%(path)s”, which points outside the install "
                                 "folder. Build the wheel with standard tools.", path=raw))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise WheelRefused(_("The wheel contains a symbolic link (“%(path)s”). Plugins may only contain "
                                 "regular files.", path=raw))
        if len(parts) == 1 and raw.endswith(".pth"):
            raise WheelRefused(_("The wheel contains “%(path)s”: .pth files run code whenever Python starts and "
                                 "are not allowed in plugins.", path=raw))
    return members


def _dist_info(archive: zipfile.ZipFile, members, name, version: Version) -> str:
    """The .dist-info folder, with METADATA whose name and version match the file name."""
    folders = {m.filename.split("/", 1)[0] for m in members if m.filename.split("/", 1)[0].endswith(".dist-info")}
    if len(folders) != 1:
        raise WheelRefused(_("The wheel has no metadata (exactly one *.dist-info folder with METADATA, WHEEL "
                             "and RECORD is needed)."))
    folder = folders.pop()
    names = {m.filename for m in members}
    missing = [f for f in ("METADATA", "WHEEL", "RECORD") if f"{folder}/{f}" not in names]
    if missing:
        raise WheelRefused(_("The wheel's metadata is incomplete: %(files)s missing in %(folder)s.",
                             files=", ".join(missing), folder=folder))
    metadata = HeaderParser().parsestr(archive.read(f"{folder}/METADATA").decode("utf-8", "replace"))
    meta_name, meta_version = metadata.get("Name") or "", metadata.get("Version") or ""
    try:
        same_version = Version(meta_version) == version
    except InvalidVersion:
        same_version = False
    if canonicalize_name(meta_name) != name or not same_version:
        in_file, in_metadata = f"{name} {version}", f"{meta_name} {meta_version}"
        raise WheelRefused(_("The file name says %(file)s but the wheel's metadata says %(meta)s. Rebuild the "
                             "wheel instead of renaming it.", file=in_file, meta=in_metadata))
    return folder


def _check_record(archive: zipfile.ZipFile, members, dist_info: str) -> None:
    """Every file is listed in RECORD with the hash of its content (what pip trusts)."""
    record = archive.read(f"{dist_info}/RECORD").decode("utf-8", "replace").splitlines()
    hashes = {}
    for line in record:
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1]:
            hashes[parts[0]] = parts[1]
    for info in members:
        if info.is_dir() or info.filename == f"{dist_info}/RECORD":
            continue
        expected = hashes.get(info.filename)
        if expected is None:
            raise WheelRefused(_("“%(path)s” is in the wheel but not in its RECORD. Build the wheel with "
                                 "standard tools.", path=info.filename))
        algorithm, _sep, digest = expected.partition("=")
        if algorithm != "sha256":
            raise WheelRefused(_("RECORD lists “%(path)s” with a %(algorithm)s hash; only sha256 is accepted.",
                                 path=info.filename, algorithm=algorithm))
        actual = base64.urlsafe_b64encode(hashlib.sha256(archive.read(info)).digest()).rstrip(b"=").decode()
        if actual != digest:
            raise WheelRefused(_("“%(path)s” does not match its hash in RECORD: the wheel was changed after it "
                                 "was built.", path=info.filename))


def _the_entry_point(archive: zipfile.ZipFile, members, dist_info: str) -> tuple[str, str]:
    """Exactly one entry point in the `kundo.plugins` group, as (name, "module:Class")."""
    path = f"{dist_info}/entry_points.txt"
    entries: list[tuple[str, str]] = []
    if path in {m.filename for m in members}:
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.optionxform = str  # entry-point names are case-sensitive
        try:
            parser.read_string(archive.read(path).decode("utf-8", "replace"))
        except configparser.Error as error:
            raise WheelRefused(_("entry_points.txt cannot be read: %(error)s", error=str(error))) from None
        if parser.has_section(ENTRY_POINT_GROUP):
            entries = list(parser.items(ENTRY_POINT_GROUP))
    if not entries:
        raise WheelRefused(_("The wheel declares no entry point in the “kundo.plugins” group. Add one to "
                             "pyproject.toml: [project.entry-points.\"kundo.plugins\"] my_app = \"my_app:Plugin\"."))
    if len(entries) > 1:
        raise WheelRefused(_("The wheel declares %(count)d entry points in the “kundo.plugins” group (%(names)s); "
                             "one wheel is one plugin, so declare exactly one.",
                             count=len(entries), names=", ".join(n for n, _v in entries)))
    ep_name, ep_value = entries[0][0].strip(), entries[0][1].strip()
    if not _ENTRY_POINT_VALUE.fullmatch(ep_value):
        raise WheelRefused(_("The entry point “%(name)s = %(value)s” must name a class as module:Class.",
                             name=ep_name, value=ep_value))
    return ep_name, ep_value


def _read_manifest(archive: zipfile.ZipFile, members, ep_value: str) -> dict:
    """The manifest as validated data: `<top-level package>/kundo_plugin.json`."""
    package = ep_value.split(":", 1)[0].split(".", 1)[0]
    path = f"{package}/{MANIFEST_FILE}"
    if path not in {m.filename for m in members}:
        raise WheelRefused(_("The wheel has no manifest: %(path)s is missing. Ship the manifest as package data "
                             "next to the plugin's code (see plugins/README.md).", path=path))
    try:
        raw = json.loads(archive.read(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise WheelRefused(_("The manifest %(path)s is not valid JSON: %(error)s", path=path,
                             error=str(error))) from None
    if not isinstance(raw, dict):
        raise WheelRefused(_("The manifest %(path)s must be a JSON object.", path=path))
    try:
        return ManifestSchema().load(raw)
    except ValidationError as error:
        raise WheelRefused(_("The manifest is not valid: %(errors)s", errors=describe_errors(error.messages))) \
            from None


def describe_errors(messages, prefix: str = "") -> str:
    """marshmallow's nested messages as one line: `id: ...; price.model: ...`."""
    if isinstance(messages, dict):
        return "; ".join(describe_errors(value, f"{prefix}{key}." if prefix or key != "_schema" else "")
                         for key, value in messages.items())
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return f"{prefix.rstrip('.')}: {' '.join(messages)}" if prefix else " ".join(messages)
    return f"{prefix.rstrip('.')}: {messages}"


def _check_manifest_matches(manifest: dict, ep_name: str, version: Version) -> None:
    if manifest["id"] != ep_name:
        raise WheelRefused(_("The manifest's id is “%(id)s” but the entry point is named “%(name)s”; they must "
                             "be the same.", id=manifest["id"], name=ep_name))
    if Version(manifest["version"]) != version:
        raise WheelRefused(_("The manifest says version %(manifest)s but the wheel is version %(wheel)s.",
                             manifest=manifest["version"], wheel=str(version)))
    if manifest.get("first_party"):
        raise WheelRefused(_("Only Kundo's own hubs may set “first_party” in their manifest."))


def _check_top_level_names(members, dist_info: str, name) -> None:
    """A plugin must not install files into Kundo, the standard library or another distribution."""
    data_folder = dist_info.removesuffix(".dist-info") + ".data"
    owners = importlib.metadata.packages_distributions()
    for top in sorted({m.filename.split("/", 1)[0] for m in members} - {dist_info}):
        if top == data_folder:
            raise WheelRefused(_("The wheel installs files outside its package (%(folder)s: scripts, headers or "
                                 "data); plugins may only contain their package.", folder=top))
        module = top.removesuffix(".py")
        taken_by = [d for d in owners.get(module, []) if canonicalize_name(d) != name]
        if module in _RESERVED_TOP_LEVEL or module in sys.stdlib_module_names or taken_by:
            raise WheelRefused(_("The wheel would install “%(name)s”, which belongs to %(owner)s. Give the "
                                 "plugin a package name of its own.", name=module,
                                 owner=", ".join(taken_by) or "Kundo or Python"))
