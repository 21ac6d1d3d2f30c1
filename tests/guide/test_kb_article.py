"""The KB article carries every step of the community guide, in order, in both formats."""

import html
import re
from pathlib import Path

import pytest

from odfix.guide import load_guide
from odfix.publish.kb import KbConfig, KbConfigError, load_kb_config, render_kb

ROOT = Path(__file__).resolve().parents[2]
COMMUNITY = (ROOT / "tests/fixtures/community-guide/community-fix-guide-0x8004de40.txt").read_text(
    encoding="utf-8")

# Typed from the community guide, independent of the YAML: each method's heading, then its steps'
# UI labels and key phrases in the order the guide gives them.
METHODS = [
    ("Method 1:", ["Credential Manager", "Windows Credentials", "Generic Credentials",
                   "MicrosoftOffice", "OneDrive Cached Credential", "Remove", "Close OneDrive",
                   "10 seconds", "Start menu", "Microsoft 365", "Method 2"]),
    ("Method 2:", ["Windows key + I", "Accounts", "Access work or school", "Disconnect", "Yes",
                   "Restart", "Access work or school", "Connect",
                   "Join this device to Azure Active Directory", "Start menu", "0x8004de40",
                   "Method 3"]),
    ("Method 3:", ["OneDrive cloud icon", "gear", "Settings", "Account", "Unlink this PC",
                   "Unlink account", "Close OneDrive", "10 seconds", "Start menu",
                   "multi-factor authentication", "0x8004de40"]),
]
SPECIAL_CASES = [
    "password reset", "sign out of all Microsoft 365 apps", "Method 1", "Method 2",
    "newly imaged", "elevated PowerShell", "dsregcmd /leave", "dsregcmd /join", "Method 2",
    "Method 3",
    "every few days", "device compliance", "multi-factor authentication", "24 hours",
    "sign out of all Microsoft 365 apps", "tenant admin", "sign-in logs",
    "Microsoft Entra admin center", "token refresh failures",
    "Token refresh", "Credential reset", "start with a credential reset",
]
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
    find_in_order(COMMUNITY, SPECIAL_CASES, position)


def section(text: str, name: str) -> str:
    names = "|".join(SECTIONS)
    match = re.search(rf"^#* ?{name}\s*$(.*?)(?=^#* ?(?:{names})\s*$|\Z)", text, re.M | re.S)
    assert match, name
    return match.group(1)


def test_kcs_sections_in_order(article):
    headings = [line.lstrip("# ").strip() for line in article.splitlines()]
    positions = [headings.index(name) for name in SECTIONS]
    assert positions == sorted(positions)


def test_every_community_step_in_order(article):
    resolution = section(article, "Resolution")
    position = 0
    for heading, labels in METHODS:
        position = find_in_order(resolution, [heading, *labels], position)
    find_in_order(section(article, "Special cases"), SPECIAL_CASES)


def test_issue_has_the_exact_error_texts(article):
    issue = section(article, "Issue")
    for text in ("Something went wrong", "We couldn't sign you in", "0x8004de40"):
        assert text in issue


def test_microsoft_path_and_join_types_are_in_the_article(article):
    resolution = section(article, "Resolution")
    find_in_order(resolution, ["TLS 1.2", "cipher", "Report only", "corporate network",
                               "dsregcmd /leave", "dsregcmd /join", "/reset"])
    find_in_order(resolution, ["Method 2:", "entra-registered", "entra-joined",
                               "local administrator", "hybrid-joined", "dsregcmd /debug /leave",
                               "Method 3:"])
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
