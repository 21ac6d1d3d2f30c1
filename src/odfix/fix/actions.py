"""The guide's action names, implemented on the ``Host`` protocol, each idempotent.

Every action first looks at the host and does only what is still needed, so a step re-run after a
crash (``--resume``) changes nothing twice. Each change is reported to ``record`` with its
before-state before it is made. ``preview`` says what an action would change without changing it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import Any, Literal

from odfix.errors import FixFailed
from odfix.evidence import connectivity, dsregcmd
from odfix.evidence.common import ParseError
from odfix.guide.model import Action, Guide
from odfix.hosts.base import Host

Outcome = Literal["done", "needs-person", "reboot", "failed"]
Recorder = Callable[[dict[str, Any]], None]

ONEDRIVE_IMAGE = "OneDrive.exe"
IDENTITY_KEY = r"HKCU\Software\Microsoft\Office\16.0\Common\Identity"
ACCOUNTS_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts"
INTERNET_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings"
TLS12_BIT = 0x800
LEAVE_JOIN_TYPES = ("entra-joined", "hybrid-joined", "entra-registered")
IDENTITY_FOLDERS = ("OneAuth", "IdentityCache")


@dataclass
class Result:
    """What an action did: its outcome and one line per change or observation."""

    outcome: Outcome
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    """Something a read-only check found that a person (or IT) must put right."""


@dataclass
class Runtime:
    """What actions work with."""

    host: Host
    guide: Guide
    record: Recorder
    resume_argv: list[str]
    perform: Callable[[str, str], bool | None]
    """Ask the person to do a UI step: True done, False could not, None nobody there."""
    allow_unjoin: bool = False
    """``--allow-unjoin`` on this command line (never taken from the journal)."""
    probe: connectivity.Prober | None = None
    """Opens real connections for ``report_connectivity`` (None: the simulated PC)."""


def _credentials(rt: Runtime, classes: list[str]) -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for cred in rt.host.list_credentials():
        cls = rt.guide.credential_class_for(cred.target, cred.type)
        if cls is not None and cls in classes:
            before = cred.model_dump(mode="json", exclude_none=True)
            found.append((cred.target, cred.type, before))
    return found


def _status(rt: Runtime) -> dsregcmd.DsregStatus | None:
    """The PC's registration now, or None when dsregcmd fails or prints an unknown layout."""
    result = rt.host.run(["dsregcmd", "/status"])
    if result.exit_code != 0:
        return None
    try:
        return dsregcmd.parse(result.stdout)
    except ParseError:
        return None


def _walk(host: Host, key: str) -> list[str]:
    keys = [key]
    for sub in host.list_registry_subkeys(key):
        keys += _walk(host, f"{key}\\{sub}")
    return keys


def _command(rt: Runtime, argv: list[str], before: dict[str, Any]) -> Result:
    rt.record({"what": "command", "argv": argv, "before": before})
    done = rt.host.run(argv)
    rt.record({"what": "command-result", "argv": argv, "exit_code": done.exit_code,
               "stderr": done.stderr.strip()[:200]})
    line = f"ran {' '.join(argv)} (exit {done.exit_code})"
    return Result("done" if done.exit_code == 0 else "failed", [line])


