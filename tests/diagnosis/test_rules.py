"""Rules on the scenario captures: the right finding ids, each citing real lines of the file."""

from datetime import UTC, datetime

import pytest

from odfix.diagnosis.rules import aad_events, credentials, dsregcmd, identities, network
from odfix.diagnosis.rules.context import RuleContext
from odfix.evidence import aad_events as aad_parser
from odfix.evidence import aad_text, office_identity, onedrive
from odfix.evidence import credentials as cred_parser
from odfix.evidence import dsregcmd as dsreg_parser
from odfix.evidence import network as net_parser
from odfix.guide.codes import load_catalog

from .conftest import SCENARIOS
from .conftest import assert_cited as cited

CAPTURE = datetime(2026, 1, 12, 8, 45, tzinfo=UTC)


def context(now=CAPTURE, changed=None):
    return RuleContext(catalog=load_catalog(), now=now, password_changed_at=changed)


def assert_cited(folder, found):
    cited(folder, [c for f in found for c in f.evidence])


def ids(found):
    return {f.id for f in found}


@pytest.mark.parametrize(("folder", "expected"), [
    ("device-registration", {"dsreg.device-auth-failed", "dsreg.recovery-pending",
                             "dsreg.key-sign-failed"}),
    ("hybrid-joined", {"dsreg.dual-state", "dsreg.prt-stale", "dsreg.wam-default-not-set"}),
    ("entra-joined", {"dsreg.device-auth-failed", "dsreg.prt-missing",
                      "dsreg.prt-device-disabled"}),
    ("password-change", {"dsreg.prt-missing", "dsreg.prt-acquire-failed"}),
])
def test_dsregcmd_rules(scenarios, folder, expected):
    status = dsreg_parser.parse((scenarios / folder / "dsregcmd_status.txt").read_bytes())
    found = dsregcmd.findings(status, context())
    assert expected <= ids(found)
    assert_cited(scenarios / folder, found)


def test_healthy_dsregcmd_has_only_the_join_type(scenarios):
    status = dsreg_parser.parse((scenarios / "healthy" / "dsregcmd_status.txt").read_bytes())
    found = dsregcmd.findings(status, context(datetime(2026, 1, 12, 8, 5, tzinfo=UTC)))
    assert ids(found) == {"dsreg.join-type", "dsreg.device-joined"}
    assert all(f.severity == "info" and not f.weights for f in found)
    assert found[0].title == "Join type: hybrid-joined"


def test_prt_diagnostics_weigh_by_the_aadsts_category(scenarios):
    status = dsreg_parser.parse((scenarios / "password-change" / "dsregcmd_status.txt")
                                .read_bytes())
    found = dsregcmd.findings(status, context())
    prt = next(f for f in found if f.id == "dsreg.prt-acquire-failed")
    assert "AADSTS50126" in prt.title
    assert [c.line for c in prt.evidence] == [69, 70, 71, 73, 78, 79, 80]
    assert prt.weights["stale-token-password-change"] == 0.8


def test_stale_prt_needs_a_capture_time(scenarios):
    status = dsreg_parser.parse((scenarios / "hybrid-joined" / "dsregcmd_status.txt").read_bytes())
    assert "dsreg.prt-stale" not in ids(dsregcmd.findings(status, context(now=None)))


def test_recurring_interaction_has_a_daily_period(scenarios):
    log = aad_parser.parse((scenarios / "recurring-ca" / "aad_operational.xml").read_bytes())
    found = aad_events.findings(log, context())
    recurring = next(f for f in found if f.id == "aad.recurring-interaction")
    assert "every ~24" in recurring.title and "5 occurrences" in recurring.title
    assert len(recurring.details) == len(recurring.evidence) == 8
    assert recurring.details[0].startswith("line 1: 2026-01-12 08:00:04 UTC event 1098 0xCAA2000C")
    assert_cited(scenarios / "recurring-ca", found)


def test_network_errors_and_tls_and_proxy(scenarios):
    folder = scenarios / "connectivity-tls"
    log = aad_parser.parse((folder / "aad_operational.xml").read_bytes())
    found = aad_events.findings(log, context())
    assert "aad.network-errors" in ids(found)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    state = net_parser.from_files(files)
    assert state is not None
    net = network.findings(state, network_failures=True)
    assert ids(net) == {"net.tls12-disabled", "net.proxy-suspect"}
    assert network.findings(state, network_failures=False)[1].id == "net.proxy"
    assert_cited(folder, found + net)


