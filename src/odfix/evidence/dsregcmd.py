"""``dsregcmd /status``: how to get it, and a section-aware parser with cited, derived facts.

On Windows run ``dsregcmd /status`` in the user's session (not elevated: the SSO and User State
sections need the user) and save the output as ``dsregcmd_status.txt``. Field lines are
``<key right-aligned> : <value>``; the key width differs between builds, so keys are split at their
first colon, matched exactly (case-insensitively) and scoped to their section.
"""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from odfix.evidence.aad_events import aadsts_codes, error_codes
from odfix.evidence.common import PROMPT, Budget, Citation, ParseError, Skipped, iter_lines

JoinType = Literal[
    "entra-joined", "hybrid-joined", "domain-joined", "entra-registered", "none", "unknown"
]

KNOWN_SECTIONS = (
    "Device State",
    "Device Details",
    "Tenant Details",
    "User State",
    "SSO State",
    "Diagnostic Data",
    "Ngc Prerequisite Check",
)
_WORK_ACCOUNT = re.compile(r"Work Account (\d+)", re.IGNORECASE)
_WORKPLACE_KEYS = (
    "WorkplaceDeviceId",
    "WorkplaceThumbprint",
    "WorkplaceTenantId",
    "WorkplaceTenantName",
    "TpmProtected",
)
_OTHER_SECTIONS = re.compile(r"Registration\b.*|(IE|WinHttp)\b.*Proxy Config.*", re.IGNORECASE)
_PROSE = ("for more information", "waiting for diagnostics task")
"""How dsregcmd's own sentences start (a link to its error page, the wait for its diagnostics):
lines it prints that are no field, kept without a note."""
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9 ._()/-]*")
"""What a field's key may hold (matched whole against the text before the first colon)."""
_KEY_SECTIONS = {key.casefold(): section for section, keys in {
    "Device State": ("AzureAdJoined", "EnterpriseJoined", "DomainJoined", "DomainName",
                     "Device Name", "Virtual Desktop"),
    "Device Details": ("DeviceId", "Thumbprint", "DeviceCertificateValidity", "KeyContainerId",
                       "KeyProvider", "TpmProtected", "DeviceAuthStatus"),
    "Tenant Details": ("TenantName", "TenantId", "AuthCodeUrl", "AccessTokenUrl", "MdmUrl",
                       "MdmTouUrl", "MdmComplianceUrl", "JoinSrvUrl", "KeySrvUrl"),
    "User State": ("NgcSet", "NgcKeyId", "CanReset", "WorkplaceJoined", "WorkAccountCount",
                   "WamDefaultSet", "WamDefaultAuthority", "WamDefaultId", "WamDefaultGUID"),
    "SSO State": ("AzureAdPrt", "AzureAdPrtUpdateTime", "AzureAdPrtExpiryTime",
                  "AzureAdPrtAuthority", "EnterprisePrt", "EnterprisePrtUpdateTime",
                  "EnterprisePrtExpiryTime", "EnterprisePrtAuthority", "OnPremTgt", "CloudTgt",
                  "KerbTopLevelNames", "AcquirePrtDiagnostics", "RefreshPrtDiagnostics",
                  "Previous Prt Attempt", "Attempt Status", "User Identity", "Credential Type",
                  "Correlation ID", "Endpoint URI", "HTTP Method", "HTTP Error", "HTTP Status",
                  "Server Error Code", "Server Error Description"),
    "Diagnostic Data": ("Executing Account Name", "AadRecoveryEnabled", "KeySignTest",
                        "User Context", "Client Time", "Previous Registration", "Error Phase",
                        "Client ErrorCode", "Server ErrorCode", "Server Message",
                        "Registration Type", "DisplayNameUpdated", "OsVersionUpdated",
                        "HostNameUpdated", "Last HostName Update"),
}.items() for key in keys}
"""Where each well-known key lives, to place field lines pasted without their section boxes."""
_WRAP_WIDTH = 80
"""A console wraps a line this long or longer onto the next line, at column 0."""
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{1,2}:\d{2}:\d{2})(?P<frac>\.\d+)?\s*(?:UTC|Z)?"
)


