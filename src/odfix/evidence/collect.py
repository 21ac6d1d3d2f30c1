"""Gather a PC's raw evidence through a Host, under the conventional bundle names.

Commands run through ``host.run``; registry captures are rendered as ``.reg`` files (UTF-16LE
with a BOM, as ``reg export`` writes) from the host's registry calls; credentials are listed as
metadata only (``credentials.json``). Each source is independent: one that fails or cannot run
in this context is recorded in ``manifest.json`` and the others go on.
"""

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from odfix import __version__
from odfix.errors import IOFailure
from odfix.evidence import (
    bundle,
    connectivity,
    credentials,
    network,
    office_identity,
    onedrive,
    regfile,
)
from odfix.evidence.bundle import CollectorRun, Manifest
from odfix.evidence.pseudonymize import pseudonymize
from odfix.hosts.base import Context, Host
from odfix.hosts.private_file import create_private

Needs = Literal["any", "user-session", "elevated"]


@dataclass(frozen=True)
class Collector:
    """One source: the file it writes, how to read it, and the context it needs."""

    name: str
    file: str
    read: Callable[[Host], bytes]
    needs: Needs = "any"


def _command(*argv: str) -> Callable[[Host], bytes]:
    def read(host: Host) -> bytes:
        result = host.run(list(argv))
        if result.exit_code != 0 and not result.stdout.strip():
            detail = result.stderr.strip().splitlines()[0] if result.stderr.strip() else ""
            raise RuntimeError(f"{' '.join(argv)} exited {result.exit_code} {detail}".strip())
        return result.stdout.encode("utf-8")
    return read


def _registry(specs: Sequence[regfile.KeySpec]) -> Callable[[Host], bytes]:
    def read(host: Host) -> bytes:
        sections = regfile.capture_all(host, specs)
        if not sections:
            raise LookupError("registry key not present: " + ", ".join(k for k, _ in specs))
        return regfile.render(sections)
    return read


def _credentials(host: Host) -> bytes:
    return credentials.to_json(host.list_credentials())


COLLECTORS: tuple[Collector, ...] = (
    Collector("dsregcmd", "dsregcmd_status.txt", _command("dsregcmd", "/status")),
    Collector("aad-operational-log", "aad_operational.xml", _command(
        "wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500")),
    Collector("winhttp-proxy", "winhttp_proxy.txt", _command("netsh", "winhttp", "show", "proxy")),
    Collector("credentials", "credentials.json", _credentials, "user-session"),
    Collector("cmdkey", "cmdkey_list.txt", _command("cmdkey", "/list"), "user-session"),
    Collector("onedrive", "onedrive.reg", _registry(onedrive.REGISTRY), "user-session"),
    Collector("office-identity", "office_identity.reg", _registry(office_identity.REGISTRY),
              "user-session"),
    Collector("internet-settings", "internet_settings.reg", _registry(network.INTERNET_SETTINGS),
              "user-session"),
    Collector("schannel", "schannel.reg", _registry(network.SCHANNEL)),
)
"""Every source ``collect`` reads, in order."""


def _connectivity(host: Host) -> bytes:
    return connectivity.check(host, connectivity.Prober()).model_dump_json(indent=1).encode()


CONNECTIVITY = Collector("connectivity", "connectivity.json", _connectivity)
"""The live network test (``odfix collect --connectivity``): DNS, TCP, TLS to Microsoft 365."""

WINDOWS_VERSION_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"


def _skip_reason(needs: Needs, context: Context) -> str | None:
    if needs == "user-session" and context == Context.SYSTEM:
        return "needs the signed-in user's session; odfix runs as SYSTEM here"
    if needs == "elevated" and context == Context.USER:
        return "needs an elevated prompt (Run as administrator)"
    return None


def windows_build(host: Host) -> str | None:
    """``CurrentBuild.UBR`` (e.g. ``22631.4460``) from the registry, or None."""
    build = host.read_registry(WINDOWS_VERSION_KEY, "CurrentBuild")
    if build is None or not isinstance(build.data, str | int):
        return None
    ubr = host.read_registry(WINDOWS_VERSION_KEY, "UBR")
    if ubr is not None and isinstance(ubr.data, int):
        return f"{build.data}.{ubr.data}"
    return str(build.data)


