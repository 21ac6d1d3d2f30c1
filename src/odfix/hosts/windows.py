"""The real Windows PC: Credential Manager, registry, processes and commands of the signed-in user.

Everything that belongs to the user's session (credentials, HKCU, starting programs, opening pages,
the RunOnce resume entry) refuses to run under SYSTEM with ``WrongContext`` (exit 5). Command paths
(``dsregcmd``, ``taskkill``, ``shutdown``) and the folders OneDrive is searched in can be replaced
through the constructor, so tests under Wine put stand-ins where the real programs would be.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from odfix.decoding import decode
from odfix.errors import FixFailed, WrongContext
from odfix.hosts import win_credentials, win_paths, win_process, win_registry
from odfix.hosts.base import CommandResult, Context, RegValue, StoredCredential
from odfix.hosts.win_context import detect_context

RUNONCE_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\RunOnce"
RESUME_VALUE = "odfix-resume"
ONEDRIVE_IMAGE = "OneDrive.exe"
MACHINE_ONEDRIVE_KEYS = (
    r"HKLM\SOFTWARE\Microsoft\OneDrive",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\OneDrive",
)
RUNONCE_MAX = 260  # "a command line no longer than 260 characters" (Run and RunOnce keys)
REBOOT_MESSAGE = "odfix restarts this PC to finish the OneDrive fix; it resumes after you sign in."
NOT_FOUND_EXIT = 9009  # what cmd.exe returns for a command it cannot find
_CREATE_NO_WINDOW = 0x08000000
_KILL_GRACE = 5.0


class WindowsHost:
    """A Windows PC seen from the signed-in user's session (pywin32, winreg, subprocess)."""

    def __init__(
        self,
        *,
        commands: Mapping[str, str] | None = None,
        local_appdata: str | None = None,
        program_files: Sequence[str] | None = None,
        context_probe: Callable[[], Context] = detect_context,
        poll_interval: float = 0.25,
        reboot_delay: int = 60,
        system_folder: str | None = None,
        boot_probe: Callable[[], datetime] = win_process.boot_time,
    ) -> None:
        """``commands`` maps a command name (``dsregcmd``) to the program to run instead;
        ``local_appdata`` and ``program_files`` replace the folders OneDrive.exe is looked for in;
        ``system_folder`` replaces System32 (default: what ``GetSystemDirectoryW`` reports);
        ``boot_probe`` says when Windows started (a test's "restart").
        """
        self._commands = {name.casefold().removesuffix(".exe"): path
                          for name, path in (commands or {}).items()}
        self._local_appdata = local_appdata
        self._program_files = program_files
        self._context_probe = context_probe
        self._context: Context | None = None
        self._poll = poll_interval
        self._reboot_delay = reboot_delay
        self._children: list[subprocess.Popen[bytes]] = []
        self._system = system_folder
        self._boot_probe = boot_probe

    # context -------------------------------------------------------------------------------
    def context(self) -> Context:
        """SYSTEM, elevated or user, read once from the process token."""
        if self._context is None:
            self._context = self._context_probe()
        return self._context

    def _require_user(self, action: str) -> None:
        if self.context() is Context.SYSTEM:
            raise WrongContext(f"cannot {action} as SYSTEM: it needs the signed-in user's "
                               "session; run odfix as that user")

    def hostname(self) -> str:
        """The computer name."""
        return os.environ.get("COMPUTERNAME") or socket.gethostname()

    def owner(self) -> str:
        """The computer: the journal is per user already (the user's data folder)."""
        return self.hostname()

    def _system_folder(self) -> str:
        if self._system is None:
            self._system = win_paths.system_folder()
        return self._system

    # credentials ---------------------------------------------------------------------------
    def list_credentials(self, prefix: str | None = None) -> list[StoredCredential]:
        """Credentials of this logon session whose target starts with ``prefix``."""
        self._require_user("read Credential Manager")
        return win_credentials.enumerate_credentials(prefix)

    def delete_credential(self, target: str, cred_type: int) -> bool:
        """Delete one credential by (target, type); False if it was not there."""
        self._require_user("delete a credential")
        return win_credentials.delete_credential(target, cred_type)

    # registry ------------------------------------------------------------------------------
    def _check_hive(self, key: str) -> None:
        if win_registry.is_user_hive(key):
            self._require_user(f"use {key}")

    def read_registry(self, key: str, name: str) -> RegValue | None:
        """One value, or None when the key or value is absent."""
        self._check_hive(key)
        return win_registry.read(key, name)

    def list_registry_values(self, key: str) -> list[RegValue]:
        """All values of a key ([] when the key is absent)."""
        self._check_hive(key)
        return win_registry.values(key)

    def list_registry_subkeys(self, key: str) -> list[str]:
        """Names of the direct subkeys of a key ([] when the key is absent)."""
        self._check_hive(key)
        return win_registry.subkeys(key)

    def write_registry(self, key: str, value: RegValue) -> None:
        """Create the key if needed and set the value."""
        self._check_hive(key)
        win_registry.write(key, value)

    def delete_registry_value(self, key: str, name: str) -> bool:
        """Delete one value; False if it was not there."""
        self._check_hive(key)
        return win_registry.delete_value(key, name)

    # commands ------------------------------------------------------------------------------
    def _resolve(self, argv: Sequence[str]) -> list[str]:
        """Full paths only: System32 for Windows' programs, a stand-in's own path, else refused."""
        if not argv:
            raise FixFailed("no command given")
        system = self._system_folder()
        named = self._commands.get(argv[0].casefold().removesuffix(".exe"), argv[0])
        program = win_paths.resolve(named, system)
        if program.casefold().endswith((".cmd", ".bat")):
            return [win_paths.resolve("cmd", system), "/c", program, *argv[1:]]
        return [program, *argv[1:]]

    def run(self, argv: Sequence[str], timeout: float = 120.0) -> CommandResult:
        """Run a command to completion; a missing program gives exit 9009 like cmd.exe."""
        args = self._resolve(argv)
        try:
            code, out, err = win_process.run_bounded(args, timeout, _CREATE_NO_WINDOW)
        except FileNotFoundError:
            return CommandResult(argv=list(argv), exit_code=NOT_FOUND_EXIT,
                                 stderr=f"odfix: {argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            raise FixFailed(f"{argv[0]} did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise FixFailed(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        return CommandResult(argv=list(argv), exit_code=code, stdout=decode(out),
                             stderr=decode(err))

    def _spawn(self, args: Sequence[str]) -> None:
        args = [win_paths.resolve(args[0], self._system_folder()), *args[1:]]
        try:
            child = subprocess.Popen(list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     creationflags=_CREATE_NO_WINDOW)
        except OSError as exc:
            raise FixFailed(f"cannot start {args[0]}: {exc.strerror or exc}") from None
        self._children.append(child)

    # processes -----------------------------------------------------------------------------
    def is_running(self, image: str) -> bool:
        """Whether a process with this image name runs in this session."""
        return bool(win_process.pids(image))

    def process_started(self, image: str) -> datetime | None:
        """When the newest process of this image in this session started (UTC)."""
        times = [t for pid in win_process.pids(image) if (t := win_process.started(pid))]
        return max(times) if times else None

    def start(self, path: str, args: Sequence[str] = ()) -> None:
        """Start a program in the user's session without waiting for it."""
        self._require_user(f"start {Path(path).name}")
        self._spawn([path, *args])

    def stop(self, image: str, timeout: float) -> bool:
        """Ask politely (``OneDrive.exe /shutdown``, else ``taskkill``), wait, then kill."""
        running = win_process.pids(image)
        if not running:
            return True
        onedrive = self.find_onedrive() if image.casefold() == ONEDRIVE_IMAGE.casefold() else None
        with contextlib.suppress(FixFailed):  # no polite request possible: the kill still follows
            if onedrive is not None:
                self._spawn([onedrive, "/shutdown"])
            else:
                self.run(["taskkill", *_pid_args(running)], timeout=max(timeout, 1.0))
        if self._wait_gone(image, timeout):
            return True
        self.run(["taskkill", "/F", *_pid_args(win_process.pids(image))], timeout=30.0)
        return self._wait_gone(image, _KILL_GRACE)

    def _wait_gone(self, image: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while win_process.pids(image):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sleep(min(self._poll, remaining))
        return True

    def find_onedrive(self) -> str | None:
        """OneDrive.exe: per-user (%LOCALAPPDATA%) first, then per-machine (registry, Program
        Files). The per-user copy is skipped under SYSTEM, whose %LOCALAPPDATA% is not the user's.
        """
        candidates: list[Path] = []
        local = self._local_appdata or os.environ.get("LOCALAPPDATA")
        if local and self.context() is not Context.SYSTEM:
            candidates.append(Path(local, "Microsoft", "OneDrive", ONEDRIVE_IMAGE))
        for key in MACHINE_ONEDRIVE_KEYS:
            trigger = win_registry.read(key, "OneDriveTrigger")
            if trigger is not None and isinstance(trigger.data, str) and trigger.data:
                candidates.append(Path(trigger.data))
        roots = self._program_files
        if roots is None:
            roots = [os.environ[name] for name in ("ProgramFiles", "ProgramFiles(x86)")
                     if os.environ.get(name)]
        candidates.extend(Path(root, "Microsoft OneDrive", ONEDRIVE_IMAGE) for root in roots)
        return next((str(path) for path in candidates if path.is_file()), None)

    # folders -------------------------------------------------------------------------------
    def local_appdata(self) -> str | None:
        """The user's ``%LOCALAPPDATA%``; None under SYSTEM (its profile is not the user's)."""
        if self.context() is Context.SYSTEM:
            return None
        return self._local_appdata or os.environ.get("LOCALAPPDATA") or None

    def folder_exists(self, path: str) -> bool:
        """Whether ``path`` is a folder (a link to one counts as not: odfix never follows it)."""
        return os.path.isdir(path) and not os.path.islink(path)

    def move_folder(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target`` on the same volume; nothing inside is touched."""
        self._require_user(f"move {source}")
        if os.path.lexists(target):
            raise FixFailed(f"cannot move {source}: {target} exists")
        try:
            os.rename(source, target)
        except OSError as exc:
            raise FixFailed(f"cannot move {source} aside: {exc.strerror or exc} (a program may "
                            "hold a file in it open; quit Office apps and try again)") from None

    # the person, resume, reboot ------------------------------------------------------------
    def open_uri(self, uri: str) -> None:
        """Open a settings page or program for the person (``ms-settings:workplace``)."""
        self._require_user(f"open {uri}")
        if sys.platform != "win32":
            raise FixFailed(f"cannot open {uri}: not a Windows PC")
        try:
            os.startfile(uri)
        except OSError as exc:
            raise FixFailed(f"cannot open {uri}: {exc.strerror or exc}") from None

    def schedule_resume(self, argv: Sequence[str]) -> None:
        """Run ``argv`` once at the user's next logon (HKCU RunOnce ``odfix-resume``)."""
        self._require_user("schedule the resume")
        command = subprocess.list2cmdline(list(argv))
        if len(command) > RUNONCE_MAX:
            raise FixFailed(f"the resume command is {len(command)} characters; RunOnce runs "
                            f"only up to {RUNONCE_MAX}: {command[:60]}...")
        win_registry.write(RUNONCE_KEY, RegValue(name=RESUME_VALUE, kind="REG_SZ", data=command))

    def cancel_resume(self) -> None:
        """Remove the pending RunOnce entry, if any."""
        self._require_user("cancel the resume")
        win_registry.delete_value(RUNONCE_KEY, RESUME_VALUE)

    def reboot(self) -> None:
        """Restart the PC after ``reboot_delay`` seconds, telling the person why."""
        result = self.run(["shutdown", "/r", "/t", str(self._reboot_delay), "/c", REBOOT_MESSAGE])
        if result.exit_code != 0:
            raise FixFailed(f"shutdown /r failed with exit {result.exit_code}: "
                            f"{(result.stderr or result.stdout).strip()}")

    def boot_time(self) -> datetime:
        """When Windows started (now minus ``GetTickCount64``)."""
        return self._boot_probe()

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (no busy-waiting)."""
        time.sleep(max(seconds, 0.0))


def _pid_args(pids: Sequence[int]) -> list[str]:
    """``/PID n`` pairs: kill exactly this session's processes, never another user's."""
    return [part for pid in pids for part in ("/PID", str(pid))]