class Field(BaseModel):
    """One ``key : value`` line of a section, with the line it came from."""

    model_config = ConfigDict(frozen=True)

    section: str
    key: str
    value: str
    citation: Citation


class Section(BaseModel):
    """One boxed section (``| Device State |``) and its fields in output order."""

    title: str
    citation: Citation
    fields: list[Field] = PydanticField(default_factory=list)
    other_lines: list[Citation] = PydanticField(default_factory=list)

    def get(self, key: str) -> Field | None:
        """The first field named exactly ``key`` (case-insensitive), or None."""
        wanted = key.casefold()
        return next((f for f in self.fields if f.key.casefold() == wanted), None)

    def get_all(self, key: str) -> list[Field]:
        """Every field named exactly ``key`` (a key may repeat inside a section)."""
        wanted = key.casefold()
        return [f for f in self.fields if f.key.casefold() == wanted]


class WorkAccount(BaseModel):
    """An Entra registered (workplace joined) account: ``Work Account N`` or old User State."""

    section: str
    workplace_device_id: str | None = None
    workplace_thumbprint: str | None = None
    workplace_tenant_id: str | None = None
    workplace_tenant_name: str | None = None
    tpm_protected: bool | None = None
    evidence: list[Citation] = PydanticField(default_factory=list)


class PrtDiagnostics(BaseModel):
    """``AcquirePrtDiagnostics`` / ``RefreshPrtDiagnostics : PRESENT`` and the fields after it."""

    kind: Literal["acquire", "refresh"]
    previous_attempt: datetime | None = None
    attempt_status: str | None = None
    user_identity: str | None = None
    credential_type: str | None = None
    correlation_id: str | None = None
    endpoint_uri: str | None = None
    http_method: str | None = None
    http_error: str | None = None
    http_status: str | None = None
    server_error_code: str | None = None
    server_error_description: str | None = None
    aadsts: int | None = None
    codes: list[str] = PydanticField(default_factory=list)
    evidence: list[Citation] = PydanticField(default_factory=list)


class PrtState(BaseModel):
    """Primary Refresh Token facts from SSO State (User State on 2018 builds)."""

    azure_ad_prt: bool | None = None
    update_time: datetime | None = None
    expiry_time: datetime | None = None
    authority: str | None = None
    enterprise_prt: bool | None = None
    enterprise_update_time: datetime | None = None
    enterprise_expiry_time: datetime | None = None
    diagnostics: list[PrtDiagnostics] = PydanticField(default_factory=list)
    evidence: list[Citation] = PydanticField(default_factory=list)

    def age_hours(self, now: datetime) -> float | None:
        """Hours from the last PRT update to ``now`` (aware UTC); None without an update time."""
        if self.update_time is None:
            return None
        return (now - self.update_time).total_seconds() / 3600


class RegistrationDiagnostics(BaseModel):
    """Join diagnostics of Diagnostic Data (pre-join tests and the previous registration)."""

    user_context: str | None = None
    client_time: datetime | None = None
    previous_registration: datetime | None = None
    tests: dict[str, str] = PydanticField(default_factory=dict)
    failed_tests: list[str] = PydanticField(default_factory=list)
    registration_type: str | None = None
    error_phase: str | None = None
    client_error_code: str | None = None
    server_error_code: str | None = None
    server_message: str | None = None
    https_status: str | None = None
    request_id: str | None = None
    aadsts: int | None = None
    codes: list[str] = PydanticField(default_factory=list)
    evidence: list[Citation] = PydanticField(default_factory=list)


class DeviceHealth(BaseModel):
    """Health flags a diagnosis checks; None when the output did not show the field."""

    device_auth_status: str | None = None
    key_sign_test: str | None = None
    tpm_protected: bool | None = None
    aad_recovery_enabled: bool | None = None
    wam_default_set: bool | None = None
    workplace_joined: bool | None = None
    dual_state: bool = False
    certificate_valid_from: datetime | None = None
    certificate_valid_to: datetime | None = None
    evidence: list[Citation] = PydanticField(default_factory=list)