def run(action: Action, rt: Runtime, title: str) -> Result:
    """Carry out one action."""
    host = rt.host
    match action.name:
        case "close_onedrive":
            if not host.is_running(ONEDRIVE_IMAGE):
                return Result("done", ["OneDrive was not running"])
            rt.record({"what": "process", "image": ONEDRIVE_IMAGE, "before": "running"})
            # Host.stop sends OneDrive.exe /shutdown itself, waits, then kills: ask only once.
            gone = host.stop(ONEDRIVE_IMAGE, float(action.args.timeout_s))
            return Result("done" if gone else "failed",
                          ["closed OneDrive" if gone else "OneDrive did not exit"])
        case "wait":
            host.sleep(action.args.seconds)
            return Result("done", [f"waited {action.args.seconds} s"])
        case "start_onedrive":
            if host.is_running(ONEDRIVE_IMAGE):
                return Result("done", ["OneDrive was already running"])
            path = host.find_onedrive()
            if path is None:
                return Result("failed", ["OneDrive.exe was not found"])
            rt.record({"what": "process", "image": ONEDRIVE_IMAGE, "before": "stopped",
                       "path": path})
            host.start(path, ["/background"])
            return Result("done", [f"started {path}"])
        case "delete_cached_credentials":
            notes = []
            for target, cred_type, before in _credentials(rt, list(action.args.classes)):
                rt.record({"what": "credential", "before": before})
                if host.delete_credential(target, cred_type):
                    notes.append(f"deleted credential {target}")
            return Result("done", notes or ["no allow-listed credential was left"])
        case "open_uri":
            rt.record({"what": "open", "uri": action.args.uri})
            host.open_uri(action.args.uri)
            return Result("done", [f"opened {action.args.uri}"])
        case "person":
            answer = rt.perform(title, action.args.instruction)
            if answer is None:
                return Result("needs-person", [action.args.instruction])
            return Result("done" if answer else "failed",
                          ["the person did it" if answer else "the person could not do it"])
        case "reboot_with_resume":
            rt.record({"what": "resume", "argv": rt.resume_argv})
            host.schedule_resume(rt.resume_argv)
            return Result("reboot", ["scheduled odfix to resume at next logon; restarting"])
        case "dsregcmd_leave":
            return _leave(rt, bool(action.args.debug))
        case "dsregcmd_join":
            status = _status(rt)
            if status is not None and status.join_type == "hybrid-joined" and (
                    status.health.device_auth_status == "SUCCESS"):
                return Result("done", [f"already joined as {status.device_id}"])
            return _command(rt, ["dsregcmd", "/join"],
                            {"join_type": status.join_type if status else None})
        case "reset_onedrive":
            path = host.find_onedrive()
            if path is None:
                return Result("failed", ["OneDrive.exe was not found"])
            accounts = {key: [v.model_dump(mode="json") for v in host.list_registry_values(key)]
                        for key in _walk(host, ACCOUNTS_KEY)[1:]}
            if not accounts:
                return Result("done", ["OneDrive holds no account: nothing to reset"])
            return _command(rt, [path, "/reset"], {"registry": accounts})
        case "clear_office_identity":
            return _clear_office_identity(rt)
        case "report_connectivity":
            return _connectivity(host, rt.probe)
        case "verify_sign_in":
            return Result("done", ["checked by the verification that follows"])
    return Result("failed", [f"unknown action {action.name}"])


def _leave(rt: Runtime, debug: bool) -> Result:
    """``dsregcmd [/debug] /leave`` only on a PC whose join type the live PC shows right now."""
    status = _status(rt)
    if status is None or status.join_type == "unknown":
        return Result("failed", ["dsregcmd /status did not show the join type; odfix never "
                                 "leaves without knowing it"])
    if status.join_type not in LEAVE_JOIN_TYPES:
        return Result("done", [f"already left (join type {status.join_type})"])
    if status.join_type == "entra-joined" and not rt.allow_unjoin:
        return Result("failed", ["the PC is Entra joined: leaving unjoins it, which needs "
                                 "--allow-unjoin"])
    argv = ["dsregcmd", "/debug", "/leave"] if debug else ["dsregcmd", "/leave"]
    return _command(rt, argv, {"join_type": status.join_type, "device_id": status.device_id})


def identity_folders(host: Host) -> list[str]:
    """The user's Office identity cache folders (``%LOCALAPPDATA%\\Microsoft\\OneAuth``,
    ``...\\IdentityCache``); [] when this context has no user profile."""
    base = host.local_appdata()
    if not base:
        return []
    return [str(PureWindowsPath(base, "Microsoft", name)) for name in IDENTITY_FOLDERS]


def _clear_office_identity(rt: Runtime) -> Result:
    """Microsoft's cleanup for several cached identities, done so it can be undone.

    Only after OneDrive has quit: the values under the Office ``Identity`` key are deleted (each
    journaled with its before-state), and the OneAuth and IdentityCache folders are renamed to a
    timestamped sibling (``OneAuth.odfix-20261120T090000Z``) that a rename restores. Nothing
    inside the folders is read, changed or deleted, and no other folder is touched.
    """
    host = rt.host
    if host.is_running(ONEDRIVE_IMAGE):
        return Result("failed", ["OneDrive is still running; nothing was cleared (quit it first)"])
    folders = identity_folders(host)
    if not folders:
        return Result("failed", ["this context has no user profile (%LOCALAPPDATA%); run odfix "
                                 "as the signed-in user"])
    notes = []
    for key in _walk(host, IDENTITY_KEY):
        for value in host.list_registry_values(key):
            rt.record({"what": "registry", "key": key, "before": value.model_dump(mode="json")})
            if host.delete_registry_value(key, value.name):
                notes.append(f"deleted {key}\\{value.name}")
    stamp = host.now().strftime("%Y%m%dT%H%M%SZ")
    for folder in folders:
        if not host.folder_exists(folder):
            notes.append(f"{folder} is not there")
            continue
        aside = f"{folder}.odfix-{stamp}"
        rt.record({"what": "folder", "path": folder, "moved_to": aside, "before": "present"})
        try:
            host.move_folder(folder, aside)
        except FixFailed as error:
            return Result("failed", [*notes, error.message])
        notes.append(f"moved {folder} aside to {aside} (rename it back to restore)")
    return Result("done", notes)