def test_revoked_tokens_count_failures_after_the_password_change(scenarios):
    folder = scenarios / "password-change"
    log = aad_parser.parse((folder / "aad_operational.xml").read_bytes())
    changed = datetime(2025, 7, 15, 9, tzinfo=UTC)
    found = aad_events.findings(log, context(changed=changed))
    revoked = next(f for f in found if f.id == "aad.token-revoked")
    assert "3 after the password change" in revoked.title
    assert revoked.weights == {"stale-token-password-change": 0.85}


def test_credentials_written_before_the_password_change(scenarios):
    folder = scenarios / "password-change"
    creds = cred_parser.parse_json((folder / "credentials.json").read_bytes())
    found = credentials.findings(creds, context(changed=datetime(2025, 7, 15, 9, tzinfo=UTC)))
    older = next(f for f in found if f.id == "cred.written-before-password-change")
    assert len(older.evidence) == 3
    assert_cited(folder, found)
    assert "cred.written-before-password-change" not in ids(
        credentials.findings(creds, context(changed=datetime(2025, 7, 1, tzinfo=UTC))))


def test_several_identities(scenarios):
    folder = scenarios / "multiple-identities"
    office = office_identity.parse((folder / "office_identity.reg").read_bytes())
    state = onedrive.parse((folder / "onedrive.reg").read_bytes())
    creds = cred_parser.parse_cmdkey((folder / "cmdkey_list.txt").read_bytes())
    found = identities.office(office) + identities.onedrive(state) + credentials.findings(
        creds, context())
    assert {"identity.several-office-identities", "identity.office-wam-disabled",
            "onedrive.several-business-accounts", "cred.several-office-users"} <= ids(found)
    assert_cited(folder, found)


def test_expired_prt_and_device_certificate(scenarios):
    status = dsreg_parser.parse((scenarios / "healthy" / "dsregcmd_status.txt").read_bytes())
    later = datetime(2034, 6, 1, tzinfo=UTC)
    found = dsregcmd.findings(status, context(now=later))
    assert {"dsreg.prt-expired", "dsreg.device-cert-expired", "dsreg.prt-stale"} <= ids(found)
    assert_cited(scenarios / "healthy", found)


def test_prt_renewed_before_the_password_change(scenarios):
    status = dsreg_parser.parse((scenarios / "hybrid-joined" / "dsregcmd_status.txt").read_bytes())
    after = context(changed=datetime(2026, 1, 11, tzinfo=UTC))
    before = context(changed=datetime(2026, 1, 9, tzinfo=UTC))
    assert "dsreg.prt-before-password-change" in ids(dsregcmd.findings(status, after))
    assert "dsreg.prt-before-password-change" not in ids(dsregcmd.findings(status, before))


def test_one_mfa_prompt_is_not_a_cause():
    folder = SCENARIOS.parent / "aad_events"
    log = aad_parser.parse((folder / "rendered_root_wrapped.xml").read_bytes())
    prompt = next(f for f in aad_events.findings(log, context())
                  if f.id == "aad.interaction-required")
    assert prompt.weights == {"recurring-conditional-access": 0.2}


def test_prompts_without_times_and_expected_interrupts_read_right():
    """Event Viewer text gives no times (REAL: kiosk-mfa-events-learn): the prompt is counted,
    not called "0 occurrences"; AADSTS50158 is an expected interrupt, not an unexplained error."""
    folder = SCENARIOS.parent / "real" / "kiosk-mfa-events-learn"
    log = aad_text.parse_text((folder / "aad_operational.txt").read_bytes())
    found = {f.id: f for f in aad_events.findings(log, context())}
    assert found["aad.interaction-required"].title.startswith("1 event(s) of interaction")
    assert "without times" in found["aad.interaction-required"].title
    assert "AADSTS50158" in found["aad.interrupts"].title and not found["aad.interrupts"].weights
    assert "aad.other-errors" not in found
