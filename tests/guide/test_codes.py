"""The error-code catalog and ``odfix explain``."""

import json
import re
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.cli import main
from odfix.errors import BadInput
from odfix.exitcodes import ExitCode
from odfix.guide.codes import (
    CATEGORY_MEANINGS,
    NOT_FAILURES,
    Category,
    UnknownCode,
    load_catalog,
    normalize_code,
    read_catalog,
)

ONEDRIVE = ["de40", "de44", "de80", "de81", "de85", "de86", "de88", "de8a", "de90", "deb4", "dec5",
            "deef", "def0", "def4", "def7"]
AADSTS = [50173, 50132, 50133, 70043, 70044, 700082, 50089, 50097, 50155, 53000, 53003, 530003,
          50076, 50079, 50074, 50158, 135011, 50126, 50053, 50057, 500121, 70008, 50072, 9002341]
# The WAM codes named in shared/reference/windows-endpoint.md B5.
WAM = ["CAA20001", "CAA20002", "CAA20003", "CAA20004", "CAA20005", "CAA20007", "CAA20008",
       "CAA20009", "CAA2000B", "CAA2000C", "CAA20064", "CAA70004", "CAA70007", "CAA7000A",
       "CAA70010", "CAA82EE2", "CAA82EE7", "CAA82EFD", "CAA82F8F", "CAA82F86", "CAA82F87",
       "CAA30194", "CAA30197", "CAA90003", "CAA90004", "CAA90018", "CAA60003", "CAA5001C"]
CATEGORIES = {"password-change", "wrong-password", "sign-in-frequency", "inactivity",
              "interaction-required", "interrupt", "device", "ca-block", "network",
              "identity-cache", "account-license", "unknown"}


def test_every_category_has_a_meaning():
    assert set(get_args(Category)) == CATEGORIES == set(CATEGORY_MEANINGS)
    assert NOT_FAILURES <= CATEGORIES


# Microsoft names these "...Interrupt" or calls them an expected part of the sign-in flow.
@pytest.mark.parametrize("code", [50140, 50058, 50074, 50072, 50125, 9002341, 50168, 50158])
def test_expected_interrupts_are_not_failures(code):
    assert load_catalog().category_for(f"AADSTS{code}") in NOT_FAILURES


@pytest.mark.parametrize("code", [50076, 50079, 700020, 500121])
def test_interaction_that_did_not_happen_stays_interaction_required(code):
    assert load_catalog().category_for(f"AADSTS{code}") == "interaction-required"


def test_50126_is_a_wrong_password_not_a_password_change():
    entry = load_catalog().lookup("AADSTS50126")
    assert entry.category == "wrong-password"
    assert "not a password change" in entry.meaning.lower()


@pytest.mark.parametrize("suffix", ONEDRIVE)
def test_onedrive_family_is_catalogued(suffix):
    assert load_catalog().find(f"0x8004{suffix}") is not None


def test_e4d0_is_catalogued():
    assert load_catalog().lookup("0x8004e4d0").family == "onedrive"


@pytest.mark.parametrize("code", AADSTS)
def test_required_aadsts_codes(code):
    entry = load_catalog().lookup(f"AADSTS{code}")
    assert entry.family == "aadsts"


def test_at_least_25_aadsts_codes():
    assert len(load_catalog().aadsts_categories()) >= 25


@pytest.mark.parametrize("code", WAM)
def test_named_wam_codes_are_listed_one_by_one(code):
    entry = load_catalog().lookup(f"0x{code}")
    assert not entry.facility and entry.family == "wam"


@pytest.mark.parametrize(("code", "category"), [
    ("0xCAA30123", "network"), ("0xCAA70099", "network"), ("0xCAA8FFFF", "network"),
    ("0xCAA90077", "identity-cache"), ("0xCAA200FF", "unknown"),
])
def test_unlisted_wam_codes_fall_back_to_their_facility(code, category):
    entry = load_catalog().lookup(code)
    assert entry.facility and entry.category == category


def test_every_entry_has_category_source_and_known_references():
    catalog = load_catalog()
    for entry in catalog.entries.values():
        assert entry.category in CATEGORIES
        assert entry.sources and all(catalog.sources[s] for s in entry.sources)
        assert entry.meaning.strip()
    unverified = [e for e in catalog.entries.values() if e.confidence != "microsoft-doc"]
    assert unverified and all(not e.verified for e in unverified)


