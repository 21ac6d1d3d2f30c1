"""The simulated PC answers wevtutil with AAD events: every scenario must read back."""

import pytest

from odfix.evidence import aad_events
from odfix.hosts.simulated import build_host, load_scenario, scenario_names

QUERY = ["wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500"]


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_log_parses(name, tmp_path):
    log = aad_events.parse(build_host(load_scenario(name), tmp_path).run(QUERY).stdout)
    for event in log.events:
        assert event.is_aad and event.time is not None
        assert event.citation.line >= 1
    if name != "healthy":
        assert any(e.id == 1098 and e.codes for e in log.events)
