"""Evidence bundles: a zip or a folder of raw captures under their conventional names.

``load`` reads one, ``from_files`` parses captures already in memory, ``write_zip`` writes what
``collect`` gathered. Each source is parsed by its own parser; a source that fails is recorded
in ``problems`` and the others still count. Unknown files are kept as they are.
"""

import contextlib
import json
import lzma
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from odfix.errors import BadInput, IOFailure
from odfix.evidence import (
    aad_text,
    connectivity,
    credentials,
    dsregcmd,
    network,
    office_identity,
    onedrive,
    recognise,
)
from odfix.evidence.aad_events import AadEventLog
from odfix.evidence.common import decode, load_json
from odfix.evidence.connectivity import ConnectivityReport
from odfix.evidence.credentials import CredentialList
from odfix.evidence.dsregcmd import DsregStatus
from odfix.evidence.network import NetworkState
from odfix.evidence.office_identity import OfficeIdentity
from odfix.evidence.onedrive import OneDriveState

MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""Largest capture accepted (a 500-event AAD log is a few MB)."""
MAX_TOTAL_BYTES = 256 * 1024 * 1024
"""Largest bundle accepted, all files together."""

CONVENTIONAL_NAMES = (
    "dsregcmd_status.txt", "cmdkey_list.txt", "credentials.json", "aad_operational.xml",
    "onedrive.reg", "office_identity.reg", "winhttp_proxy.txt", "internet_settings.reg",
    "schannel.reg", "connectivity.json", "manifest.json", "facts.json",
    "aad_operational.evtx", "aad_operational.txt",
)
AAD_NAMES = ("aad_operational.xml", "aad_operational.evtx", "aad_operational.txt")
"""The AAD log as wevtutil XML, a saved .evtx, or Format-List / Event Viewer text."""


class CollectorRun(BaseModel):
    """What one collector did: ``ok``, ``failed`` or ``skipped``, and why."""

    name: str
    file: str
    status: str
    reason: str | None = None


class Manifest(BaseModel):
    """``manifest.json``: who, where and when a bundle was collected, and how each source went."""

    model_config = ConfigDict(extra="allow")

    odfix_version: str | None = None
    time: datetime | None = None
    host_name: str | None = None
    context: str | None = None
    windows_build: str | None = None
    collectors: list[CollectorRun] = []


class Evidence(BaseModel):
    """The parsed sources of one PC; a missing or unreadable source is None."""

    dsregcmd: DsregStatus | None = None
    credentials: CredentialList | None = None
    onedrive: OneDriveState | None = None
    aad_events: AadEventLog | None = None
    network: NetworkState | None = None
    office_identity: OfficeIdentity | None = None
    connectivity: ConnectivityReport | None = None


class Bundle(BaseModel):
    """One PC's evidence: raw files (by conventional name), manifest, parsed facts, problems."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    name: str
    manifest: Manifest | None = None
    files: dict[str, bytes]
    evidence: Evidence
    problems: list[str] = []


Parser = Callable[[Mapping[str, bytes]], Any]


def _credentials(files: Mapping[str, bytes]) -> CredentialList | None:
    if "credentials.json" in files:
        return credentials.parse_json(files["credentials.json"])
    if "cmdkey_list.txt" in files:
        return credentials.parse_cmdkey(files["cmdkey_list.txt"])
    return None


def _single(name: str, parse: Callable[[bytes], Any]) -> Parser:
    return lambda files: parse(files[name]) if name in files else None


def _aad_events(files: Mapping[str, bytes]) -> AadEventLog | None:
    name = next((n for n in AAD_NAMES if n in files), None)
    return aad_text.parse_capture(files[name], name) if name else None


SOURCES: dict[str, tuple[tuple[str, ...], Parser]] = {
    "dsregcmd": (("dsregcmd_status.txt",), _single("dsregcmd_status.txt", dsregcmd.parse)),
    "credentials": (("credentials.json", "cmdkey_list.txt"), _credentials),
    "onedrive": (("onedrive.reg",), _single("onedrive.reg", onedrive.parse)),
    "aad_events": (AAD_NAMES, _aad_events),
    "network": (("winhttp_proxy.txt", "internet_settings.reg", "schannel.reg"),
                network.from_files),
    "office_identity": (("office_identity.reg",),
                        _single("office_identity.reg", office_identity.parse)),
    "connectivity": (("connectivity.json",), _single("connectivity.json", connectivity.parse)),
}
"""Each Evidence field: the files it reads and the parser that builds it."""