@pytest.mark.parametrize("spelling", ["0x8004de40", "8004DE40", "-2147164608", "2147802688",
                                      "0X8004DE40", " 0x8004de40 "])
def test_spellings_of_de40_reach_one_entry(spelling):
    assert load_catalog().lookup(spelling).code == "0x8004DE40"


@pytest.mark.parametrize("spelling", ["0xCAA2000C", "-895352820", "caa2000c"])
def test_spellings_of_interaction_required(spelling):
    assert load_catalog().lookup(spelling).code == "0xCAA2000C"


@pytest.mark.parametrize("spelling", ["AADSTS50173", "50173", "aadsts50173"])
def test_spellings_of_aadsts(spelling):
    assert load_catalog().lookup(spelling).code == "AADSTS50173"


def test_every_hresult_entry_round_trips_through_its_signed_decimal():
    for code in load_catalog().entries:
        if code.startswith("0x"):
            signed = int(code, 16) - 2**32
            assert normalize_code(str(signed)) == code


@given(st.text(max_size=40))
def test_normalize_accepts_or_rejects_cleanly(text):
    try:
        key = normalize_code(text)
    except UnknownCode as error:
        assert "\n" not in error.message
    else:
        assert key.startswith(("0x", "AADSTS"))


BROKEN_CATALOG = """retrieved: x
sources: {{a: A}}
codes:
  - {{code: AADSTS1, family: aadsts, meaning: m, category: {category}, confidence: microsoft-doc,
     sources: [{source}]}}
facilities: []
"""


@pytest.mark.parametrize(("category", "source", "message"), [
    ("weather", "a", r"codes\.yaml: codes\[0\]\.category \(line 4\)"),
    ("unknown", "b", r"codes\.yaml: .*unknown source"),
])
def test_broken_catalog_is_one_line_naming_the_problem(tmp_path, category, source, message):
    (tmp_path / "codes.yaml").write_text(BROKEN_CATALOG.format(category=category, source=source))
    with pytest.raises(BadInput, match=message) as caught:
        read_catalog(tmp_path / "codes.yaml", name="codes.yaml")
    assert "\n" not in caught.value.message


