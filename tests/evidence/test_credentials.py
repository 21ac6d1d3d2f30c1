"""Credentials from cmdkey /list, credentials.json and a host: parsing and classification."""

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.evidence import credentials
from odfix.evidence.common import ParseError
from odfix.hosts.base import StoredCredential


def test_mixed_store_classes_and_fields(fixture_bytes):
    listed = credentials.parse_cmdkey(fixture_bytes("cmdkey/office_onedrive_mixed.txt"))
    rows = [(c.name, c.credential_class, c.type, c.persist, c.deletable)
            for c in listed.credentials]
    assert rows == [
        ("MicrosoftOffice16_Data:SSPI:user1@contoso.com", "office", 1, 2, True),
        ("MicrosoftOffice16_Data:orgid:user1@contoso.com", "office", 1, 2, True),
        ("OneDrive Cached Credential Business - Business1", "onedrive-business", 1, 2, True),
        ("msteams_adalsso/adal_context_segments", "teams", 1, 2, False),
        ("SSO_POP_Device", "msa-consumer", 1, 1, False),
        ("virtualapp/didlogical", "msa-consumer", 1, 2, False),
        ("PC-0001\\admin", "other", 2, None, False),
    ]
    first = listed.credentials[0]
    assert first.target == "LegacyGeneric:target=MicrosoftOffice16_Data:SSPI:user1@contoso.com"
    assert first.namespace == "LegacyGeneric"
    assert first.user == "user1@contoso.com"
    assert first.type_name == "Generic"
    assert first.citation.line == 4 and "Target: LegacyGeneric" in first.citation.text


def test_utf16_capture_parses_the_same(fixture_bytes):
    plain = credentials.parse_cmdkey(fixture_bytes("cmdkey/office_onedrive_mixed.txt"))
    wide = credentials.parse_cmdkey(fixture_bytes("cmdkey/office_onedrive_mixed_utf16.txt"))
    assert [c.target for c in wide.credentials] == [c.target for c in plain.credentials]


def test_real_capture_after_a_prompt_line(fixture_bytes):
    listed = credentials.parse_cmdkey(fixture_bytes("cmdkey/domain_interactive_prompt.txt"))
    (only,) = listed.credentials
    assert (only.namespace, only.name, only.type, only.user) == \
        ("Domain", "WPRIVESC1\\mike.katz", 2, "WPRIVESC1\\mike.katz")
    assert only.citation.line == 5


def test_prompt_lines_around_the_output_are_skipped(fixture_bytes):
    text = fixture_bytes("cmdkey/domain_interactive_prompt.txt").decode() + \
        "\nPS C:\\Users\\thm-unpriv> runas /savecred /user:mike.katz cmd.exe\n"
    assert len(credentials.parse_cmdkey(text).credentials) == 1


def test_unindented_capture(fixture_bytes):
    listed = credentials.parse_cmdkey(fixture_bytes("cmdkey/azure_files_unindented.txt"))
    assert [c.user for c in listed.credentials] == ["AZURE\\<your-storage-account-name>"]


def test_empty_store_and_filter_header(fixture_bytes):
    assert credentials.parse_cmdkey(fixture_bytes("cmdkey/empty.txt")).credentials == []
    filtered = credentials.parse_cmdkey(fixture_bytes("cmdkey/filtered.txt"))
    assert filtered.filter == "LegacyGeneric:target=OneDrive Cached Credential Business - Business1"
    assert [c.credential_class for c in filtered.credentials] == ["onedrive-business"]


def test_other_locale_is_refused(fixture_bytes):
    with pytest.raises(ParseError, match="unsupported locale"):
        credentials.parse_cmdkey(fixture_bytes("cmdkey/polish.txt"), "cmdkey_list.txt")


def test_unknown_line_inside_the_list_is_a_note_and_the_rest_is_kept():
    """Issue 10 reversed decision 1: an unknown line is noted, never silently read as a field."""
    listed = credentials.parse_cmdkey("Currently stored credentials:\n    Target: x\n"
                                      "    Colour: red\n    Type: Generic\n")
    assert [(c.target, c.type) for c in listed.credentials] == [("x", 1)]
    assert listed.notes == ["cmdkey_list.txt: line 3: not understood, skipped: 'Colour: red'"]


@pytest.mark.parametrize("target, cred_type, expected", [
    ("MicrosoftOffice16_Data:ADALWAM:abc@@@1.000000", 1, "office"),
    ("LegacyGeneric:target=microsoftoffice15_Data:SSPI:a@b.c", 1, "office"),
    ("OneDrive Cached Credential Business - Business2", 1, "onedrive-business"),
    ("OneDrive Cached Credential Business - Business1", 2, "other"),
    ("LegacyGeneric:target=OneDrive Cached Credential - Personal", 1, "other"),
    ("LegacyGeneric:target=MicrosoftAccount:user=a@outlook.com", 1, "msa-consumer"),
    ("msteams_adalsso/adal_context_0", 1, "teams"),
    ("TERMSRV/server01", 2, "other"),
])
def test_classification(target, cred_type, expected):
    assert credentials.classify(target, cred_type) == expected


def test_json_round_trip_from_host_shape():
    stored = [
        StoredCredential(target="MicrosoftOffice16_Data:SSPI:u@contoso.com", type=1, persist=2,
                         user_name="u@contoso.com",
                         last_written=datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        StoredCredential(target="virtualapp/didlogical", type=1, persist=2),
    ]
    data = credentials.to_json(stored)
    listed = credentials.parse_json(data)
    assert [(c.name, c.credential_class, c.last_written) for c in listed.credentials] == [
        ("MicrosoftOffice16_Data:SSPI:u@contoso.com", "office",
         datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("virtualapp/didlogical", "msa-consumer", None),
    ]
    second = listed.credentials[1]
    assert "virtualapp/didlogical" in second.citation.text
    assert data.decode().splitlines()[second.citation.line - 1] == second.citation.text


@pytest.mark.parametrize("field", ["CredentialBlob", "password", "secret", "refresh_token"])
def test_json_with_secret_material_is_refused(field):
    data = json.dumps({"credentials": [{"target": "x", "type": 1, field: "hunter2"}]})
    with pytest.raises(ParseError, match="secret"):
        credentials.parse_json(data)


@pytest.mark.parametrize("data, message", [
    ("not json", "not JSON"),
    ("[]", "'credentials' list"),
    ('{"credentials": [1]}', "not an object"),
    ('{"credentials": [{"type": 1}]}', "target"),
])
def test_json_bad_input(data, message):
    with pytest.raises(ParseError, match=message):
        credentials.parse_json(data)


@given(st.text())
def test_cmdkey_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        credentials.parse_cmdkey(text)


@given(st.text())
def test_cmdkey_arbitrary_body_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        credentials.parse_cmdkey("Currently stored credentials:\n\n" + text)


@given(st.text())
def test_json_arbitrary_text_parses_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        credentials.parse_json(text)


def test_collected_api_listing(fixture_bytes):
    listed = credentials.parse_json(fixture_bytes("credentials/api_listing.json"))
    assert [(c.credential_class, c.deletable) for c in listed.credentials] == [
        ("office", True), ("onedrive-business", True), ("teams", False),
        ("msa-consumer", False), ("other", False)]
    assert listed.credentials[1].last_written == datetime(2026, 11, 20, 7, 45, 30, tzinfo=UTC)
    assert listed.credentials[3].comment == "PersistedCredential"
