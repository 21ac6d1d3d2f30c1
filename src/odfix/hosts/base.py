"""The one protocol every host implements; the fix engine and collectors know nothing else.

Registry keys are written the way ``reg.exe`` writes them (``HKCU\\Software\\Microsoft\\OneDrive``).
Credentials are described, never read: no type here carries secret material.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class Context(StrEnum):
    """The security context odfix runs in."""

    USER = "user"
    ELEVATED = "elevated"
    SYSTEM = "system"


class CredType(IntEnum):
    """``CRED_TYPE_*`` from wincred.h; unknown types are kept as plain ints by callers."""

    GENERIC = 1
    DOMAIN_PASSWORD = 2
    DOMAIN_CERTIFICATE = 3
    DOMAIN_VISIBLE_PASSWORD = 4
    GENERIC_CERTIFICATE = 5
    DOMAIN_EXTENDED = 6


class Persist(IntEnum):
    """``CRED_PERSIST_*`` from wincred.h."""

    SESSION = 1
    LOCAL_MACHINE = 2
    ENTERPRISE = 3


class StoredCredential(BaseModel):
    """What Credential Manager tells about one credential, without its secret blob."""

    model_config = ConfigDict(frozen=True)

    target: str
    type: int
    persist: int | None = None
    user_name: str | None = None
    last_written: datetime | None = None
    comment: str | None = None


RegKind = Literal[
    "REG_SZ", "REG_EXPAND_SZ", "REG_DWORD", "REG_QWORD", "REG_MULTI_SZ", "REG_BINARY", "REG_NONE"
]


class RegValue(BaseModel):
    """One registry value; ``data`` is str, int, list[str] or bytes according to ``kind``."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: RegKind
    data: str | int | list[str] | bytes | None


class CommandResult(BaseModel):
    """The outcome of a command run on the host."""

    argv: list[str]
    exit_code: int
    stdout: str = ""
    stderr: str = ""


@runtime_checkable
class Host(Protocol):
    """A machine odfix observes and changes: a real Windows PC or a simulated one."""

    def context(self) -> Context:
        """The context this process runs in (user, elevated, SYSTEM)."""
        ...

    def hostname(self) -> str:
        """The computer name."""
        ...

    def owner(self) -> str:
        """Whose runs the fix journal keeps for this host: the computer (and, for a simulated
        PC, its scenario and instance); a resume never crosses owners."""
        ...

    def list_credentials(self, prefix: str | None = None) -> list[StoredCredential]:
        """Credentials of the calling user's logon session whose target starts with ``prefix``."""
        ...

    def delete_credential(self, target: str, cred_type: int) -> bool:
        """Delete one credential by (target, type); False if it was not there."""
        ...

    def read_registry(self, key: str, name: str) -> RegValue | None:
        """One value, or None when the key or value is absent."""
        ...

    def list_registry_values(self, key: str) -> list[RegValue]:
        """All values of a key ([] when the key is absent)."""
        ...

    def list_registry_subkeys(self, key: str) -> list[str]:
        """Names of the direct subkeys of a key ([] when the key is absent)."""
        ...

    def write_registry(self, key: str, value: RegValue) -> None:
        """Create the key if needed and set the value."""
        ...

    def delete_registry_value(self, key: str, name: str) -> bool:
        """Delete one value; False if it was not there."""
        ...

    def is_running(self, image: str) -> bool:
        """Whether a process with this image name (``OneDrive.exe``) runs in this session."""
        ...

    def process_started(self, image: str) -> datetime | None:
        """When the newest running process of this image in this session started (UTC)."""
        ...

    def start(self, path: str, args: Sequence[str] = ()) -> None:
        """Start a program without waiting for it."""
        ...

    def stop(self, image: str, timeout: float) -> bool:
        """Ask a program to exit, wait up to ``timeout`` s, then kill it; True if it is gone."""
        ...

    def run(self, argv: Sequence[str], timeout: float = 120.0) -> CommandResult:
        """Run a command to completion and capture its output."""
        ...

    def find_onedrive(self) -> str | None:
        """Path of OneDrive.exe: the per-user install first, then the per-machine ones."""
        ...

    def local_appdata(self) -> str | None:
        """The signed-in user's ``%LOCALAPPDATA%`` (None where it is not the user's: SYSTEM)."""
        ...

    def folder_exists(self, path: str) -> bool:
        """Whether ``path`` is a folder."""
        ...

    def move_folder(self, source: str, target: str) -> None:
        """Rename a folder to a sibling that does not exist yet (``FixFailed`` when it cannot,
        e.g. a program holds a file in it); nothing inside is read or changed."""
        ...

    def open_uri(self, uri: str) -> None:
        """Open a settings page or program for the person (``ms-settings:workplace``)."""
        ...

    def schedule_resume(self, argv: Sequence[str]) -> None:
        """Run ``argv`` once at the next logon (RunOnce)."""
        ...

    def cancel_resume(self) -> None:
        """Remove a pending resume entry, if any."""
        ...

    def reboot(self) -> None:
        """Restart the computer."""
        ...

    def boot_time(self) -> datetime:
        """When the computer last started (UTC)."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a real host blocks; a simulated one advances its clock)."""
        ...
