"""A simulated Windows PC behind the ``Host`` protocol, for tests, demos and dry rehearsals.

The state (``odfix.hosts.sim.state``) changes only through the protocol and through the simulated
person; outcomes are computed by ``odfix.hosts.sim.identity``; command output is rendered in the
real layouts by ``odfix.hosts.sim.render``. The OneDrive folder is a real directory no call writes.
"""

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odfix.errors import BadInput, FixFailed
from odfix.hosts import scenario_names
from odfix.hosts.base import CommandResult, Context, RegValue, StoredCredential
from odfix.hosts.sim import identity, render
from odfix.hosts.sim.state import JoinType, Person, Registration, SimCredential, SimState, Tenant

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ELEVATION_REQUIRED = "The requested operation requires elevation."


class SimulatedHost:
    """A modelled PC; ``real_clock`` makes ``sleep`` really sleep (for benchmarks)."""

    def __init__(self, state: SimState, *, real_clock: bool = False) -> None:
        self.state = state
        self.real_clock = real_clock

    # -- identity and context -------------------------------------------------------------
    def context(self) -> Context:
        return self.state.context

    def hostname(self) -> str:
        return self.state.hostname

    def owner(self) -> str:
        """``sim:<scenario>:<instance>@<computer>``: each simulated PC has runs of its own."""
        state = self.state
        return f"sim:{state.scenario}:{state.instance}@{state.hostname}"

    def now(self) -> datetime:
        return self.state.now

    def boot_time(self) -> datetime:
        return self.state.booted_at or START - timedelta(hours=8)

    def sleep(self, seconds: float) -> None:
        """Time passes; a running OneDrive syncs once, asking for a token silently."""
        if self.real_clock:
            time.sleep(seconds)
        self.state.now = self.state.now + timedelta(seconds=seconds)
        if self.state.onedrive_running:
            identity.silent_request(self.state)

    # -- credentials ----------------------------------------------------------------------
    def list_credentials(self, prefix: str | None = None) -> list[StoredCredential]:
        wanted = (prefix or "").lower()
        return [
            StoredCredential(target=c.target, type=c.type, persist=c.persist,
                             user_name=c.user_name, last_written=c.last_written)
            for c in self.state.credentials
            if c.target.lower().startswith(wanted) or _bare(c.target).lower().startswith(wanted)
        ]

    def delete_credential(self, target: str, cred_type: int) -> bool:
        identity.tick(self.state, 0.1)
        before = len(self.state.credentials)
        self.state.credentials = [
            c for c in self.state.credentials
            if not (c.type == cred_type and target.lower() in (c.target.lower(),
                                                               _bare(c.target).lower()))
        ]
        return len(self.state.credentials) < before

    # -- registry -------------------------------------------------------------------------
    def _key(self, key: str) -> str | None:
        return next((k for k in self.state.registry if k.lower() == key.lower()), None)

    def read_registry(self, key: str, name: str) -> RegValue | None:
        return next((v for v in self.list_registry_values(key) if v.name.lower() == name.lower()),
                    None)

    def list_registry_values(self, key: str) -> list[RegValue]:
        found = self._key(key)
        return list(self.state.registry[found]) if found else []

    def list_registry_subkeys(self, key: str) -> list[str]:
        prefix = key.lower().rstrip("\\") + "\\"
        names = {k[len(prefix):].split("\\")[0] for k in self.state.registry
                 if k.lower().startswith(prefix)}
        return sorted(names)

    def write_registry(self, key: str, value: RegValue) -> None:
        found = self._key(key) or key
        kept = [v for v in self.state.registry.get(found, [])
                if v.name.lower() != value.name.lower()]
        self.state.registry[found] = [*kept, value]

    def delete_registry_value(self, key: str, name: str) -> bool:
        found = self._key(key)
        if found is None:
            return False
        values = self.state.registry[found]
        kept = [v for v in values if v.name.lower() != name.lower()]
        self.state.registry[found] = kept
        return len(kept) < len(values)

    # -- processes ------------------------------------------------------------------------
    def is_running(self, image: str) -> bool:
        return image.lower() == "onedrive.exe" and self.state.onedrive_running

    def process_started(self, image: str) -> datetime | None:
        if image.lower() != "onedrive.exe" or not self.state.onedrive_running:
            return None
        return self.state.onedrive_started_at

    def start(self, path: str, args: Sequence[str] = ()) -> None:
        if self.state.onedrive_path and path.lower() == self.state.onedrive_path.lower():
            self._start_onedrive()

    def stop(self, image: str, timeout: float) -> bool:
        if image.lower() == "onedrive.exe":
            identity.tick(self.state, min(timeout, 2.0))
            self.state.onedrive_running = False
        return True

    def find_onedrive(self) -> str | None:
        return self.state.onedrive_path

    def open_uri(self, uri: str) -> None:
        self.state.opened_uris.append(uri)

    def local_appdata(self) -> str | None:
        return None if self.state.context is Context.SYSTEM else self.state.local_appdata

    def folder_exists(self, path: str) -> bool:
        return path.lower() in (f.lower() for f in self.state.folders)

    def move_folder(self, source: str, target: str) -> None:
        identity.tick(self.state, 0.1)
        folders = self.state.folders
        if not self.folder_exists(source):
            raise FixFailed(f"cannot move {source}: no such folder")
        if self.folder_exists(target):
            raise FixFailed(f"cannot move {source}: {target} exists")
        if self.state.onedrive_running:
            raise FixFailed(f"cannot move {source}: OneDrive.exe has files in it open")
        self.state.folders = [target if f.lower() == source.lower() else f for f in folders]

    def _start_onedrive(self) -> None:
        identity.onedrive_up(self.state)
        identity.silent_request(self.state)

    # -- commands -------------------------------------------------------------------------
    def run(self, argv: Sequence[str], timeout: float = 120.0) -> CommandResult:
        identity.tick(self.state)
        args = [a.lower() for a in argv]
        program = PureWindowsPath(args[0]).name.removesuffix(".exe") if args else ""
        handler = {"dsregcmd": self._dsregcmd, "wevtutil": self._wevtutil,
                   "netsh": self._netsh, "onedrive": self._onedrive}.get(program)
        if handler is None:
            return CommandResult(argv=list(argv), exit_code=1, stderr=(
                f"'{argv[0] if argv else ''}' is not recognized as an internal or external "
                "command,\r\noperable program or batch file.\r\n"))
        code, out, err = handler(args[1:])
        return CommandResult(argv=list(argv), exit_code=code, stdout=out, stderr=err)

    def _dsregcmd(self, args: list[str]) -> tuple[int, str, str]:
        state = self.state
        if args == ["/status"]:
            text = render.dsregcmd_status(state, device_auth_ok=identity.device_auth_ok(state),
                                          prt_error=identity.prt_error(state))
            return 0, text, ""
        if args in (["/leave"], ["/debug", "/leave"], ["/join"], ["/debug", "/join"]):
            if state.context is Context.USER:
                return 1, "", ELEVATION_REQUIRED + "\r\n"
            if "/leave" in args:
                identity.leave(state)
                return 0, "", ""
            if state.registration.join_type != "hybrid-joined":
                return 1, "", "dsregcmd /join applies to domain-joined devices only.\r\n"
            ok = identity.register(state)
            return (0, "", "") if ok else (1, "", "DSREG_E_DISCOVERY_FAILED (0x801c0021)\r\n")
        return 1, "", f"Unknown option {' '.join(args)}\r\n"

    def _wevtutil(self, args: list[str]) -> tuple[int, str, str]:
        if len(args) >= 2 and args[0] == "qe" and args[1] == "microsoft-windows-aad/operational":
            count = next((int(a[3:]) for a in args if a.startswith("/c:")), 500)
            return 0, render.wevtutil_xml(self.state, count), ""
        return 1, "", "The specified channel could not be found.\r\n"

    def _netsh(self, args: list[str]) -> tuple[int, str, str]:
        if args == ["winhttp", "show", "proxy"]:
            return 0, render.netsh_proxy(self.state.proxy), ""
        return 1, "The following command was not found: " + " ".join(args) + ".\r\n", ""

    def _onedrive(self, args: list[str]) -> tuple[int, str, str]:
        if args == ["/shutdown"]:
            self.state.onedrive_running = False
            return 0, "", ""
        if args == ["/reset"]:
            self.state.onedrive_running = False
            identity.unlink_account(self.state)
            self.state.credentials = [c for c in self.state.credentials
                                      if c.target != identity.ONEDRIVE_TARGET]
            self._start_onedrive()
            return 0, "", ""
        if args in ([], ["/background"]):
            self._start_onedrive()
            return 0, "", ""
        return 1, "", ""

    # -- reboot ---------------------------------------------------------------------------
    def schedule_resume(self, argv: Sequence[str]) -> None:
        self.state.pending_resume = list(argv)

    def cancel_resume(self) -> None:
        self.state.pending_resume = None

    def reboot(self) -> None:
        """Restart: hybrid devices re-register by the scheduled task, logon renews the PRT."""
        state = self.state
        state.onedrive_running = False
        state.boots += 1
        identity.tick(state, 90)
        state.booted_at = state.now
        if state.registration.join_type == "hybrid-joined" and state.registration.device_id is None:
            identity.register(state)
        if identity.joined(state) and identity.device_failure(state) is None and (
                state.person.knows_password):
            identity.refresh_prt(state)
        self._start_onedrive()

    # -- the person -----------------------------------------------------------------------
    def onedrive_folder(self) -> Path:
        """The real directory standing for the user's OneDrive folder."""
        return Path(self.state.onedrive_folder)

    def save(self, path: Path) -> None:
        """Keep the PC between processes (``odfix fix --simulate ... --resume``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.state.model_dump_json(indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "SimulatedHost":
        """A PC saved by ``save``."""
        try:
            return cls(SimState.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as error:
            raise BadInput(f"cannot read the simulated PC {path}: {error}") from error


def _bare(target: str) -> str:
    """``MicrosoftOffice16_Data:x`` from ``LegacyGeneric:target=MicrosoftOffice16_Data:x``."""
    _, sep, rest = target.partition(":target=")
    return rest if sep else target


class ScenarioCredential(BaseModel):
    """A credential a scenario starts with; ``hours_ago`` is its last-written time."""

    model_config = ConfigDict(extra="forbid")

    target: str
    type: int = 1
    persist: int = 2
    user_name: str | None = None
    hours_ago: float = 24.0


class OfficeIdentity(BaseModel):
    """An account cached in Office's identity key."""

    model_config = ConfigDict(extra="forbid")

    email: str
    tenant_id: str


