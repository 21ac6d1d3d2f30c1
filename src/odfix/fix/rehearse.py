"""Run ``odfix fix`` on the simulated PC from start to end, restarts included.

On a real PC a restart ends the process and RunOnce starts ``odfix fix --resume`` at the next
logon; here the same happens in one process: after each restart the engine is started again with
``resume``, as the scheduled entry would.
"""

from odfix.fix.engine import Engine, FixOptions, FixReport, Narrator, quiet
from odfix.fix.journal import Journal
from odfix.hosts.sim.person import SimulatedPerson
from odfix.hosts.simulated import SimulatedHost

MAX_RESTARTS = 5


def rehearse(host: SimulatedHost, options: FixOptions, journal: Journal, *,
             interactive: bool = True, narrate: Narrator = quiet) -> list[FixReport]:
    """The reports of the first run and of every resume after a restart, in order."""
    person = SimulatedPerson(host.state) if interactive else None
    reports = [Engine(host, options, journal, person=person, narrate=narrate).run()]
    resume = options.model_copy(update={"resume": True, "apply": True})
    for _ in range(MAX_RESTARTS):
        if host.state.pending_resume is None:
            break
        narrate("restart", "the PC restarted; at logon RunOnce starts: "
                + " ".join(host.state.pending_resume))
        reports.append(Engine(host, resume, journal, person=person, narrate=narrate).run())
    return reports
