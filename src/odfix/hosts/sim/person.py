"""The simulated person: reads an instruction and does what it asks, as the scenario allows.

Like a user on the phone, the person recognises the task by its words (sign in, MFA, Disconnect,
Connect, Unlink, TLS, dsregcmd /forcerecovery) and acts on the simulated PC's state; what they
cannot do, they report.
"""

from odfix.hosts.sim import identity
from odfix.hosts.sim.state import SimState


class SimulatedPerson:
    """Implements ``odfix.fix.person.Person`` on a ``SimState``."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.log: list[str] = []

    def confirm(self, question: str) -> bool:
        return self.state.person.present

    def local_admin_account(self) -> str | None:
        return self.state.person.local_admin_account

    def perform(self, title: str, instruction: str) -> bool:
        if not self.state.person.present:
            return False
        words = instruction.lower()  # the title may name the method ("Test after unlink-…")
        failures: list[str] = []
        if "tls" in words:
            failures += self._enable_tls()
        if "forcerecovery" in words:
            failures += self._force_recovery()
        if "sign out" in words:
            identity.sign_out(self.state)
        if "disconnect" in words or "unlink" in words:
            self._disconnect(words)
        if "connect" in words.replace("disconnect", "") or "join this device" in words:
            failures += self._connect()
        if "check" in instruction.lower():
            failures += self._check()
        elif "sign in" in words or "mfa" in words:
            failures += self._sign_in()
        self.log.append(f"{title}: " + ("; ".join(failures) if failures else "done"))
        return not failures

    def _sign_in(self) -> list[str]:
        if self.state.onedrive_status == "signed-in" and self.state.onedrive_running:
            return []
        why = identity.interactive_sign_in(self.state)
        return [why] if why else []

    def _check(self) -> list[str]:
        """The guide's test: start OneDrive if needed, answer its sign-in page, look."""
        if not self.state.onedrive_running:
            identity.onedrive_up(self.state)
            identity.silent_request(self.state)
        if self.state.onedrive_status == "sign-in-page":
            return self._sign_in()
        if self.state.onedrive_status == "error":
            return ["OneDrive shows a sign-in error"]
        return []

    def _enable_tls(self) -> list[str]:
        if not self.state.person.can_enable_tls:
            return ["the person is not allowed to change Internet options"]
        identity.set_tls12(self.state, True)
        return []

    def _force_recovery(self) -> list[str]:
        """``dsregcmd /forcerecovery`` on an Entra joined PC: a new registration with new keys."""
        if not identity.joined(self.state) or self.state.registration.join_type != "entra-joined":
            return ["dsregcmd /forcerecovery: this PC is not Entra joined"]
        identity.leave(self.state)
        if not identity.register(self.state):
            return ["the device could not register again (no connection to Microsoft)"]
        return []

    def _disconnect(self, words: str) -> None:
        if "unlink" in words:
            identity.unlink_account(self.state)
        elif identity.registered(self.state):
            identity.leave(self.state)

    def _connect(self) -> list[str]:
        if identity.registered(self.state):
            return []
        if not identity.register(self.state):
            return ["the work account could not be connected (no connection to Microsoft)"]
        why = identity.interactive_sign_in(self.state)
        return [why] if why else []
