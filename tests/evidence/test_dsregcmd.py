"""dsregcmd /status: fixtures of real layouts, quirks, derived facts."""

from pathlib import Path

from odfix.evidence import dsregcmd

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dsregcmd"


def load(name: str) -> dsregcmd.DsregStatus:
    return dsregcmd.parse((FIXTURES / name).read_bytes(), source=name)


def test_hybrid_with_failing_prt():
    status = load("hybrid_prt_failure_learn.txt")
    assert status.join_type == "hybrid-joined"
    assert status.prt.azure_ad_prt is False
    (diag,) = status.prt.diagnostics
    assert (diag.kind, diag.attempt_status, diag.aadsts) == ("acquire", "0xc000006d", 50126)
    assert status.health.device_auth_status == "SUCCESS"
    field = status.get("Tenant Details", "SettingsUrl")
    assert field is not None and field.value == ""
