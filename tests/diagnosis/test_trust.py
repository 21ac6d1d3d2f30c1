"""Issue 9's cases that need more than one real capture (SYNTHETIC evidence from ``synthetic.py``):
the join type unknown, a lone network timeout, SYSTEM captures, confidence, the guide's order."""

from odfix.cli import main
from odfix.diagnosis import diagnose, plan
from odfix.diagnosis.models import Cause, Finding
from odfix.evidence.bundle import from_files
from odfix.exitcodes import ExitCode
from odfix.guide.load import load_guide

from .synthetic import Pc, files

DESTRUCTIVE = {"reconnect-work-account", "dsregcmd-leave-join"}


def run(*pcs: Pc, **options):
    return diagnose([from_files(files(pc), pc.name) for pc in pcs], **options)


def planned(result) -> set[str]:
    return {item.method for item in result.plan}


def test_a_lone_network_timeout_plans_the_checks_and_asks_for_the_captures():
    result = run(Pc(dsregcmd=False, aad=("network",)), error_code="0x8004de40")
    assert result.join_type == "unknown"
    assert result.outcome == "not-enough-evidence" and not result.healthy
    assert result.causes[0].id == "connectivity-tls"
    assert "connectivity-checks" in planned(result) and not planned(result) & DESTRUCTIVE
    ask = {a.file: a for a in result.ask_for}
    assert "join type is unknown" in ask["dsregcmd_status.txt"].why
    assert ask["dsregcmd_status.txt"].command == "dsregcmd /status > dsregcmd_status.txt"
    assert {"winhttp_proxy.txt", "schannel.reg"} <= set(ask)
    # Network evidence asked for: the live test odfix itself can run says more than the settings.
    assert ask["connectivity.json"].command == "odfix collect --connectivity"
    assert "TLS 1.2+ handshake" in ask["connectivity.json"].why


def test_the_cloned_image_plan_needs_one_known_join_type():
    """Two PCs share a DeviceId and one is broken, but they report different join types."""
    broken = Pc(name="PC-0001", device_auth="FAILED. Device is either disabled or deleted")
    other = Pc(name="PC-0002", domain_joined=False)
    result = run(broken, other)
    assert result.causes[0].id == "cloned-image" and result.join_type == "unknown"
    assert not planned(result) & DESTRUCTIVE
    same = run(broken, Pc(name="PC-0002"))
    assert same.join_type == "hybrid-joined" and "dsregcmd-leave-join" in planned(same)


def test_network_failures_on_a_healthy_hybrid_pc_plan_no_leave():
    result = run(Pc(aad=("network", "network", "network"), proxy=True),
                 error_code="0x8004de40")
    assert result.causes[0].id == "connectivity-tls" and result.join_type == "hybrid-joined"
    assert not planned(result) & DESTRUCTIVE
    assert result.outcome == "problem"


def test_a_system_capture_weighs_no_user_field_and_asks_again():
    result = run(Pc(session="system", prt=False, domain_joined=True))
    assert result.pcs[0].session == "system"
    prt = next(f for f in result.findings if f.id == "dsreg.prt-missing")
    assert prt.severity == "info" and not prt.weights and "SYSTEM" in prt.title
    assert result.outcome == "not-enough-evidence"
    assert result.coverage.user_scoped == "not-the-user"
    assert "captured as SYSTEM" in next(a.why for a in result.ask_for
                                        if a.file == "dsregcmd_status.txt")


def test_a_system_capture_of_an_unjoined_pc_has_an_unknown_join_type():
    """WorkplaceJoined belongs to the account that ran dsregcmd: as SYSTEM it says nothing about
    the user's work account, so registered or not is unknown."""
    result = run(Pc(session="system", azure_ad_joined=False, domain_joined=False,
                    workplace_joined=False, aad=("700003",)))
    assert result.join_type == "unknown" and not planned(result) & DESTRUCTIVE