def collect(host: Host, collectors: Sequence[Collector] = COLLECTORS) -> dict[str, bytes]:
    """Raw captures plus ``manifest.json`` and ``facts.json``; never fails as a whole."""
    context = host.context()
    files: dict[str, bytes] = {}
    runs: list[CollectorRun] = []
    for collector in collectors:
        reason = _skip_reason(collector.needs, context)
        if reason is not None:
            runs.append(CollectorRun(name=collector.name, file=collector.file, status="skipped",
                                     reason=reason))
            continue
        try:
            files[collector.file] = collector.read(host)
        except Exception as error:  # one source failing must not lose the others
            runs.append(CollectorRun(name=collector.name, file=collector.file, status="failed",
                                     reason=f"{type(error).__name__}: {error}"))
        else:
            runs.append(CollectorRun(name=collector.name, file=collector.file, status="ok"))
    try:
        build = windows_build(host)
    except Exception as error:
        build = None
        runs.append(CollectorRun(name="windows-build", file="manifest.json", status="failed",
                                 reason=f"{type(error).__name__}: {error}"))
    manifest = Manifest(odfix_version=__version__, time=host.now(), host_name=host.hostname(),
                        context=context.value, windows_build=build, collectors=runs)
    parsed = bundle.from_files(files, host.hostname())
    facts = {"evidence": parsed.evidence.model_dump(mode="json"), "problems": parsed.problems}
    return {**files,
            "manifest.json": (manifest.model_dump_json(indent=2) + "\n").encode(),
            "facts.json": (json.dumps(facts, indent=2, ensure_ascii=False) + "\n").encode()}


class CollectResult(BaseModel):
    """What ``odfix collect`` wrote."""

    bundle: str
    key_file: str | None = None
    collectors: list[CollectorRun]
    problems: list[str]


def run_collect(host: Host, out: Path, *, pseudonymize_with: str | None = None,
                pseudonymize_files: bool = False, with_connectivity: bool = False
                ) -> CollectResult:
    """Collect from ``host`` and write the bundle zip ``out``.

    With ``pseudonymize_files`` identifiers are replaced under ``pseudonymize_with`` (a key
    text) or, without one, under a new random key written beside the bundle as
    ``<bundle>.key`` (keep it private: it links tokens back to nothing, but the same key lets
    two bundles be compared). ``with_connectivity`` adds the live network test.
    """
    bundle.check_output(out)
    files = collect(host, (*COLLECTORS, CONNECTIVITY) if with_connectivity else COLLECTORS)
    key_file: Path | None = None
    pending: Path | None = None
    if pseudonymize_files:
        key = pseudonymize_with
        if key is None:
            key = secrets.token_hex(32)
            key_file = out.with_name(out.name + ".key")
            pending = write_private(key_file, key + "\n")
        files = pseudonymize(files, key.encode())
    manifest = Manifest.model_validate_json(files["manifest.json"])
    facts = json.loads(files["facts.json"])
    try:
        bundle.write_zip(files, manifest, facts, out)
        if pending is not None and key_file is not None:
            os.replace(pending, key_file)
    finally:
        if pending is not None:
            with contextlib.suppress(OSError):
                pending.unlink()
    return CollectResult(bundle=str(out), key_file=str(key_file) if key_file else None,
                         collectors=manifest.collectors, problems=facts["problems"])


def write_private(final: Path, text: str) -> Path:
    """Write ``text`` to a new file beside ``final`` that only the owner can read from its
    creation (``hosts.private_file``: mode 0600, on Windows a DACL of the current user alone;
    never an existing file); returns it for ``os.replace``, which keeps its permissions."""
    pending = final.with_name(f".{final.name}.{secrets.token_hex(4)}")
    try:
        handle = create_private(pending)
    except OSError as error:
        raise IOFailure(f"{final}: cannot create the key file ({error.strerror})") from None
    with os.fdopen(handle, "w", encoding="ascii") as stream:
        stream.write(text)
    return pending
