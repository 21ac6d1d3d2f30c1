"""The error-code catalog: OneDrive 0x8004de.., WAM 0xCAA.., AADSTS, device registration (0x801C..),
Intune enrolment (0x8018..) and the HRESULT/NTSTATUS codes dsregcmd prints, as validated data.

Codes arrive in many spellings: ``0x8004de40``, ``8004DE40``, ``-2147164608`` (a signed HRESULT
as the AAD event log prints it), ``AADSTS50173`` or just ``50173``. ``normalize_code`` maps them
all to one key: ``0x8004DE40``, ``0xCAA2000C`` or ``AADSTS50173``.
"""

import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from odfix.errors import BadInput
from odfix.guide.load import load_yaml_model

Family = Literal["onedrive", "wam", "aadsts", "dsreg", "mdm", "win32", "ntstatus"]
Category = Literal[
    "password-change", "wrong-password", "sign-in-frequency", "inactivity", "interaction-required",
    "interrupt", "device", "ca-block", "network", "identity-cache", "account-license", "unknown",
]
#: Categories that are an expected step of a sign-in, not a failure (docs/interfaces.md).
NOT_FAILURES: frozenset[str] = frozenset({"interrupt"})
#: What each category means and who acts on it (``odfix explain``; docs/interfaces.md).
CATEGORY_MEANINGS: dict[str, str] = {
    "password-change": "tokens issued before a password change or reset are refused; "
                       "the password-change path",
    "wrong-password": "the user name or password sent was wrong; the user retypes it "
                      "(not a password change)",
    "sign-in-frequency": "a Conditional Access sign-in frequency asks for a new sign-in; the user "
                         "signs in again, the admin reviews the policy",
    "inactivity": "a token, session or sign-in flow expired with time; the user signs in again",
    "interaction-required": "the user has to sign in or complete MFA interactively",
    "interrupt": "an expected step of a sign-in (a prompt shown to the user), not a failure; "
                 "nobody acts",
    "device": "the device is not trusted (deleted, disabled, non-compliant or not joined); "
              "an admin or Intune compliance review",
    "ca-block": "a Conditional Access policy blocked the sign-in; the admin reviews that policy",
    "network": "the PC could not reach or trust the sign-in endpoints; connectivity checks",
    "identity-cache": "the cached Office or broker identities are stale or conflicting",
    "account-license": "the account, its licence or its OneDrive is the problem; an admin",
    "unknown": "not classified",
}
Confidence = Literal["microsoft-doc", "community", "inferred"]

_HEX = re.compile(r"^(?:0x)?([0-9a-f]{8})$", re.IGNORECASE)
_AADSTS = re.compile(r"^(?:aadsts)?([0-9]{1,9})$", re.IGNORECASE)
_SIGNED = re.compile(r"^-[0-9]{1,10}$")
_UNSIGNED = re.compile(r"^[0-9]{10}$")
_CAA_FACILITY = re.compile(r"^0xCAA[0-9A-F]")


class UnknownCode(BadInput):
    """A code that is malformed or not in the catalog (exit 2)."""


class CodeEntry(BaseModel):
    """One error code: what it means, how odfix classifies it, and where the guide goes from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    family: Family
    name: str | None = None
    meaning: str
    category: Category
    confidence: Confidence
    verified: bool = True
    sources: tuple[str, ...] = Field(min_length=1)
    guide_path: tuple[str, ...] = ()
    facility: bool = False

    @model_validator(mode="after")
    def _canonical(self) -> "CodeEntry":
        if normalize_code(self.code) != self.code:
            raise ValueError(f"code {self.code!r} is not in canonical form")
        if self.confidence != "microsoft-doc" and self.verified:
            raise ValueError(f"{self.code}: without a Microsoft source, say verified: false")
        return self


class Facility(BaseModel):
    """A 0xCAA facility group, explaining WAM codes the catalog does not list one by one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = Field(pattern=r"^0xCAA[0-9A-F]$")
    name: str
    meaning: str
    category: Category
    confidence: Confidence
    sources: tuple[str, ...] = Field(min_length=1)
    guide_path: tuple[str, ...] = ()


