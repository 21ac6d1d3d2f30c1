"""Everything the simulated PC remembers; one pydantic document, so it can be saved and resumed."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from odfix.hosts.base import Context, RegValue

JoinType = Literal["entra-joined", "hybrid-joined", "domain-joined", "entra-registered", "none"]


class SimCredential(BaseModel):
    """One Credential Manager entry; ``target`` is the cmdkey-style ``namespace:target=name``."""

    target: str
    type: int = 1
    persist: int = 2
    user_name: str | None = None
    last_written: datetime


class Registration(BaseModel):
    """The device registration as dsregcmd reports it, plus what only the model knows."""

    join_type: JoinType
    domain_name: str | None = None
    device_id: str | None = None
    thumbprint: str | None = None
    keys_healthy: bool = True
    prt_issued_at: datetime | None = None
    prt_updated_at: datetime | None = None
    wam_default_set: bool = True


class Tenant(BaseModel):
    """The Entra tenant as the PC's sign-ins experience it."""

    id: str = "11111111-2222-3333-4444-555555555555"
    name: str = "Contoso"
    password_changed_at: datetime | None = None
    sessions_revoked_at: datetime | None = None
    sign_in_frequency_hours: float | None = None
    mfa_required: bool = False
    device_enabled: bool = True
    cloned_device_ids: list[str] = Field(default_factory=list)
    known_device_ids: list[str] = Field(default_factory=list)


class Person(BaseModel):
    """Who sits at the PC, and what they can do when the engine asks."""

    present: bool = True
    upn: str = "user1@contoso.com"
    display_name: str = "User One"
    knows_password: bool = True
    can_mfa: bool = True
    local_admin_account: str | None = None
    can_enable_tls: bool = False


class SimEvent(BaseModel):
    """One Microsoft-Windows-AAD/Operational event."""

    record_id: int
    event_id: int
    level: int
    time: datetime
    error: str = ""
    error_message: str = ""
    additional: str = ""


class SimState(BaseModel):
    """The whole simulated PC."""

    scenario: str
    hostname: str = "PC-0001"
    context: Context = Context.USER
    now: datetime
    tenant: Tenant = Field(default_factory=Tenant)
    registration: Registration
    person: Person = Field(default_factory=Person)
    credentials: list[SimCredential] = Field(default_factory=list)
    registry: dict[str, list[RegValue]] = Field(default_factory=dict)
    instance: str = ""
    """Which simulated PC this is (a new one per ``build_host``): runs belong to it."""
    onedrive_running: bool = True
    onedrive_started_at: datetime | None = None
    onedrive_status: Literal["signed-in", "sign-in-page", "error"] = "signed-in"
    onedrive_path: str | None = r"C:\Users\user1\AppData\Local\Microsoft\OneDrive\OneDrive.exe"
    onedrive_folder: str = ""
    local_appdata: str = r"C:\Users\user1\AppData\Local"
    folders: list[str] = Field(default_factory=list)
    """Folders that exist on the PC (Windows paths), besides the OneDrive folder."""
    proxy: str | None = None
    last_interactive_sign_in: datetime | None = None
    events: list[SimEvent] = Field(default_factory=list)
    pending_resume: list[str] | None = None
    boots: int = 0
    booted_at: datetime | None = None
    device_serial: int = 0
    opened_uris: list[str] = Field(default_factory=list)