def _manifest(files: Mapping[str, bytes], problems: list[str]) -> Manifest | None:
    if "manifest.json" not in files:
        return None
    try:
        return Manifest.model_validate(load_json(decode(files["manifest.json"]), ""))
    except BadInput as error:
        problems.append(f"manifest.json: unreadable ({error.message.removeprefix(': ')})")
    except (ValueError, ValidationError) as error:
        problems.append(f"manifest.json: unreadable ({str(error).splitlines()[0]})")
    return None


def from_files(files: Mapping[str, bytes], name: str, problems: Sequence[str] = ()) -> Bundle:
    """Parse captures held in memory (keys are file names; conventional names are matched
    case-insensitively); ``problems`` met while reading them are kept first."""
    by_name = {_conventional(key): data for key, data in files.items()}
    problems = list(problems)
    _recognise_others(by_name, problems)
    parsed: dict[str, Any] = {}
    for field, (names, parse) in SOURCES.items():
        try:
            parsed[field] = parse(by_name)
        except BadInput as error:
            problems.append(error.message)
        except Exception as error:  # one source's parser bug must not lose the others
            present = ", ".join(n for n in names if n in by_name)
            problems.append(f"{present}: parser failed ({type(error).__name__}: {error})")
        else:
            problems += _notes(parsed[field])
    return Bundle(name=name, manifest=_manifest(by_name, problems), files=by_name,
                  evidence=Evidence(**parsed), problems=problems)


def _recognise_others(by_name: dict[str, bytes], problems: list[str]) -> None:
    """A file under another name (``dsreg.txt``, ``Microsoft-Windows-AAD%4Operational.evtx``)
    is read as the capture its content shows, when that capture is not there already."""
    for name in [n for n in by_name if n not in CONVENTIONAL_NAMES]:
        kind = recognise.kind_of(by_name[name])
        taken = kind in AAD_NAMES and any(n in by_name for n in AAD_NAMES)
        if kind is None or kind in by_name or taken:
            continue
        by_name[kind] = by_name[name]
        problems.append(f"{name}: read as {kind} (recognised by its content)")


def _notes(parsed: Any) -> list[str]:
    """What the parsers noted about their captures (skipped lines, a cut); each note names its
    file (the network state's parts carry their own)."""
    if isinstance(parsed, ConnectivityReport):
        return []  # connectivity.json keeps its own notes
    found: list[str] = []
    parts = ("winhttp", "internet_settings", "schannel")
    for item in (parsed, *(getattr(parsed, part, None) for part in parts)):
        source = getattr(item, "source", None)
        for note in getattr(item, "notes", None) or []:
            found.append(note if not source or note.startswith(source) else f"{source}: {note}")
    return found