class DsregStatus(BaseModel):
    """A parsed ``dsregcmd /status`` output: its sections, and the facts derived from them."""

    source: str
    sections: list[Section]
    join_type: JoinType
    join_evidence: list[Citation] = PydanticField(default_factory=list)
    device_id: str | None = None
    device_name: str | None = None
    domain_name: str | None = None
    tenant_id: str | None = None
    tenant_name: str | None = None
    user_upn: str | None = None
    work_accounts: list[WorkAccount] = PydanticField(default_factory=list)
    prt: PrtState = PydanticField(default_factory=PrtState)
    registration: RegistrationDiagnostics | None = None
    health: DeviceHealth = PydanticField(default_factory=DeviceHealth)
    notes: list[str] = PydanticField(default_factory=list)
    partial: bool = False
    """Part of an output: field lines without their boxes (``Select-String``), or only some
    sections (an SSO State paste); what is missing is unknown, never NO."""

    def section(self, title: str) -> Section | None:
        """The first section titled ``title`` (case-insensitive), or None."""
        wanted = title.casefold()
        return next((s for s in self.sections if s.title.casefold() == wanted), None)

    def get(self, section: str, key: str) -> Field | None:
        """The field ``key`` of section ``section``, exact names, or None."""
        found = self.section(section)
        return found.get(key) if found else None

    def get_all(self, section: str, key: str) -> list[Field]:
        """Every field ``key`` of every section titled ``section``."""
        wanted = section.casefold()
        return [f for s in self.sections if s.title.casefold() == wanted for f in s.get_all(key)]

    def value(self, section: str, key: str) -> str | None:
        """The value of ``section``/``key``, or None when absent."""
        found = self.get(section, key)
        return found.value if found else None


def parse(data: bytes | str, source: str = "dsregcmd_status.txt") -> DsregStatus:
    """Parse ``dsregcmd /status`` output; raise ParseError when no known section is present."""
    budget = Budget()
    reader = _SectionReader(source, budget)
    sections = reader.read(iter_lines(data))
    if not any(_is_known(s.title) for s in sections):
        raise ParseError(f"{source}: no dsregcmd /status section found")
    status = DsregStatus(source=source, sections=sections, join_type="unknown",
                         notes=reader.notes + budget.note("lines", source))
    status.partial = reader.placed or status.section("Device State") is None
    if status.partial:
        shown = ", ".join(dict.fromkeys(s.title for s in sections))
        status.notes.append(f"{source}: partial output ({shown}): what it does not show is "
                            "unknown")
    _derive(status)
    return status