def _connectivity(host: Host, probe: connectivity.Prober | None) -> Result:
    """Test (never change) what OneDrive needs: DNS, TCP and TLS 1.2+ to the sign-in, device and
    SharePoint endpoints, the proxy, Internet Options' TLS 1.2 and SChannel's cipher order."""
    report = connectivity.check(host, probe)
    proxy = report.proxy
    notes = [f"proxy: {proxy.used or 'none (direct)'} (Internet Options: "
             f"{proxy.wininet or 'none'}, WinHTTP: {proxy.winhttp or 'direct'})"]
    for check in report.endpoints:
        state = check.error or (f"{check.tls_version}, {check.trust} certificate from "
                                f"{check.issuer}")
        notes.append(f"{check.host}:{check.port} via {check.via}: {state}")
    ciphers = report.ciphers
    if ciphers.source != "default":
        afd = ", ".join(f"{s}#{p}" for s, p in ciphers.afd_positions.items() if p is not None)
        notes.append(f"cipher-suite order ({ciphers.source}): {len(ciphers.suites)} suites; "
                     f"Azure Front Door's at {afd or 'no position'}")
    notes += report.notes
    problems = report.problems()
    setting = host.read_registry(INTERNET_KEY, "SecureProtocols")
    if setting is not None and isinstance(setting.data, int) and not setting.data & TLS12_BIT:
        problems.insert(0, f"TLS 1.2 is off in Internet Options (SecureProtocols="
                           f"0x{setting.data:X})")
    else:
        notes.append("TLS 1.2 is allowed in Internet Options")
    if problems:
        problem = "; ".join(problems) + "; odfix never changes TLS or proxy settings"
        return Result("done", [*notes, problem], problem=problem)
    return Result("done", notes)


def preview(action: Action, host: Host, guide: Guide, resume_argv: list[str]) -> list[str]:
    """What ``run`` would change, without changing anything."""
    match action.name:
        case "close_onedrive":
            running = host.is_running(ONEDRIVE_IMAGE)
            return [f"close OneDrive.exe (/shutdown, then stop after {action.args.timeout_s} s)"
                    if running else "nothing: OneDrive is not running"]
        case "wait":
            return [f"wait {action.args.seconds} s"]
        case "start_onedrive":
            return [f"start {host.find_onedrive() or 'OneDrive.exe (not found)'}"]
        case "delete_cached_credentials":
            targets = [f"delete credential {c.target} (generic)" for c in host.list_credentials()
                       if guide.credential_class_for(c.target, c.type) in action.args.classes]
            return targets or ["nothing: no allow-listed credential is stored"]
        case "open_uri":
            return [f"open {action.args.uri}"]
        case "person":
            return [f"ask the person: {action.args.instruction}"]
        case "reboot_with_resume":
            return [f"run once at next logon: {' '.join(resume_argv)}", "restart the PC"]
        case "dsregcmd_leave":
            return ["run dsregcmd /debug /leave" if action.args.debug else "run dsregcmd /leave"]
        case "dsregcmd_join":
            return ["run dsregcmd /join"]
        case "reset_onedrive":
            return [f"run {host.find_onedrive() or 'OneDrive.exe'} /reset (files stay)"]
        case "clear_office_identity":
            values = [f"delete {key}\\{v.name}" for key in _walk(host, IDENTITY_KEY)
                      for v in host.list_registry_values(key)]
            folders = [f"move {f} aside to {f}.odfix-<time> (restorable)"
                       for f in identity_folders(host) if host.folder_exists(f)]
            return [*values, *folders] or ["nothing: no cached identity"]
        case "report_connectivity":
            return ["test DNS, TCP and TLS 1.2+ to Microsoft's sign-in, device and SharePoint "
                    "endpoints; read the proxy and cipher-suite order (changes nothing)"]
        case "verify_sign_in":
            return ["check the sign-in with fresh evidence (changes nothing)"]
    return [f"unknown action {action.name}"]