def _conventional(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    return base.lower() if base.lower() in CONVENTIONAL_NAMES else base


def load(path: str | Path) -> Bundle:
    """Read a bundle zip or a folder of raw captures; unreadable input raises ``BadInput``.

    The path is taken literally (a file named ``*`` is that file, never a pattern).
    """
    where = Path(path)
    try:
        mode = where.stat().st_mode
    except OSError as error:
        raise BadInput(f"{where}: no such file or folder ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        files, problems = _read_folder(where)
        return from_files(files, where.name, problems)
    if not stat.S_ISREG(mode):
        raise BadInput(f"{where}: not a regular file (a device, pipe or socket is never read)")
    if zipfile.is_zipfile(where):
        return from_files(_read_zip(where), where.stem)
    return _single_capture(where)


def _single_capture(where: Path) -> Bundle:
    """One capture given alone (``odfix diagnose dsregcmd.txt``), recognised by its content."""
    try:
        data = _read_member(where, where.resolve().parent)
    except (OSError, _Skip) as error:
        raise BadInput(f"{where}: cannot be read ({error})") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise BadInput(f"{where}: too large for an evidence file ({len(data)} bytes)")
    kind = recognise.kind_of(data) or _conventional(where.name)
    if kind not in CONVENTIONAL_NAMES and where.suffix.lower() == ".zip":
        raise BadInput(f"{where}: not a readable zip file (File is not a zip file)")
    if kind not in CONVENTIONAL_NAMES:
        raise BadInput(f"{where}: neither a zip nor a capture odfix recognises (tried: "
                       f"{recognise.TRIED})")
    return from_files({kind: data}, where.stem, [f"{where.name}: read as {kind}"] if
                      kind != where.name.lower() else [])


def _read_folder(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """The regular files of a folder; anything else is skipped with a problem note.

    Subfolders and hidden files are ignored. A link is followed only to a regular file inside
    the folder; devices, pipes and sockets are never opened for reading, and a file that
    cannot be read is a note, not a failure.
    """
    files: dict[str, bytes] = {}
    problems: list[str] = []
    root = folder.resolve()
    total = 0
    for item in sorted(folder.iterdir()):
        if item.name.startswith("."):
            continue
        try:
            data = _read_member(item, root)
        except OSError as error:
            problems.append(f"{item.name}: skipped: cannot be read ({error.strerror or error})")
            continue
        except _Skip as skip:
            if skip.reason:
                problems.append(f"{item.name}: skipped: {skip.reason}")
            continue
        total += len(data)
        if len(data) > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise BadInput(f"{item}: too large for an evidence file ({len(data)} bytes)")
        files[item.name] = data
    return files, problems


class _Skip(Exception):
    """A folder entry that is not read; ``reason`` is empty for ones skipped silently."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def _read_member(item: Path, root: Path) -> bytes:
    if item.is_symlink() and not item.resolve().is_relative_to(root):
        raise _Skip("a link to a place outside the evidence folder")
    mode = item.stat().st_mode
    if stat.S_ISDIR(mode):
        raise _Skip()
    if not stat.S_ISREG(mode):
        raise _Skip("not a regular file (a device, pipe or socket is never read)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(item, flags), "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise _Skip("not a regular file (a device, pipe or socket is never read)")
        return stream.read(MAX_MEMBER_BYTES + 1)


def _read_zip(archive: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(archive) as opened:
            return _zip_members(archive, opened)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError,
            NotImplementedError, RuntimeError, ValueError) as error:
        # damaged data, unsupported compression, encrypted members: all "cannot read this zip"
        raise BadInput(f"{archive}: not a readable zip file ({error})") from error


def _zip_members(archive: Path, opened: zipfile.ZipFile) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for info in opened.infolist():
        if info.is_dir():
            continue
        member = PurePosixPath(info.filename.replace("\\", "/"))
        if member.is_absolute() or ".." in member.parts or ":" in info.filename:
            raise BadInput(f"{archive}: refused member {info.filename!r} (path outside the "
                           "bundle)")
        if info.file_size > MAX_MEMBER_BYTES:
            raise BadInput(f"{archive}: refused member {info.filename!r} ({info.file_size} "
                           "bytes is too large)")
        with opened.open(info) as stream:
            data = stream.read(MAX_MEMBER_BYTES + 1)
        total += len(data)
        if len(data) > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise BadInput(f"{archive}: refused member {info.filename!r} (too large)")
        if member.name in files:
            raise BadInput(f"{archive}: two members are named {member.name!r}")
        files[member.name] = data
    return files


def check_output(out: str | Path) -> Path:
    """``out`` as a place a new file can be written, else one clear ``IOFailure``."""
    target = Path(out)
    parent = target.parent
    if target.is_dir():
        raise IOFailure(f"{target}: is a folder; give a file name such as {target / 'pc.zip'}")
    if not parent.is_dir():
        raise IOFailure(f"{target}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise IOFailure(f"{target}: the folder {parent} cannot be written to")
    return target


def write_zip(files: Mapping[str, bytes], manifest: Mapping[str, Any] | BaseModel,
              facts: Mapping[str, Any] | BaseModel, out: str | Path) -> Path:
    """Write captures plus ``manifest.json`` and ``facts.json`` into the zip ``out``.

    The zip is written beside ``out`` under a temporary name and renamed when complete, so a
    full disk or another failure leaves no partial bundle; it raises ``IOFailure``.
    """
    target = check_output(out)
    documents = {"manifest.json": manifest, "facts.json": facts}
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream, \
                zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                if name not in documents:
                    archive.writestr(name, data)
            for name, document in documents.items():
                body = document.model_dump(mode="json") if isinstance(document, BaseModel) \
                    else document
                archive.writestr(name, json.dumps(body, indent=2, ensure_ascii=False,
                                                  default=str) + "\n")
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise IOFailure(f"{target}: cannot write the bundle ({error.strerror or error})") \
            from None
    return target