def test_a_deleted_device_on_a_registered_pc_justifies_reconnecting_the_account():
    result = run(Pc(azure_ad_joined=False, domain_joined=False, workplace_joined=True,
                    prt=False, aad=("700003",)))
    assert result.join_type == "entra-registered"
    item = next(i for i in result.plan if i.method == "reconnect-work-account")
    assert item.justified_by == ["dsreg.work-account", "aad.device-object-missing"]
    assert item.variant == "registered-disconnect"


def test_device_auth_that_could_not_run_is_no_proof():
    result = run(Pc(device_auth="FAILED. ERROR", prt=False))
    assert "dsreg.device-auth-unverified" in {f.id for f in result.findings}
    assert not planned(result) & DESTRUCTIVE


def test_a_key_sign_test_that_did_not_run_is_no_failure():
    result = run(Pc(key_sign="Must Run Elevated to test."))
    assert "dsreg.key-sign-failed" not in {f.id for f in result.findings}


def test_a_disabled_device_says_why_the_reconnect_is_withheld():
    """DeviceAuthStatus "disabled or deleted" with AADSTS135011: the withheld Method 2 names the
    disabled device and the admin, not a missing proof the technician can see on screen."""
    result = run(Pc(domain_joined=False, prt=False, prt_error="135011",
                    device_auth="FAILED. Device is either disabled or deleted"))
    (withheld,) = result.withheld
    assert withheld.method == "reconnect-work-account"
    assert "device is disabled" in withheld.why and "re-enables" in withheld.why


def test_confidence_reflects_the_sources_present():
    device = Pc(device_auth="FAILED. Device is either disabled or deleted", prt=False)
    alone = run(Pc(**{**device.__dict__, "aad": ()}))
    with_log = run(Pc(**{**device.__dict__, "aad": ("50076",)}))
    assert alone.causes[0].id == with_log.causes[0].id == "device-registration"
    assert alone.causes[0].confidence < with_log.causes[0].confidence
    assert alone.coverage.missing == ["aad_events"] and with_log.coverage.missing == []
    system = run(Pc(**{**device.__dict__, "session": "system"}))
    assert system.causes[0].confidence < alone.causes[0].confidence


def test_filtering_holds_whatever_order_the_guide_gives():
    """The guide's plans as given and reversed (unjoin first or last): without proof the
    destructive method stays out, with proof it is planned in the guide's order."""
    guide = load_guide()
    reversed_guide = guide.model_copy(update={"causes": [
        c.model_copy(update={"plan": list(reversed(c.plan)), "plan_by_join_type": {
            j: list(reversed(p)) for j, p in c.plan_by_join_type.items()}})
        for c in guide.causes]})
    cause = Cause(id="device-registration", confidence=0.9, summary="s",
                  finding_ids=["dsreg.prt-missing"])
    hunch = [Finding(id="dsreg.prt-missing", severity="error", title="t", source="dsregcmd",
                     weights={"device-registration": 0.7})]
    proof = [*hunch, Finding(id="dsreg.device-joined", severity="info", title="t",
                             source="dsregcmd"),
             Finding(id="dsreg.key-sign-failed", severity="error", title="t", source="dsregcmd",
                     weights={"device-registration": 0.8})]
    for candidate in (guide, reversed_guide):
        order = candidate.plan_for("device-registration", "hybrid-joined")
        assert "reconnect-work-account" in order
        items, withheld, _ = plan.build([cause], hunch, "hybrid-joined", candidate)
        assert [w.method for w in withheld] == ["reconnect-work-account"]
        assert [i.method for i in items] == [m for m in order if m != "reconnect-work-account"]
        items, withheld, _ = plan.build([cause], proof, "hybrid-joined", candidate)
        assert withheld == [] and [i.method for i in items] == order
        item = next(i for i in items if i.method == "reconnect-work-account")
        assert item.justified_by == ["dsreg.device-joined", "dsreg.key-sign-failed"]


