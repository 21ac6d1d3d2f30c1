"""Who the engine turns to for consent and for what only a person can do.

``ConsolePerson`` asks at the terminal (Rich prompts on stderr, so ``--json`` stdout stays clean);
the simulated PC supplies its own person (``odfix.hosts.sim.person``). An unattended run
(``--yes``) has no person: the engine then stops at such steps with exit 4 and a resume marker.
"""

from typing import Protocol

from rich.prompt import Confirm, Prompt

from odfix.output import err_console


class Person(Protocol):
    """The person at the PC."""

    def confirm(self, question: str) -> bool:
        """Yes/no consent before a step."""
        ...

    def perform(self, title: str, instruction: str) -> bool:
        """Do a UI step (sign in, MFA, Disconnect/Connect, Unlink); True when it is done."""
        ...

    def local_admin_account(self) -> str | None:
        """A local administrator account the person confirms they can sign in with."""
        ...


class ConsolePerson:
    """The technician or user at the terminal."""

    def confirm(self, question: str) -> bool:
        return Confirm.ask(question, console=err_console, default=True)

    def perform(self, title: str, instruction: str) -> bool:
        err_console.print(f"[bold]{title}[/bold]\n{instruction}")
        answer = Prompt.ask("Type [b]done[/b] when finished, or [b]skip[/b]",
                            console=err_console, choices=["done", "skip"], default="done")
        return answer == "done"

    def local_admin_account(self) -> str | None:
        name = Prompt.ask("Local administrator account that can sign in offline (empty: none)",
                          console=err_console, default="")
        if not name:
            return None
        return name if Confirm.ask(f"Can you sign in as {name} right now?",
                                   console=err_console, default=False) else None
