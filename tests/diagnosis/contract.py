"""The ``odfix diagnose --json`` contract of issue 3, checked key by key."""

from typing import Any

JOIN_TYPES = {"entra-joined", "hybrid-joined", "domain-joined", "entra-registered", "none",
              "unknown"}
CAUSE_IDS = {"stale-token-password-change", "device-registration", "cloned-image",
             "recurring-conditional-access", "connectivity-tls", "multiple-identities", "healthy"}
METHOD_IDS = {"credential-cleanup", "reconnect-work-account", "unlink-relink-onedrive",
              "wam-signout", "dsregcmd-leave-join", "connectivity-checks", "clear-office-identity",
              "reset-onedrive", "new-password-sign-in", "sign-in-again"}
SEVERITIES = {"info", "warning", "error"}
CONTEXTS = {"user", "elevated", "local-admin", "ui"}


def check(document: dict[str, Any]) -> None:
    """Assert that ``document`` follows the contract."""
    assert document["join_type"] in JOIN_TYPES
    findings = document["findings"]
    ids = [f["id"] for f in findings]
    assert len(ids) == len(set(ids)), "finding ids must be unique"
    for finding in findings:
        assert isinstance(finding["id"], str) and finding["id"]
        assert finding["severity"] in SEVERITIES
        assert isinstance(finding["title"], str) and finding["title"]
        assert isinstance(finding["source"], str) and finding["source"]
        for line in finding["evidence"]:
            assert set(line) >= {"file", "line", "text"}
            assert isinstance(line["file"], str) and line["file"]
            assert isinstance(line["line"], int) and line["line"] >= 1
            assert isinstance(line["text"], str)
    causes = document["causes"]
    assert causes, "at least one cause (healthy when nothing is wrong)"
    confidences = [c["confidence"] for c in causes]
    assert confidences == sorted(confidences, reverse=True)
    for cause in causes:
        assert cause["id"] in CAUSE_IDS
        assert 0 <= cause["confidence"] <= 1
        assert isinstance(cause["summary"], str) and cause["summary"]
        assert set(cause["finding_ids"]) <= set(ids)
    healthy = causes[0]["id"] == "healthy"
    assert (len(causes) == 1) if healthy else ("healthy" not in {c["id"] for c in causes})
    for item in document["plan"]:
        assert item["method"] in METHOD_IDS
        assert item["context"] in CONTEXTS
        assert isinstance(item["why"], str) and item["why"]
    assert (document["plan"] == []) if healthy else bool(document["plan"])