def test_not_enough_evidence_exits_4(capsys, tmp_path):
    folder = tmp_path / "pc"
    folder.mkdir()
    for name, data in files(Pc(dsregcmd=False, aad=("network",))).items():
        (folder / name).write_bytes(data)
    assert main(["diagnose", str(folder)]) == ExitCode.NEEDS_USER
    out = capsys.readouterr().out
    assert "Not enough evidence" in out and "dsregcmd /status > dsregcmd_status.txt" in out


def test_an_account_entra_id_does_not_know_goes_to_the_directory_administrator():
    """AADSTS90002 on the PRT request and in the AAD log: the UPN suffix is no tenant domain."""
    result = run(Pc(prt=False, prt_error="90002", aad=("90002", "90002")))
    ids = {f.id for f in result.findings}
    assert {"dsreg.prt-user-not-in-tenant", "aad.user-not-in-tenant"} <= ids
    missing = next(f for f in result.findings if f.id == "dsreg.prt-missing")
    assert not missing.weights
    assert result.escalation and result.escalation.startswith("To the directory administrator")
    assert "UPN" in result.escalation and "disabled or deleted" not in result.escalation
    assert result.verdict.endswith("not fixable on this PC: to the directory administrator "
                                   "(Active Directory / Entra Connect)")
    assert not planned(result) & DESTRUCTIVE and result.outcome == "problem"


def test_a_discovery_failure_is_the_network_teams():
    result = run(Pc(azure_ad_joined=False, prejoin="discovery"))
    assert result.join_type == "domain-joined" and result.causes[0].id == "connectivity-tls"
    assert "dsreg.registration-network" in {f.id for f in result.findings}
    assert result.escalation and result.escalation.startswith("To the network team")
    assert "connectivity-checks" in planned(result) and not planned(result) & DESTRUCTIVE


def test_a_pending_sync_join_waits_for_entra_connect():
    result = run(Pc(azure_ad_joined=False, prejoin="sync"))
    finding = next(f for f in result.findings if f.id == "dsreg.registration-sync-pending")
    assert finding.severity == "warning" and "0x801c03f2" in finding.title
    assert result.escalation and "sync scope" in result.escalation
    assert not planned(result) & DESTRUCTIVE


BROKEN = {"device_auth": "FAILED. Device is either disabled or deleted", "key_sign": "FAILED",
          "prt": False, "aad": ("700003",)}
"""The strongest evidence that a registration is broken (deleted device, keys that cannot
sign): the plan may then remove what the join type has, and nothing it does not have."""


def test_method_2_takes_the_join_types_variant_or_none():
    expected = {
        "entra-joined": ("reconnect-work-account", "joined-local-admin"),
        "hybrid-joined": ("reconnect-work-account", "hybrid-debug-leave"),
        "entra-registered": ("reconnect-work-account", "registered-disconnect"),
        "domain-joined": None, "none": None, "unknown": None,
    }
    pcs = {
        "entra-joined": Pc(domain_joined=False, **BROKEN),
        "hybrid-joined": Pc(**BROKEN),
        "entra-registered": Pc(azure_ad_joined=False, domain_joined=False,
                               workplace_joined=True, **BROKEN),
        "domain-joined": Pc(azure_ad_joined=False, prejoin="scp", **BROKEN),
        "none": Pc(azure_ad_joined=False, domain_joined=False, **BROKEN),
        "unknown": Pc(dsregcmd=False, aad=("700003", "network")),
    }
    for join_type, pc in pcs.items():
        result = run(pc, error_code="0x8004de40")
        assert result.join_type == join_type
        removing = [(i.method, i.variant) for i in result.plan if i.method in DESTRUCTIVE]
        assert removing == ([expected[join_type]] if expected[join_type] else []), join_type
        assert all(i.justified_by for i in result.plan if i.method in DESTRUCTIVE)
