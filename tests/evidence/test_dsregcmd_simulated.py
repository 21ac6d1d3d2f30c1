"""The simulated PC renders dsregcmd /status in the real layout: every scenario must read back."""

import pytest

from odfix.evidence import dsregcmd
from odfix.hosts.simulated import build_host, load_scenario, scenario_names


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_parses_with_its_join_type(name, tmp_path):
    scenario = load_scenario(name)
    result = build_host(scenario, tmp_path).run(["dsregcmd", "/status"])
    status = dsregcmd.parse(result.stdout)
    assert status.join_type == scenario.join_type
    assert all(not section.other_lines for section in status.sections)
    if scenario.join_type in ("entra-joined", "hybrid-joined"):
        assert status.device_id is not None
        assert status.prt.azure_ad_prt is not None