def test_explain_json_is_one_document(capsys):
    assert main(["explain", "-2147164608", "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document["code"] == "0x8004DE40" and document["category"] == "network"
    assert document["sources"][0]["text"].startswith("Microsoft Learn")


def test_explain_human_output_names_code_and_path(capsys):
    assert main(["explain", "0x8004dec5"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "0x8004DEC5" in out and "clear-office-identity" in out


@pytest.mark.parametrize("bad", ["zzz", "AADSTS12345", "0x12"])
def test_explain_unknown_or_malformed_is_one_line_exit_2(capsys, bad):
    assert main(["explain", bad]) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("odfix: error:")


def test_every_guide_path_names_a_guide_method_or_cause():
    from odfix.guide import load_guide

    guide = load_guide()
    known = {m.id for m in guide.methods} | {c.id for c in guide.causes}
    for entry in load_catalog().entries.values():
        assert set(entry.guide_path) <= known, entry.code


def test_a_code_only_the_community_reads_never_leads_straight_to_an_unjoin():
    """An unverified reading leads to a destructive method only when its meaning has the device
    admin confirm the device state first (AADSTS700003: deleted or disabled?)."""
    from odfix.guide import load_guide

    destructive = {m.id for m in load_guide().methods if m.destructive}
    for entry in load_catalog().entries.values():
        if not entry.verified and destructive & set(entry.guide_path):
            assert "device admin first confirms" in entry.meaning, entry.code


def test_explain_marks_a_destructive_method_in_the_guide_path(capsys):
    assert main(["explain", "AADSTS50155"]) == ExitCode.OK
    flat = " ".join(capsys.readouterr().out.split())
    assert "reconnect-work-account (destructive: only when odfix diagnose shows" in flat
    assert main(["explain", "0x8004dec5"]) == ExitCode.OK
    assert "destructive" not in capsys.readouterr().out


# Issue 9: codes seen in real captures (dsregcmd Diagnostic Data and PRT diagnostics, sign-in
# logs), with Microsoft's reading; family and category are what odfix acts on.
@pytest.mark.parametrize(("code", "family", "category"), [
    ("AADSTS500014", "aadsts", "account-license"),
    ("AADSTS700003", "aadsts", "device"),
    ("AADSTS50158", "aadsts", "interrupt"),
    ("AADSTS90002", "aadsts", "device"),
    ("0x801c001d", "dsreg", "device"),
    ("0x801c0021", "dsreg", "network"),
    ("0x801c001f", "dsreg", "network"),
    ("0x801c03f2", "dsreg", "device"),
    ("0x801c003a", "dsreg", "device"),
    ("0x80090016", "dsreg", "device"),
    ("0x80072ee2", "win32", "network"),
    ("0x80072f94", "win32", "network"),
    ("0x8018002b", "mdm", "device"),
    ("-1073741715", "ntstatus", "unknown"),  # 0xC000006D, dsregcmd's PRT Attempt Status
    ("0xc000005f", "ntstatus", "account-license"),
    ("0xc00484c1", "ntstatus", "network"),
])
def test_registration_and_new_codes(code, family, category):
    entry = load_catalog().lookup(code)
    assert (entry.family, entry.category) == (family, category)
    assert not entry.facility


def test_hybrid_join_not_configured_goes_to_the_admin():
    entry = load_catalog().lookup("0x801C001D")
    assert entry.name == "DSREG_AUTOJOIN_ADCONFIG_READ_FAILED" and entry.guide_path == ()
    assert "service connection point" in entry.meaning and "ms-hybrid-troubleshoot" in entry.sources


def test_corrected_meanings():
    catalog = load_catalog()
    flow = catalog.lookup("AADSTS50089")
    assert "flow token expired" in flow.meaning and "Not a password change" in flow.meaning
    assert flow.category != "password-change"
    json_error = catalog.lookup("0xCAA60003")
    assert json_error.confidence == "microsoft-doc" and json_error.verified
    assert "ms-webprovidererror" in json_error.sources
    assert "ERROR_ADAL_JSON_INVALID_PARAMETER" in json_error.meaning
    ssl = catalog.lookup("0xCAA82F8F")
    assert "certificate" in ssl.meaning and ssl.category == "network"
    blocked = catalog.lookup("AADSTS53003")
    assert blocked.guide_path == () and "admin reviews" in blocked.meaning
    grant = catalog.lookup("0xCAA20003")
    assert "our inference" in grant.meaning
    disabled = catalog.lookup("AADSTS135011")
    assert disabled.guide_path == () and "on-premises Active Directory" in disabled.meaning
    deleted = catalog.lookup("AADSTS700003")
    assert deleted.guide_path == ("reconnect-work-account",) and not deleted.verified
    assert catalog.lookup("AADSTS50173").guide_path[0] == "new-password-sign-in"
    assert "reconnect-work-account" not in catalog.lookup("0x8004DE40").guide_path[:-1]
    assert catalog.lookup("0x8004DE40").guide_path[-1] == "dsregcmd-leave-join"


REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
UNDOCUMENTED = {"0xD0020017"}
"""Printed by real captures (WamDefaultSet : ERROR (0xd0020017), NgcPreReq) with no meaning
published anywhere we could find: explain says it is not in the catalog rather than guess."""


def test_every_code_in_the_real_captures_is_catalogued():
    """Issue 9: the dsregcmd registration codes (and the others) that occur in real captures."""
    seen = {f"0x{m.upper()}" for p in REAL.glob("*/*") if p.suffix in {".txt", ".xml"}
            for m in re.findall(r"0x([0-9a-fA-F]{8})\b", p.read_text(encoding="utf-8",
                                                                   errors="replace"))}
    catalog = load_catalog()
    assert {"0x801C001D", "0x801C0021", "0x801C000C", "0x801C03F2", "0x80070002"} <= seen
    missing = set()
    for code in seen - UNDOCUMENTED:
        try:
            catalog.lookup(code)
        except BadInput:
            missing.add(code)
    assert not missing
    for code in UNDOCUMENTED:
        with pytest.raises(BadInput):
            catalog.lookup(code)
