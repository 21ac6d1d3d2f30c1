"""Credential Manager through WindowsHost against Wine's real advapi32 (Cred* functions)."""

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import win32cred
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odfix.errors import WrongContext
from odfix.hosts.base import Context, CredType, Persist
from odfix.hosts.windows import WindowsHost

SECRET = "hunter2-never-in-a-model"


def cred_write(target: str, *, user: str = "user1@contoso.com",
               persist: int = Persist.LOCAL_MACHINE, comment: str | None = None) -> None:
    """Test-only: store a credential the way Office or OneDrive would."""
    credential = {"Type": CredType.GENERIC, "TargetName": target, "UserName": user,
                  "CredentialBlob": SECRET, "Persist": persist}
    if comment is not None:
        credential["Comment"] = comment
    win32cred.CredWrite(credential, 0)


@pytest.fixture
def office(tag: str, host: WindowsHost) -> Iterator[str]:
    target = f"MicrosoftOffice16_Data:SSPI:{tag}@contoso.com"
    cred_write(target, comment="office token")
    yield target
    host.delete_credential(target, CredType.GENERIC)


def test_prefix_enumeration_returns_metadata_without_secret(host: WindowsHost, office: str,
                                                            tag: str) -> None:
    before = datetime.now(UTC)
    other = f"virtualapp/didlogical-{tag}"
    cred_write(other, persist=Persist.SESSION)
    try:
        found = host.list_credentials("MicrosoftOffice16_Data:SSPI:" + tag)
        assert [c.target for c in found] == [office]
        cred = found[0]
        assert cred.type == CredType.GENERIC
        assert cred.persist == Persist.LOCAL_MACHINE
        assert cred.user_name == "user1@contoso.com"
        assert cred.comment == "office token"
        assert cred.last_written is not None and cred.last_written.tzinfo is UTC
        assert before - timedelta(minutes=2) <= cred.last_written <= datetime.now(UTC)
        assert SECRET not in cred.model_dump_json()
        session = host.list_credentials(other)
        assert [(c.target, c.persist) for c in session] == [(other, Persist.SESSION)]
    finally:
        host.delete_credential(other, CredType.GENERIC)


def test_prefix_is_case_insensitive_and_null_filter_lists_all(host: WindowsHost, office: str,
                                                              tag: str) -> None:
    assert [c.target for c in host.list_credentials(f"microsoftoffice16_data:sspi:{tag.upper()}")
            ] == [office]
    assert office in {c.target for c in host.list_credentials()}
    assert host.list_credentials(f"nothing-starts-with-{tag}") == []


def test_delete_is_type_aware_and_second_delete_is_false(host: WindowsHost, tag: str) -> None:
    target = f"OneDrive Cached Credential Business - {tag}"
    cred_write(target)
    assert host.delete_credential(target, CredType.DOMAIN_PASSWORD) is False
    assert [c.target for c in host.list_credentials(target)] == [target]
    assert host.delete_credential(target, CredType.GENERIC) is True
    assert host.list_credentials(target) == []
    assert host.delete_credential(target, CredType.GENERIC) is False


def test_credentials_are_visible_to_another_process(host: WindowsHost, office: str) -> None:
    result = host.run([sys.executable, "-c",
                       "import win32cred, sys; "
                       f"print(win32cred.CredRead({office!r}, 1)['UserName'])"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "user1@contoso.com"


def test_enumeration_never_reads_a_secret(host: WindowsHost, tag: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A credential with a binary blob: listing goes through CredEnumerateW metadata only (not
    pywin32's CredEnumerate, which copies every blob), and no structure odfix keeps holds it."""
    target = f"MicrosoftOffice16_Data:orgid:{tag}@contoso.com"
    marker = f"blob-marker-{tag}"
    win32cred.CredWrite({"Type": CredType.GENERIC, "TargetName": target, "UserName": "u@c.com",
                         "CredentialBlob": marker * 40, "Persist": Persist.LOCAL_MACHINE}, 0)
    assert marker in win32cred.CredRead(target, CredType.GENERIC)["CredentialBlob"].decode(
        "utf-16-le")

    def copies_blobs(*args: object) -> None:
        raise AssertionError("win32cred.CredEnumerate copies every secret blob")

    monkeypatch.setattr(win32cred, "CredEnumerate", copies_blobs)
    try:
        found = host.list_credentials(target)
        assert [c.target for c in found] == [target]
        kept = repr(found) + "".join(c.model_dump_json() for c in found)
        assert marker not in kept and "blob" not in kept.lower()
    finally:
        host.delete_credential(target, CredType.GENERIC)


def test_system_context_is_refused_with_exit_5(office: str) -> None:
    system = WindowsHost(context_probe=lambda: Context.SYSTEM)
    with pytest.raises(WrongContext) as refused:
        system.list_credentials("MicrosoftOffice")
    assert refused.value.code == 5
    with pytest.raises(WrongContext):
        system.delete_credential(office, CredType.GENERIC)
    assert win32cred.CredRead(office, CredType.GENERIC)["TargetName"] == office


target_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFFFF,
                                    blacklist_categories=("Cs",), blacklist_characters="*"),
                      min_size=1, max_size=60)


# Sharing the tag fixture is safe: every example removes what it wrote.
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=target_text, persist=st.sampled_from(list(Persist)))
def test_any_target_is_listed_and_deleted_exactly(tag: str, suffix: str, persist: int) -> None:
    host = WindowsHost()
    target = f"odfix-{tag}-{suffix}"
    cred_write(target, persist=persist)
    try:
        listed = host.list_credentials(target)
        assert [(c.target, c.persist) for c in listed] == [(target, persist)]
    finally:
        assert host.delete_credential(target, CredType.GENERIC) is True
    assert host.list_credentials(target) == []