def parse_time(value: str) -> datetime | None:
    """A dsregcmd time (``2025-07-18 20:10:33.789 UTC``, ISO 8601) as aware UTC, else None."""
    match = _TIME.search(value)
    if match is None:
        return None
    frac = (match["frac"] or ".0")[1:7].ljust(6, "0")
    try:
        parsed = datetime.strptime(f"{match['date']} {match['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return parsed.replace(microsecond=int(frac), tzinfo=UTC)


def _is_known(title: str) -> bool:
    folded = title.casefold()
    return (
        any(folded == known.casefold() for known in KNOWN_SECTIONS)
        or _WORK_ACCOUNT.fullmatch(title) is not None
        or _OTHER_SECTIONS.fullmatch(title) is not None
    )


def _is_separator(text: str) -> bool:
    """``+----…----+`` (``text`` stripped)."""
    return len(text) >= 5 and text[0] == text[-1] == "+" and not text[1:-1].strip("-")


def _header_title(text: str) -> str | None:
    """The title of a ``| Device State |`` or ``+----- SSO State -----+`` line (``text``
    stripped), else None."""
    if len(text) >= 2 and text[0] == text[-1] == "|" and "|" not in text[1:-1]:
        return text[1:-1].strip()
    if len(text) >= 5 and text[0] == text[-1] == "+" and text[1] == text[-2] == "-":
        title = text[1:-1].strip("-").strip()
        return title if title and "-" * 3 not in title and _is_known(title) else None
    return None


def looks_like_dsregcmd(text: str) -> bool:
    """Whether ``text`` shows a dsregcmd section box or field lines with its own key names."""
    known = 0
    for raw in text.splitlines()[:2000]:
        title = _header_title(raw.strip())
        if title is not None and _is_known(title):
            return True
        field = split_field(raw)
        known += field is not None and field[0].casefold() in _KEY_SECTIONS
    return known >= 2


def split_field(raw: str) -> tuple[str, str] | None:
    """``(key, value)`` of a ``key : value`` line, else None; string operations only, linear.

    The key is what precedes the first colon (it must start with a letter); a second colon
    right after the first (``KeySignTest: : PASSED``) is dropped; the value is stripped.
    """
    before, colon, after = raw.partition(":")
    key = before.strip()
    if not colon or _KEY.fullmatch(key) is None:
        return None
    rest = after.lstrip()
    if rest.startswith(":"):
        after = rest[1:]
    return key, after.strip()


class _SectionReader:
    """Lines into sections: boxed or dashed headers; field lines before any header placed by
    their key (``Select-String`` output); a line wrapped by the console joined to its field.
    Any other line (a prompt, an author's ``...``, a Markdown fence) is noted: inside a section
    it is kept in ``other_lines``, before the first one it is skipped."""

    def __init__(self, source: str, budget: Budget) -> None:
        self.source = source
        self.budget = budget
        self.sections: list[Section] = []
        self.notes: list[str] = []
        self.skipped = Skipped(source)
        self.placed = False
        self.current: Section | None = None
        self.previous = ""

    def read(self, text_lines: Iterable[str]) -> list[Section]:
        for number, raw in enumerate(text_lines, start=1):
            if not self.budget.take(number):
                break
            self._line(number, raw)
            self.previous = raw
        self.notes += self.skipped.notes()
        return self.sections

    def _line(self, number: int, raw: str) -> None:
        text = raw.strip()
        if not text or _is_separator(text):
            return
        title = _header_title(text)
        if title is not None:
            self.current = Section(title=title, citation=_cite(self.source, number, raw))
            self.sections.append(self.current)
            return
        if PROMPT.match(raw):
            self.skipped.add(number, raw)
            return
        field = split_field(raw)
        if self.current is None:
            if field is not None and field[0].casefold() in _KEY_SECTIONS:
                self._place(number, raw, field)
            else:
                self.skipped.add(number, raw)
            return
        if field is None and self._wrapped(raw):
            last = self.current.fields[-1]
            self.current.fields[-1] = last.model_copy(update={"value": last.value + text})
            self.notes.append(f"{self.source}: line {number}: joined to {last.key} (the "
                              "console wrapped the line)")
            return
        citation = _cite(self.source, number, raw)
        if field:
            self.current.fields.append(Field(section=self.current.title, key=field[0],
                                             value=field[1], citation=citation))
        else:
            self.current.other_lines.append(citation)
            if not text.casefold().startswith(_PROSE):
                self.skipped.add(number, raw)

    def _wrapped(self, raw: str) -> bool:
        """A line at column 0 right after a field line as wide as the console."""
        return (self.current is not None and bool(self.current.fields)
                and self.current.fields[-1].citation.text == self.previous.rstrip()
                and len(self.previous) >= _WRAP_WIDTH and not raw[:1].isspace())

    def _place(self, number: int, raw: str, field: tuple[str, str]) -> None:
        """A field line outside any box, in the section its key belongs to."""
        title = _KEY_SECTIONS[field[0].casefold()]
        section = next((s for s in self.sections if s.title == title), None)
        citation = _cite(self.source, number, raw)
        if section is None:
            section = Section(title=title, citation=citation)
            self.sections.append(section)
        section.fields.append(Field(section=title, key=field[0], value=field[1],
                                    citation=citation))
        self.placed = True


def _cite(source: str, number: int, raw: str) -> Citation:
    return Citation(file=source, line=number, text=raw.rstrip())


def _yes(field: Field | None) -> bool | None:
    """YES/NO as a bool; anything else (an error text, absence) as None."""
    if field is None:
        return None
    word = field.value.split(" ", 1)[0].upper() if field.value else ""
    return {"YES": True, "NO": False}.get(word)


class _Reader:
    """Looks fields up by (section, key), remembering each line used as evidence."""

    def __init__(self, status: DsregStatus) -> None:
        self.status = status
        self.used: list[Citation] = []

    def field(self, key: str, *sections: str) -> Field | None:
        for section in sections:
            found = self.status.get(section, key)
            if found is not None:
                self.used.append(found.citation)
                return found
        return None

    def text(self, key: str, *sections: str) -> str | None:
        found = self.field(key, *sections)
        return found.value if found and found.value else None

    def time(self, key: str, *sections: str) -> datetime | None:
        found = self.text(key, *sections)
        return parse_time(found) if found else None

    def take(self) -> list[Citation]:
        used, self.used = self.used, []
        return used


def _derive(status: DsregStatus) -> None:
    read = _Reader(status)
    status.device_id = read.text("DeviceId", "Device Details")
    status.device_name = read.text("Device Name", "Device State")
    status.domain_name = read.text("DomainName", "Device State")
    status.tenant_id = read.text("TenantId", "Tenant Details")
    status.tenant_name = read.text("TenantName", "Tenant Details")
    status.user_upn = _upn(read)
    read.take()
    status.health = _health(read)
    status.join_type, status.join_evidence = _join_type(read)
    status.work_accounts = _work_accounts(status)
    status.prt = _prt(status, read)
    status.registration = _registration(read)


def _upn(read: _Reader) -> str | None:
    executing = read.text("Executing Account Name", "Diagnostic Data")
    if executing and "," in executing:
        return executing.rsplit(",", 1)[1].strip() or None
    return read.text("User Identity", "SSO State")


def _join_type(read: _Reader) -> tuple[JoinType, list[Citation]]:
    aad = _yes(read.field("AzureAdJoined", "Device State"))
    enterprise = _yes(read.field("EnterpriseJoined", "Device State"))
    domain = _yes(read.field("DomainJoined", "Device State"))
    registered = _yes(read.field("WorkplaceJoined", "User State"))
    evidence = read.take()
    join: JoinType
    if aad is None or domain is None or (aad and enterprise):
        join = "unknown"
    elif aad:
        join = "hybrid-joined" if domain else "entra-joined"
    elif domain:
        join = "domain-joined"
    elif enterprise:
        join = "unknown"
    else:
        join = "entra-registered" if registered else "none"
    return join, evidence


def _health(read: _Reader) -> DeviceHealth:
    validity = read.text("DeviceCertificateValidity", "Device Details") or ""
    times = [parse_time(part) for part in re.split(r"\s--?\s", validity.strip("[] "))]
    workplace = _yes(read.field("WorkplaceJoined", "User State"))
    aad = _yes(read.field("AzureAdJoined", "Device State"))
    domain = _yes(read.field("DomainJoined", "Device State"))
    recovery = read.field("AadRecoveryEnabled", "Diagnostic Data") or read.field(
        "AadRecoveryNeeded", "Diagnostic Data", "Device State", "Ngc Prerequisite Check"
    )
    key_sign = read.text("KeySignTest", "Diagnostic Data", "Device State")
    return DeviceHealth(
        device_auth_status=read.text("DeviceAuthStatus", "Device Details"),
        key_sign_test=key_sign,
        tpm_protected=_yes(read.field("TpmProtected", "Device Details")),
        aad_recovery_enabled=_yes(recovery),
        wam_default_set=_yes(read.field("WamDefaultSet", "User State")),
        workplace_joined=workplace,
        dual_state=bool(aad and domain and workplace),
        certificate_valid_from=times[0] if len(times) == 2 else None,
        certificate_valid_to=times[1] if len(times) == 2 else None,
        evidence=read.take(),
    )


def _work_accounts(status: DsregStatus) -> list[WorkAccount]:
    sections = [s for s in status.sections if _WORK_ACCOUNT.fullmatch(s.title)]
    user_state = status.section("User State")
    if not sections and user_state is not None and user_state.get("WorkplaceDeviceId"):
        sections = [user_state]
    accounts = []
    for section in sections:
        used = [f for f in (section.get(k) for k in _WORKPLACE_KEYS) if f is not None]
        values = {f.key.casefold(): f.value or None for f in used}
        accounts.append(
            WorkAccount(
                section=section.title,
                workplace_device_id=values.get("workplacedeviceid"),
                workplace_thumbprint=values.get("workplacethumbprint"),
                workplace_tenant_id=values.get("workplacetenantid"),
                workplace_tenant_name=values.get("workplacetenantname"),
                tpm_protected=_yes(section.get("TpmProtected")),
                evidence=[f.citation for f in used],
            )
        )
    return accounts


_DIAG_KEYS = {
    "Previous Prt Attempt": "previous_attempt",
    "Attempt Status": "attempt_status",
    "User Identity": "user_identity",
    "Credential Type": "credential_type",
    "Correlation ID": "correlation_id",
    "Endpoint URI": "endpoint_uri",
    "HTTP Method": "http_method",
    "HTTP Error": "http_error",
    "HTTP Status": "http_status",
    "Server Error Code": "server_error_code",
    "Server Error Description": "server_error_description",
}
_DIAG_BY_KEY = {k.casefold(): v for k, v in _DIAG_KEYS.items()}


def _prt(status: DsregStatus, read: _Reader) -> PrtState:
    where = ("SSO State", "User State")
    state = PrtState(
        azure_ad_prt=_yes(read.field("AzureAdPrt", *where)),
        update_time=read.time("AzureAdPrtUpdateTime", *where),
        expiry_time=read.time("AzureAdPrtExpiryTime", *where),
        authority=_authority(read.text("AzureAdPrtAuthority", *where)),
        enterprise_prt=_yes(read.field("EnterprisePrt", *where)),
        enterprise_update_time=read.time("EnterprisePrtUpdateTime", *where),
        enterprise_expiry_time=read.time("EnterprisePrtExpiryTime", *where),
    )
    state.evidence = read.take()
    sso = status.section("SSO State")
    if sso is not None:
        state.diagnostics = _prt_diagnostics(sso)
    return state


def _authority(value: str | None) -> str | None:
    """The PRT authority URL; ``NO`` (printed when there is no PRT) is no authority."""
    return None if value is None or value.upper() == "NO" else value


def _prt_diagnostics(sso: Section) -> list[PrtDiagnostics]:
    """Each ``...PrtDiagnostics : PRESENT`` block: the diagnostic fields that follow it."""
    found: list[PrtDiagnostics] = []
    current: PrtDiagnostics | None = None
    for field in sso.fields:
        key = field.key.casefold()
        if key in ("acquireprtdiagnostics", "refreshprtdiagnostics"):
            current = None
            if field.value.upper().startswith("PRESENT"):
                kind: Literal["acquire", "refresh"] = (
                    "acquire" if key.startswith("acquire") else "refresh"
                )
                current = PrtDiagnostics(kind=kind, evidence=[field.citation])
                found.append(current)
            continue
        attribute = _DIAG_BY_KEY.get(key)
        if current is None or attribute is None:
            continue
        current.evidence.append(field.citation)
        if attribute == "previous_attempt":
            current.previous_attempt = parse_time(field.value)
        else:
            setattr(current, attribute, field.value or None)
    for diag in found:
        text = " ".join(c.text for c in diag.evidence)
        diag.aadsts = next(iter(aadsts_codes(text)), None)
        diag.codes = error_codes(text)
    return found


_REG_KEYS = {
    "User Context": "user_context",
    "Registration Type": "registration_type",
    "Error Phase": "error_phase",
    "Client ErrorCode": "client_error_code",
    "Server ErrorCode": "server_error_code",
    "Server Message": "server_message",
    "Https Status": "https_status",
    "Request Id": "request_id",
}


def _registration(read: _Reader) -> RegistrationDiagnostics | None:
    section = read.status.section("Diagnostic Data")
    if section is None:
        return None
    diag = RegistrationDiagnostics(
        client_time=read.time("Client Time", "Diagnostic Data"),
        previous_registration=read.time("Previous Registration", "Diagnostic Data"),
    )
    for key, attribute in _REG_KEYS.items():
        setattr(diag, attribute, read.text(key, "Diagnostic Data"))
    for field in section.fields:
        if field.key.casefold().endswith(" test") and field.key.casefold() != "keysigntest":
            read.used.append(field.citation)
            diag.tests[field.key] = field.value
            if field.value.upper().startswith("FAIL"):
                diag.failed_tests.append(field.key)
    diag.evidence = read.take()
    if not diag.evidence:
        return None
    text = " ".join(c.text for c in diag.evidence)
    diag.aadsts = next(iter(aadsts_codes(text)), None)
    diag.codes = error_codes(text)
    return diag