class Scenario(BaseModel):
    """One scenario file: the cause it models and the PC's starting state (times in hours ago)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    summary: str
    cause: str
    error_code: str = "0x8004DE40"
    context: Context = Context.USER
    join_type: JoinType
    keys_healthy: bool = True
    prt_hours_ago: float | None = 2.0
    wam_default_set: bool = True
    password_changed_hours_ago: float | None = None
    sessions_revoked_hours_ago: float | None = None
    sign_in_frequency_hours: float | None = None
    mfa_required: bool = False
    device_enabled: bool = True
    cloned: bool = False
    last_interactive_hours_ago: float | None = 48.0
    tls12_enabled: bool = True
    proxy: str | None = None
    person: Person = Field(default_factory=Person)
    credentials: list[ScenarioCredential] = Field(default_factory=list)
    office_identities: list[OfficeIdentity] = Field(default_factory=list)
    onedrive_linked: bool = True
    onedrive_files: dict[str, str] = Field(default_factory=dict)
    history: dict[str, list[float]] = Field(default_factory=dict)
    """Earlier failures: name in ``identity.FAILURES`` → hours ago of each occurrence."""
    expected: Literal["healthy", "needs-admin"] = "healthy"


def load_scenario(name: str) -> Scenario:
    """Read and validate one shipped scenario; unknown names are bad input."""
    if name not in scenario_names():
        raise BadInput(f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}")
    text = (resources.files("odfix.hosts") / "scenarios" / f"{name}.yaml").read_text("utf-8")
    try:
        return Scenario.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as error:
        raise BadInput(f"scenario {name}.yaml is invalid: {error}") from error


def build_host(scenario: Scenario, folder: Path, *, real_clock: bool = False) -> SimulatedHost:
    """A PC in the scenario's starting state, its OneDrive folder filled under ``folder``."""
    now = START
    onedrive = folder / f"OneDrive - {Tenant().name}"
    for rel, text in scenario.onedrive_files.items():
        target = onedrive / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    onedrive.mkdir(parents=True, exist_ok=True)

    def ago(hours: float | None) -> datetime | None:
        return None if hours is None else now - timedelta(hours=hours)

    tenant = Tenant(password_changed_at=ago(scenario.password_changed_hours_ago),
                    sessions_revoked_at=ago(scenario.sessions_revoked_hours_ago),
                    sign_in_frequency_hours=scenario.sign_in_frequency_hours,
                    mfa_required=scenario.mfa_required, device_enabled=scenario.device_enabled)
    has_device = scenario.join_type in ("entra-joined", "hybrid-joined", "entra-registered")
    device_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" if has_device else None
    if device_id and scenario.cloned:
        tenant.cloned_device_ids.append(device_id)
    prt = ago(scenario.prt_hours_ago) if scenario.join_type in (
        "entra-joined", "hybrid-joined") else None
    registration = Registration(
        join_type=scenario.join_type,
        domain_name="CONTOSO" if scenario.join_type in ("hybrid-joined", "domain-joined") else None,
        device_id=device_id,
        thumbprint="0123456789ABCDEF0123456789ABCDEF01234567" if has_device else None,
        keys_healthy=scenario.keys_healthy, prt_issued_at=prt, prt_updated_at=prt,
        wam_default_set=scenario.wam_default_set)
    state = SimState(
        scenario=scenario.name, instance=uuid.uuid4().hex[:12], context=scenario.context,
        now=now, tenant=tenant,
        registration=registration, person=scenario.person,
        proxy=scenario.proxy, onedrive_folder=str(onedrive),
        last_interactive_sign_in=ago(scenario.last_interactive_hours_ago),
        credentials=[SimCredential(target=c.target, type=c.type, persist=c.persist,
                                   user_name=c.user_name, last_written=now - timedelta(
                                       hours=c.hours_ago)) for c in scenario.credentials])
    identity.set_tls12(state, scenario.tls12_enabled)
    if scenario.onedrive_linked:
        identity.link_account(state)
    state.registry[identity.ONEDRIVE_KEY] = [
        RegValue(name="ClientEverSignedIn", kind="REG_DWORD", data=1)]
    for number, cached in enumerate(scenario.office_identities, start=1):
        key = rf"{identity.IDENTITY_KEY}\Identities\{number:08d}-0000-0000-0000-000000000000_ADAL"
        state.registry[key] = [
            RegValue(name="EmailAddress", kind="REG_SZ", data=cached.email),
            RegValue(name="TenantId", kind="REG_SZ", data=cached.tenant_id),
            RegValue(name="ProviderId", kind="REG_SZ", data="AD"),
        ]
    for name, times in scenario.history.items():
        if name not in identity.FAILURES:
            raise BadInput(f"scenario {scenario.name}: unknown failure {name!r} in history")
        for hours in sorted(times, reverse=True):
            identity.log_failure(state, identity.FAILURES[name], now - timedelta(hours=hours))
    host = SimulatedHost(state, real_clock=real_clock)
    if state.onedrive_running:  # started at logon, an hour ago
        state.onedrive_running = False
        host._start_onedrive()
        state.onedrive_started_at = now - timedelta(hours=1)
    else:
        state.folders.extend(identity.identity_folders(state))
    return host
