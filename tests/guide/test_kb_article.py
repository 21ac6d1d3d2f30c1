"""The KB article carries every step of the community guide, in order, in both formats."""

import html
import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.guide import load_guide
from odfix.publish.kb import KbConfig, KbConfigError, load_kb_config, render_kb

ROOT = Path(__file__).resolve().parents[2]
COMMUNITY = (ROOT / "tests/fixtures/community-guide/community-fix-guide-0x8004de40.txt").read_text(
    encoding="utf-8")

# Typed from the community guide, independent of the YAML: the steps of Methods 1 and 3, which the
# article keeps, in the order the guide gives them. (Its Method 2 is replaced: see CORRECTIONS.)
METHODS = [
    ("Method 1:", ["Credential Manager", "Windows Credentials", "Generic Credentials",
                   "MicrosoftOffice", "OneDrive Cached Credential", "Remove",
                   "10 seconds", "Start menu", "Microsoft 365", "Method 2"]),
    ("Method 3:", ["OneDrive cloud icon", "Settings", "Account", "Unlink this PC",
                   "Unlink account", "10 seconds", "Start menu",
                   "multi-factor authentication", "0x8004de40"]),
]
# Issue 9's corrections, each checked in the Markdown KB, the HTML KB and `odfix guide`:
# phrases that must be there, and phrases the old text had that must be gone.
CORRECTIONS = {
    "method-2-router": (["Which path?", "Read the join type first", "dsregcmd /status",
                         "Entra registered — Disconnect the work account and Connect it again",
                         "Hybrid joined — dsregcmd /debug /leave"],
                        ["Join this device to Azure Active Directory",
                         "Disconnect and reconnect the work or school account"]),
    "unjoin-checklist": (["Before removing a device or account registration", "BitLocker",
                          "recovery key", "stale-device clean-up", "Intune and Autopilot",
                          "not the built-in Administrator", "Users may join devices",
                          "nothing waiting to upload"], []),
    "microsoft-path-first": (["start with Microsoft's path (network, TLS 1.2, proxy, device trust)",
                              "leaving or unjoining a device comes last",
                              "only when the evidence shows"], []),
    "password-reset": (["Sign in to Windows with the new password", "Windows logo key + L",
                        "line of sight to a domain controller", "VPN",
                        "Windows Hello keys are not affected"],
                       ["Method 2 only if the error returns"]),
    "newly-imaged": (["only schedules", "Automatic-Device-Join", "/debug only adds",
                      "re-provision", "Autopilot Reset keeps"],
                     ["Register the device again from an elevated prompt"]),
    "deleted-or-disabled": (["dsregcmd /forcerecovery", "AADSTS135011",
                             "hybrid joined one in on-premises Active Directory"], []),
    "onedrive-ui-and-reset": (["Help & Settings", "Quit OneDrive",
                               r"%localappdata%\Microsoft\OneDrive\onedrive.exe /reset",
                               r"C:\Program Files\Microsoft OneDrive\onedrive.exe",
                               r"C:\Program Files (x86)\Microsoft OneDrive\onedrive.exe"],
                              ["Close OneDrive"]),
    "sign-in-frequency": (["sign-in prompt", "policy decision", "not a fault on the PC"],
                          ["OneDrive does not renew it by itself"]),
    "clear-office-identity": (["After OneDrive has quit", "moves the folders",
                               "OneAuth.odfix-<UTC time>", "renaming it back restores it"],
                              ["delete the registry key"]),
    "connectivity-checks": (["device.login.microsoftonline.com",
                             "enterpriseregistration.windows.net", "certificate issuer",
                             "TLS 1.2 (or newer) handshake", "cipher-suite order",
                             "break-and-inspect"], []),
}
SECTIONS = ["Issue", "Environment", "Resolution", "Special cases", "Cause", "When to escalate",
            "Sources"]


def find_in_order(text: str, phrases: list[str], start: int = 0) -> int:
    """Index after the last phrase; fails naming the first phrase missing after its predecessor."""
    lowered = text.lower()
    position = start
    for phrase in phrases:
        found = lowered.find(phrase.lower(), position)
        assert found >= 0, f"{phrase!r} missing after offset {position}"
        position = found + len(phrase)
    return position


def plain(document: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", document))


@pytest.fixture(scope="module", params=["md", "html"])
def article(request) -> str:
    rendered = render_kb(load_guide(), request.param)
    return plain(rendered) if request.param == "html" else rendered


def test_own_list_is_faithful_to_the_community_text():
    position = 0
    for heading, labels in METHODS:
        position = find_in_order(COMMUNITY, [heading, *labels], position)


def section(text: str, name: str) -> str:
    names = "|".join(SECTIONS)
    match = re.search(rf"^#* ?{name}\s*$(.*?)(?=^#* ?(?:{names})\s*$|\Z)", text, re.M | re.S)
    assert match, name
    return match.group(1)


def test_kcs_sections_in_order(article):
    headings = [line.lstrip("# ").strip() for line in article.splitlines()]
    positions = [headings.index(name) for name in SECTIONS]
    assert positions == sorted(positions)


def test_community_steps_of_methods_1_and_3_in_order(article):
    resolution = section(article, "Resolution")
    position = 0
    for heading, labels in METHODS:
        position = find_in_order(resolution, [heading, *labels], position)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def guide_text() -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["guide"]) == 0
    return flat(out.getvalue())


@pytest.mark.parametrize("correction", sorted(CORRECTIONS))
def test_each_correction_is_in_both_kb_formats_and_the_guide(article, guide_text, correction):
    present, absent = CORRECTIONS[correction]
    for text in (flat(article), guide_text):
        for phrase in present:
            assert phrase in text, (correction, phrase)
        for phrase in absent:
            assert phrase not in text, (correction, phrase)