class CatalogFile(BaseModel):
    """The shape of codes.yaml."""

    model_config = ConfigDict(extra="forbid")

    retrieved: str
    sources: dict[str, str]
    codes: list[CodeEntry]
    facilities: list[Facility]

    @model_validator(mode="after")
    def _references(self) -> "CatalogFile":
        seen: set[str] = set()
        cited: list[CodeEntry | Facility] = [*self.codes, *self.facilities]
        for item in cited:
            missing = [s for s in item.sources if s not in self.sources]
            if missing:
                raise ValueError(f"unknown source id(s) {missing}")
        for entry in self.codes:
            if entry.code in seen:
                raise ValueError(f"duplicate code {entry.code}")
            seen.add(entry.code)
        return self


def normalize_code(text: str | int) -> str:
    """The catalog key for any accepted spelling of a code; raise ``UnknownCode`` when malformed.

    Eight hex digits with the severity bit set (``8..F`` first) are an HRESULT; other plain numbers
    are AADSTS codes; negative numbers are signed 32-bit HRESULTs.
    """
    raw = str(text).strip()
    if _SIGNED.match(raw):
        value = int(raw)
        if value < -(2**31):
            raise UnknownCode(f"{raw!r} is out of range for a 32-bit error code")
        return f"0x{value & 0xFFFFFFFF:08X}"
    hexed = _HEX.match(raw)
    if hexed and (raw.lower().startswith("0x") or not raw.isdecimal() or raw[0] in "89"):
        return f"0x{int(hexed.group(1), 16):08X}"
    aadsts = _AADSTS.match(raw)
    if aadsts:
        return f"AADSTS{int(aadsts.group(1))}"
    if _UNSIGNED.match(raw) and 2**31 <= int(raw) < 2**32:
        return f"0x{int(raw):08X}"
    raise UnknownCode(
        f"{raw!r} is not an error code odfix understands "
        "(try 0x8004de40, -2147164608, 0xCAA2000C or AADSTS50173)"
    )


class Catalog:
    """All catalogued codes with lookups by any spelling."""

    def __init__(self, data: CatalogFile) -> None:
        self.retrieved = data.retrieved
        self.sources = data.sources
        self.entries = {entry.code: entry for entry in data.codes}
        self.facilities = {facility.prefix: facility for facility in data.facilities}

    def find(self, code: str | int) -> CodeEntry | None:
        """The entry for a code (a 0xCAA facility entry when only its group is known), or None."""
        try:
            key = normalize_code(code)
        except UnknownCode:
            return None
        if key in self.entries:
            return self.entries[key]
        facility = self.facilities.get(key[:6]) if _CAA_FACILITY.match(key) else None
        if facility is None:
            return None
        return CodeEntry(
            code=key, family="wam", name=facility.name, meaning=facility.meaning,
            category=facility.category, confidence=facility.confidence,
            sources=facility.sources, guide_path=facility.guide_path, facility=True,
        )

    def lookup(self, code: str | int) -> CodeEntry:
        """Like ``find`` but raise ``UnknownCode`` with a one-line reason."""
        key = normalize_code(code)
        entry = self.find(key)
        if entry is None:
            hint = ""
            if key.startswith("AADSTS"):
                hint = f"; see https://login.microsoftonline.com/error?code={key[6:]}"
            raise UnknownCode(f"{key} is not in odfix's error-code catalog{hint}")
        return entry

    def category_for(self, code: str | int) -> str:
        """The code's category, ``unknown`` when the catalog has nothing on it."""
        entry = self.find(code)
        return entry.category if entry else "unknown"

    def aadsts_categories(self) -> dict[int, str]:
        """AADSTS number → category, for bulk classification (e.g. a DuckDB join table)."""
        return {
            int(code[6:]): entry.category
            for code, entry in self.entries.items()
            if entry.family == "aadsts"
        }


def read_catalog(path: Path, name: str | None = None) -> Catalog:
    """Validate a catalog file; errors name the file, the failing entry's path and its line."""
    return Catalog(load_yaml_model(path, CatalogFile, name=name, error=BadInput))


@cache
def load_catalog() -> Catalog:
    """The packaged catalog (parsed once per process)."""
    return read_catalog(Path(str(files("odfix.guide").joinpath("codes.yaml"))), name="codes.yaml")
