"""The packaged guide validates, its cross-references hold, and its plans follow the join type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.guide import Guide, JoinType, StepContext, load_guide
from odfix.hosts.base import CredType

# Typed from docs/interfaces.md (the contract), not read from the guide.
INTERFACE_CAUSES = [
    "stale-token-password-change", "device-registration", "cloned-image",
    "recurring-conditional-access", "connectivity-tls", "multiple-identities", "healthy",
]
INTERFACE_METHODS = [
    "credential-cleanup", "reconnect-work-account", "unlink-relink-onedrive", "wam-signout",
    "dsregcmd-leave-join", "connectivity-checks", "clear-office-identity", "reset-onedrive",
    "new-password-sign-in", "sign-in-again",
]
JOINED = ("entra-joined", "hybrid-joined")
INTERFACE_ACTIONS = {
    "close_onedrive", "wait", "start_onedrive", "delete_cached_credentials", "open_uri", "person",
    "reboot_with_resume", "dsregcmd_leave", "dsregcmd_join", "reset_onedrive",
    "clear_office_identity", "report_connectivity", "verify_sign_in",
}


@pytest.fixture(scope="module")
def guide() -> Guide:
    return load_guide()


def all_steps(guide: Guide):
    for method in guide.methods:
        yield from method.steps
        for variant in method.variants:
            yield from variant.steps
    for case in guide.special_cases:
        yield from (item.step for item in case.sequence if item.step)


def test_packaged_guide_loads_and_is_cached(guide):
    assert load_guide() is guide
    assert guide.issue.codes[0] == "0x8004de40"


def test_interface_ids_exist(guide):
    assert [c.id for c in guide.causes] == INTERFACE_CAUSES
    assert sorted(m.id for m in guide.methods) == sorted(INTERFACE_METHODS)
    # Microsoft's checks come first, then the community's Methods 1-3 (issue 9).
    assert guide.order == ["connectivity-checks", "credential-cleanup", "reconnect-work-account",
                           "unlink-relink-onedrive"]
    assert [guide.method(m).number for m in guide.order] == [None, 1, 2, 3]
    assert [j.id for j in guide.join_types] == list(JoinType)


def test_every_cause_method_and_variant_is_sourced(guide):
    for item in [*guide.causes, *guide.methods, *guide.special_cases, *guide.discrepancies,
                 *(v for m in guide.methods for v in m.variants), *guide.checklists,
                 *(i for c in guide.checklists for i in c.items)]:
        assert item.sources, item
        assert all(source in guide.sources for source in item.sources)
        assert item.confidence.value in {"microsoft-doc", "community", "inferred"}


def test_actions_come_from_the_interface_list(guide):
    used = {step.action.name for step in all_steps(guide) if step.action}
    used |= {m.test.action.name for m in guide.methods if m.test.action}
    assert used <= INTERFACE_ACTIONS
    assert {"delete_cached_credentials", "dsregcmd_leave", "dsregcmd_join", "reset_onedrive",
            "clear_office_identity", "report_connectivity", "verify_sign_in"} <= used


def test_every_method_ends_with_a_test(guide):
    for method in guide.methods:
        assert method.test.if_fixed and method.test.if_not_fixed
        assert method.test.action is not None and method.test.action.name == "verify_sign_in"


def test_cipher_suites_are_reported_never_changed(guide):
    cipher_steps = [s for s in all_steps(guide) if "cipher" in (s.title + s.text).lower()]
    assert cipher_steps
    for step in cipher_steps:
        assert step.action is None or step.action.name == "report_connectivity"


def test_credential_allowlist_matches_interface(guide):
    office = "LegacyGeneric:target=MicrosoftOffice16_Data:SSPI:user@contoso.com"
    assert guide.credential_class_for(office, CredType.GENERIC) == "office"
    business = "LegacyGeneric:target=OneDrive Cached Credential Business - Business1"
    assert guide.credential_class_for(business, CredType.GENERIC) == "onedrive-business"
    assert guide.credential_class_for("OneDrive Cached Credential", CredType.GENERIC) is None
    assert guide.credential_class_for(office, CredType.DOMAIN_PASSWORD) is None
    assert guide.credential_class_for("MicrosoftAccount:target=SSO_POP_Device", 1) is None


@given(
    namespace=st.sampled_from(["", "LegacyGeneric:target=", "WindowsLive:target="]),
    prefix=st.sampled_from(["MicrosoftOffice", "OneDrive Cached Credential Business"]),
    rest=st.text(max_size=30),
    flips=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_allowlist_is_case_insensitive_and_ignores_namespace(namespace, prefix, rest, flips):
    guide = load_guide()
    mixed = "".join(c.upper() if flip else c.lower()
                    for c, flip in zip(prefix, flips, strict=False))
    expected = "office" if prefix == "MicrosoftOffice" else "onedrive-business"
    assert guide.credential_class_for(namespace + mixed + rest, CredType.GENERIC) == expected
    assert guide.credential_class_for(namespace + mixed + rest, CredType.DOMAIN_PASSWORD) is None


@given(target=st.text(max_size=40))
def test_allowlist_never_matches_other_targets(target):
    guide = load_guide()
    name = target.split(":target=", 1)[-1].casefold()
    allowed = name.startswith(("microsoftoffice", "onedrive cached credential business"))
    assert (guide.credential_class_for(target, CredType.GENERIC) is not None) == allowed


def unjoins(step) -> bool:
    """The same test the model applies: leaves, a Disconnect, or a /forcerecovery (which
    re-registers the device)."""
    leave = step.action is not None and step.action.name == "dsregcmd_leave"
    command = step.command or ""
    return leave or "Disconnect" in step.labels or "/leave" in command or (
        "/forcerecovery" in command)


def said(step) -> str:
    words = [step.title, step.text, *step.labels, step.command or ""]
    if step.action and step.action.name == "person":
        words.append(step.action.args.instruction)
    return " ".join(words)


# The plans of issue 9: Microsoft's path first, no Disconnect for a password change, and an
# unjoin only on a join type where one exists.
PLANS = {
    "stale-token-password-change": {
        None: ["new-password-sign-in", "credential-cleanup", "wam-signout",
               "unlink-relink-onedrive"]},
    "device-registration": {
        None: ["credential-cleanup", "unlink-relink-onedrive"],
        "entra-joined": ["reconnect-work-account", "unlink-relink-onedrive"],
        "hybrid-joined": ["reconnect-work-account", "unlink-relink-onedrive"],
        "entra-registered": ["reconnect-work-account", "unlink-relink-onedrive"]},
    "cloned-image": {
        None: ["unlink-relink-onedrive"],
        "entra-joined": ["dsregcmd-leave-join", "unlink-relink-onedrive"],
        "hybrid-joined": ["dsregcmd-leave-join", "unlink-relink-onedrive"]},
    "recurring-conditional-access": {None: ["sign-in-again"]},
    "connectivity-tls": {None: ["connectivity-checks", "reset-onedrive"]},
    "multiple-identities": {None: ["clear-office-identity", "credential-cleanup"]},
    "healthy": {None: []},
}


@pytest.mark.parametrize("join_type", list(JoinType))
@pytest.mark.parametrize("cause", INTERFACE_CAUSES)
def test_plans_by_cause_and_join_type(guide, cause, join_type):
    expected = PLANS[cause].get(join_type.value, PLANS[cause][None])
    assert guide.plan_for(cause, join_type) == expected


@pytest.mark.parametrize("join_type", list(JoinType))
@pytest.mark.parametrize("cause", INTERFACE_CAUSES)
def test_resolved_plans_never_unjoin_unguarded(guide, cause, join_type):
    """Over every cause and join type: a planned step that unjoins carries the checklist, an
    unknown, domain-only or unjoined PC is never unjoined, a password change never disconnects,
    and a hybrid joined PC never sees Disconnect."""
    for method in guide.resolve(cause, join_type).methods:
        unjoining = [step for step in method.steps if unjoins(step)]
        if unjoining:
            assert any("BitLocker" in item for item in method.checklist), (method.id, join_type)
            assert guide.method(method.id).destructive
        if join_type in ("unknown", "domain-joined", "none") or cause in (
                "stale-token-password-change", "recurring-conditional-access",
                "connectivity-tls", "healthy"):
            assert not unjoining, (cause, join_type, method.id)
        if join_type == "hybrid-joined":
            assert not any("Disconnect" in said(step) for step in method.steps), method.id


def test_connectivity_comes_first_and_the_leave_last(guide):
    de40 = guide.discrepancies[0]
    assert de40.methods[0] == "connectivity-checks" and de40.methods[-1] == "dsregcmd-leave-join"
    assert guide.methods[-1].id == "dsregcmd-leave-join"
    checks = guide.method("connectivity-checks")
    text = " ".join(said(step) for step in checks.steps) + checks.summary
    for endpoint in ("login.microsoftonline.com", "device.login.microsoftonline.com",
                     "enterpriseregistration.windows.net", "sharepoint.com"):
        assert endpoint in text
    for phrase in ("TLS 1.2", "certificate issuer", "proxy", "cipher-suite order",
                   "break-and-inspect"):
        assert phrase in text
    assert all(s.action is None or s.action.name in {"report_connectivity", "reboot_with_resume"}
               for s in checks.steps)


def test_method_2_routes_by_join_type(guide):
    method = guide.method("reconnect-work-account")
    assert [s.command for s in method.steps] == ["dsregcmd /status"]  # unknown: read it first
    assert not any(unjoins(s) for s in method.steps)
    assert not any("Join this device to Azure Active Directory" in said(s)
                   for s in [*method.steps, *(s for v in method.variants for s in v.steps)])

    def planned(join_type):
        plan = guide.resolve("device-registration", join_type)
        return next(m for m in plan.methods if m.id == "reconnect-work-account")

    hybrid = planned("hybrid-joined")
    assert hybrid.context == StepContext.ELEVATED and hybrid.checklist
    leave = hybrid.steps[0].action
    assert leave is not None and leave.name == "dsregcmd_leave" and leave.args.debug is True
    joined = planned("entra-joined")
    assert joined.context == StepContext.LOCAL_ADMIN and joined.gate
    assert [s.command for s in joined.steps if s.command] == [
        "dsregcmd /status", "dsregcmd /forcerecovery"]
    # /forcerecovery re-registers the device: it replaces a registration, so the checklist first
    assert [s.command for s in joined.steps if unjoins(s)] == ["dsregcmd /forcerecovery"]
    assert any("BitLocker" in item for item in joined.checklist)
    assert "disabled" in said(joined.steps[0]) and "enable" in said(joined.steps[0])
    registered = planned("entra-registered")
    assert registered.context == StepContext.USER and registered.checklist
    assert any("Disconnect" in step.labels for step in registered.steps)
    assert "device-join link" in said(registered.steps[3])
    for join_type in ("domain-joined", "none"):
        variant = guide.method("reconnect-work-account").variant_for(join_type)
        assert variant is not None and not any(unjoins(s) for s in variant.steps)


def test_leave_and_join_by_join_type(guide):
    method = guide.method("dsregcmd-leave-join")
    hybrid = method.variant_for("hybrid-joined")
    assert hybrid.checklist == "before-unjoin"
    assert [s.command for s in hybrid.steps if s.command] == [
        "dsregcmd /debug /leave", "dsregcmd /join"]
    assert "only schedules" in said(hybrid.steps[1]) and "Automatic-Device-Join" in hybrid.why
    joined = method.variant_for("entra-joined")
    assert not any(s.action and s.action.name in {"dsregcmd_leave", "dsregcmd_join"}
                   for s in joined.steps)
    assert "Autopilot" in joined.why and "re-provision" in joined.why
    for join_type in ("entra-registered", "domain-joined", "none"):
        variant = method.variant_for(join_type)
        assert not any(s.action and s.action.name.startswith("dsregcmd") for s in variant.steps)


def test_the_unjoin_checklist(guide):
    checklist = guide.checklist("before-unjoin")
    text = " ".join(item.text for item in checklist.items)
    for phrase in ("BitLocker", "recovery key", "stale-device", "Intune", "Autopilot",
                   "built-in Administrator", "Users may join devices", "upload"):
        assert phrase in text
    unjoining = [v for m in guide.methods for v in m.variants if any(unjoins(s) for s in v.steps)]
    assert unjoining and all(v.checklist == "before-unjoin" for v in unjoining)


def test_special_cases(guide):
    cases = {case.id: case for case in guide.special_cases}
    reset = cases["after-password-reset"]
    assert [i.method for i in reset.sequence] == [
        "new-password-sign-in", "credential-cleanup", "wam-signout", "unlink-relink-onedrive"]
    method = guide.method("new-password-sign-in")
    sign_in = " ".join(said(s) for s in [*method.steps, *method.variants[0].steps])
    assert method.variant_for("hybrid-joined").steps[0].title.startswith("Connect to the corporate")
    for phrase in ("Windows logo key + L", "new password", "line of sight to a domain controller",
                   "VPN", "Windows Hello"):
        assert phrase in sign_in
    imaged = cases["newly-imaged-pc"]
    assert imaged.sequence[0].step.command == "dsregcmd /status"
    assert [i.method for i in imaged.sequence[1:]] == [
        "dsregcmd-leave-join", "unlink-relink-onedrive"]
    assert "/debug only adds" in imaged.notes[0]
    gone = cases["device-disabled-or-deleted"]
    assert "AADSTS135011" in gone.when and "forcerecovery" in gone.explanation
    assert "on-premises Active Directory" in gone.explanation
    assert cases["hybrid-join-not-configured"].escalation == "device-admin"
    assert [i.method for i in cases["hybrid-join-not-configured"].sequence if i.method] == [
        "credential-cleanup", "unlink-relink-onedrive"]
    recurring = cases["returns-every-few-days"]
    assert recurring.escalation == "tenant-admin-signin-logs"
    assert "sign-in prompt" in recurring.explanation and "policy decision" in recurring.explanation
    assert recurring.sequence[0].method == "sign-in-again"


def test_onedrive_wording_and_reset_paths(guide):
    everything = " ".join(said(s) for s in all_steps(guide))
    assert "Close OneDrive" not in everything and "Quit OneDrive" in everything
    reset = " ".join(said(s) for s in guide.method("reset-onedrive").steps)
    for path in (r"%localappdata%\Microsoft\OneDrive\onedrive.exe /reset",
                 r"C:\Program Files\Microsoft OneDrive\onedrive.exe",
                 r"C:\Program Files (x86)\Microsoft OneDrive\onedrive.exe /reset"):
        assert path in reset


def test_clear_office_identity_says_what_the_action_does(guide):
    method = guide.method("clear-office-identity")
    text = method.summary + " ".join(said(s) for s in method.steps)
    for phrase in ("After OneDrive has quit", "OneAuth", "IdentityCache", "aside",
                   "OneAuth.odfix-<UTC time>", "rename the folders back", "journal"):
        assert phrase in text
    assert method.steps[0].action.name == "close_onedrive"
    assert method.steps[1].action.name == "clear_office_identity"


def test_the_new_password_path_by_join_type(guide):
    """Line of sight to a domain controller wherever AD checks the password (hybrid and domain
    joined); no Windows sign-in where Windows does not use the work account."""
    method = guide.method("new-password-sign-in")
    for join_type in ("hybrid-joined", "domain-joined"):
        steps = method.steps_for(join_type)
        assert steps[0].title.startswith("Connect to the corporate network or VPN")
    for join_type in ("entra-registered", "none"):
        text = " ".join(said(s) for s in method.steps_for(join_type))
        assert "Windows logo key + L" not in text and "sign in with the new" in text
        assert method.steps_for(join_type)[-1].action.name == "person"  # unattended: it waits
    assert "Windows logo key + L" in said(method.steps_for("entra-joined")[0])