def path_of(text: str, title: str) -> str:
    """One join-type path of a method: from its heading to the next path or method."""
    start = text.index(f"Path: {title}")
    ends = [i for i in (text.find("Path:", start + 5), text.find("Method 3:", start)) if i > 0]
    return text[start:min(ends)]


def test_hybrid_path_never_shows_disconnect(article):
    hybrid = path_of(section(article, "Resolution"), "Hybrid joined — dsregcmd /debug /leave")
    assert "dsregcmd /debug /leave" in hybrid and "Disconnect" not in hybrid
    assert "Before removing a device or account registration" in hybrid


def test_every_path_that_removes_a_registration_starts_with_the_checklist(article):
    """Disconnect, dsregcmd /leave and /forcerecovery (which re-registers the device) appear
    only on join-type paths that open with the unjoin checklist and a gate."""
    text = flat(article).replace("`", "").replace("**", "")
    paths = text.split("Path: ")[1:]
    removing = [p for p in paths if re.search(
        r"Command: dsregcmd (/debug )?/(leave|forcerecovery)|Labels: Disconnect", p)]
    assert len(removing) >= 4  # Method 2: registered, joined, hybrid; the leave and rejoin: hybrid
    for path in removing:
        head = path.split("Confidence:")[0]
        assert "Before you start:" in head and "Gate:" in head, head[:120]


def test_microsoft_checks_come_first_and_the_leave_last(article):
    resolution = section(article, "Resolution")
    find_in_order(resolution, ["Before removing a device or account registration",
                               "Start here: Check the network, TLS, proxy and device trust",
                               "Method 1:", "Method 2:", "Which path?", "Method 3:",
                               "Reset OneDrive", "Leave and rejoin Microsoft Entra ID"])


def test_issue_has_the_exact_error_texts(article):
    issue = section(article, "Issue")
    for text in ("Something went wrong", "We couldn't sign you in", "0x8004de40"):
        assert text in issue


def test_microsoft_path_and_join_types_are_in_the_article(article):
    resolution = section(article, "Resolution")
    find_in_order(resolution, ["TLS 1.2", "cipher", "Report only", "corporate network",
                               "Method 2:", "entra-registered", "entra-joined",
                               "dsregcmd /forcerecovery", "hybrid-joined",
                               "dsregcmd /debug /leave", "domain-joined", "Method 3:",
                               "/reset", "dsregcmd /debug /leave", "dsregcmd /join"])
    assert "signoutofwamaccounts.ps1" in resolution
    assert "0x8004dec5" in resolution


def test_every_cited_source_is_listed(article):
    listed = section(article, "Sources")
    guide = load_guide()
    for source_id, source in guide.sources.items():
        assert f"[{source_id}]" in listed
        assert source.title in listed


def test_html_is_self_contained_and_printable():
    page = render_kb(load_guide(), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I)
    assert not re.search(r"\bsrc\s*=", page, re.I)
    assert "url(" not in page


def test_config_values_are_escaped():
    config = KbConfig(org="<script>alert(1)</script>", contact="Desk <x@y> & co")
    page = render_kb(load_guide(), "html", config)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Desk &lt;x@y&gt; &amp; co" in page
    markdown = render_kb(load_guide(), "md", config)
    assert "<script>" not in markdown


@pytest.mark.parametrize("field", ["org", "contact", "escalation_team", "title", "audience"])
def test_markdown_free_text_stays_on_its_line(field):
    """A line break in --org or --contact (or the config's title) must not end the table row or
    start a heading, a list or a link in the Markdown article (issue 10)."""
    hostile = "Contoso\n# Fake heading\r\n| x | y |\n- [click](https://evil.example)\x1b[2J"
    markdown = render_kb(load_guide(), "md", KbConfig(**{field: hostile}))
    assert "\n# Fake heading" not in markdown and "\n- [click]" not in markdown
    assert "\x1b" not in markdown and "\\x1b" in markdown
    assert "\\# Fake heading" in markdown and "\\[click\\]" in markdown
    lines = [line for line in markdown.splitlines() if "Fake heading" in line]
    assert len(lines) == 1
    page = render_kb(load_guide(), "html", KbConfig(**{field: hostile}))
    assert "\x1b" not in page and "Contoso # Fake heading" in page


def test_no_requester_data_by_default(article):
    assert not re.search(r"[\w.]+@[\w-]+\.\w+", article)  # no e-mail address / UPN


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_committed_examples_are_up_to_date(fmt):
    committed = (ROOT / f"docs/kb-example.{fmt}").read_text(encoding="utf-8")
    assert committed == render_kb(load_guide(), fmt), (
        f"docs/kb-example.{fmt} is stale: run odfix kb --format {fmt} --out docs/kb-example.{fmt}")


def test_kb_config_errors_name_file_and_field(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_text("org: Contoso IT\nstate: Approved\n", encoding="utf-8")
    with pytest.raises(KbConfigError) as caught:
        load_kb_config(path)
    assert caught.value.message.startswith(f"{path}: state (line 2): Input should be")
    path.write_text("org: Contoso IT\nteam: Tier 2\n", encoding="utf-8")
    with pytest.raises(KbConfigError, match=r"team \(line 2\): Extra inputs"):
        load_kb_config(path)
    path.write_text("org: Contoso IT\nescalation_team: Tier 2\n", encoding="utf-8")
    assert load_kb_config(path) == KbConfig(org="Contoso IT", escalation_team="Tier 2")
