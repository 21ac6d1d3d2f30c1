"""Every command, given bad input with ``--json``, answers with exactly one JSON document
``{"error": …, "exit": …}`` on stdout, one line on stderr, and an exit code that names the
kind of failure: never 0/1 (Intune reads those as healthy/problem) and never 70 (a bug).

Each case is a command line with ``{tmp}`` standing for a scratch folder that holds the hostile
files made by ``_hostile_files``; cases that need something more set it up in ``SETUP``.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode

NESTED = "[" * 100_000 + "]" * 100_000
NO_JSON = frozenset({"kb", "serve"})
"""Commands without ``--json`` (they print no report)."""


def _hostile_files(tmp: Path) -> None:
    (tmp / "empty.json").write_bytes(b"")
    (tmp / "garbage.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "nested.json").write_text(NESTED)
    (tmp / "not-json.json").write_text("{\"value\": [1, 2,")
    (tmp / "list.json").write_text("[1, 2, 3]")
    (tmp / "object.json").write_text('{"a": 1}')
    (tmp / "a dir").mkdir()
    (tmp / "a dir" / "x.txt").write_text("nothing odfix reads")
    (tmp / "*").write_text("a file literally named star")
    (tmp / "year99999.json").write_text(json.dumps({"value": [
        {"id": "1", "createdDateTime": "99999-01-01T00:00:00Z"}]}))
    (tmp / "huge-field.csv").write_text("Date (UTC),User\n\"" + "x" * 3_000_000 + "\",a\n")
    (tmp / "html.html").write_text("<html>not a capture</html>")
    if hasattr(os, "symlink"):
        os.symlink("/dev/zero", tmp / "a dir" / "zero.txt")


CASES: list[tuple[str, list[str]]] = [
    ("explain-unknown", ["explain", "zz"]),
    ("explain-control", ["explain", "\x1b]0;title\x07"]),
    ("explain-huge", ["explain", "0x" + "f" * 5000]),
    ("explain-missing-arg", ["explain"]),
    ("guide-cause", ["guide", "--cause", "nope"]),
    ("guide-join-type", ["guide", "--join-type", "nope"]),
    ("kb-json", ["kb"]),
    ("kb-format", ["kb", "--format", "nope"]),
    ("kb-config-missing", ["kb", "--config", "{tmp}/missing.yaml"]),
    ("kb-config-dir", ["kb", "--config", "{tmp}/a dir"]),
    ("kb-config-garbage", ["kb", "--config", "{tmp}/garbage.bin"]),
    ("kb-config-list", ["kb", "--config", "{tmp}/list.json"]),
    ("kb-out-missing-folder", ["kb", "--out", "{tmp}/missing/kb.md"]),
    ("kb-out-dir", ["kb", "--out", "{tmp}/a dir"]),
    ("diagnose-missing", ["diagnose", "{tmp}/missing.zip"]),
    ("diagnose-no-evidence-dir", ["diagnose", "{tmp}/a dir"]),
    ("diagnose-garbage", ["diagnose", "{tmp}/garbage.bin"]),
    ("diagnose-empty", ["diagnose", "{tmp}/empty.json"]),
    ("diagnose-nested", ["diagnose", "{tmp}/nested.json"]),
    ("diagnose-star", ["diagnose", "{tmp}/*"]),
    ("diagnose-fake-zip", ["diagnose", "{tmp}/fake.zip"]),
    ("diagnose-error-code", ["diagnose", "--simulate", "healthy", "--error-code", "zz"]),
    ("diagnose-password-date", ["diagnose", "--simulate", "healthy",
                                "--password-changed-at", "yesterday"]),
    ("diagnose-password-year-0", ["diagnose", "--simulate", "healthy", "--live",
                                  "--password-changed-at", "0001-01-01T00:00:00+23:59"]),
    ("diagnose-password-year-10000", ["diagnose", "{tmp}/a dir", "--password-changed-at",
                                      "9999-12-31T23:59:59-23:59"]),
    ("diagnose-simulate", ["diagnose", "--simulate", "nope"]),
    ("diagnose-format", ["diagnose", "--simulate", "healthy", "--note", "--format", "nope"]),
    ("diagnose-nothing", ["diagnose"]),
    ("diagnose-live-off-windows", ["diagnose", "--live"]),
    ("collect-off-windows", ["collect", "--out", "{tmp}/pc.zip"]),
    ("collect-out-missing-folder", ["collect", "--out", "{tmp}/missing/pc.zip"]),
    ("fix-method", ["fix", "--simulate", "healthy", "--method", "nope"]),
    ("fix-simulate", ["fix", "--simulate", "nope"]),
    ("fix-error-code", ["fix", "--simulate", "healthy", "--error-code", "zz"]),
    ("fix-report-to", ["fix", "--simulate", "healthy", "--report-to", "not a url"]),
    ("fix-format", ["fix", "--simulate", "healthy", "--note", "--format", "nope"]),
    ("fix-off-windows", ["fix"]),
    ("journal-run", ["journal", "--run", "nope"]),
    ("demo-scenario", ["demo", "--scenario", "nope"]),
    ("serve-json", ["serve", "--migrate-only"]),
    ("serve-port", ["serve", "--port", "-1"]),
    ("serve-db", ["serve", "--db", "ftp://x", "--migrate-only"]),
    ("analyze-missing", ["signins", "analyze", "{tmp}/missing.json"]),
    ("analyze-dir", ["signins", "analyze", "{tmp}/a dir"]),
    ("analyze-garbage", ["signins", "analyze", "{tmp}/garbage.bin"]),
    ("analyze-empty", ["signins", "analyze", "{tmp}/empty.json"]),
    ("analyze-nested", ["signins", "analyze", "{tmp}/nested.json"]),
    ("analyze-not-json", ["signins", "analyze", "{tmp}/not-json.json"]),
    ("analyze-object", ["signins", "analyze", "{tmp}/object.json"]),
    ("analyze-list", ["signins", "analyze", "{tmp}/list.json"]),
    ("analyze-html", ["signins", "analyze", "{tmp}/html.html"]),
    ("analyze-huge-csv-field", ["signins", "analyze", "{tmp}/huge-field.csv"]),
    ("analyze-star", ["signins", "analyze", "{tmp}/*"]),
    ("analyze-users-garbage", ["signins", "analyze", "{signins}", "--users", "{tmp}/garbage.bin"]),
    ("analyze-policies-nested", ["signins", "analyze", "{signins}", "--policies",
                                 "{tmp}/nested.json"]),
    ("analyze-audits-missing", ["signins", "analyze", "{signins}", "--audits",
                                "{tmp}/missing.json"]),
    ("analyze-groups-dir", ["signins", "analyze", "{signins}", "--groups", "{tmp}/a dir"]),
    ("analyze-html-missing-folder", ["signins", "analyze", "{signins}", "--html",
                                     "{tmp}/missing/r.html"]),
    ("analyze-html-dir", ["signins", "analyze", "{signins}", "--html", "{tmp}/a dir"]),
    ("analyze-top", ["signins", "analyze", "{signins}", "--top", "-1"]),
    ("analyze-window", ["signins", "analyze", "{signins}", "--window-hours", "nan"]),
    ("synth-out-missing-folder", ["signins", "synth", "--out", "{tmp}/missing/s.json"]),
    ("synth-out-dir", ["signins", "synth", "--out", "{tmp}/a dir"]),
    ("synth-users", ["signins", "synth", "--out", "{tmp}/s.json", "--users", "-1"]),
    ("synth-days", ["signins", "synth", "--out", "{tmp}/s.json", "--days", "0"]),
    ("synth-rows", ["signins", "synth", "--out", "{tmp}/s.json", "--rows", "-5"]),
    ("synth-users-huge", ["signins", "synth", "--out", "{tmp}/s.json", "--users", "1" + "0" * 20]),
    ("synth-days-huge", ["signins", "synth", "--out", "{tmp}/s.json", "--days", "99999999"]),
    ("synth-rows-huge", ["signins", "synth", "--out", "{tmp}/s.json", "--rows", "1" + "0" * 21]),
    ("synth-format", ["signins", "synth", "--out", "{tmp}/s.json", "--format", "nope"]),
    ("pull-since", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                    "yesterday", "--out", "{tmp}/pull"]),
    ("pull-until-before-since", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com",
                                 "--since", "2026-11-02", "--until", "2026-11-01",
                                 "--out", "{tmp}/pull"]),
    ("pull-tenant", ["signins", "pull", "--tenant", "", "--since", "2026-11-01",
                     "--out", "{tmp}/pull"]),
    ("pull-graph-url", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                        "2026-11-01", "--out", "{tmp}/pull", "--graph-url", "ftp://x",
                        "--token-env", "ODFIX_TEST_TOKEN"]),
    ("pull-token-env-unset", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com",
                              "--since", "2026-11-01", "--out", "{tmp}/pull",
                              "--token-env", "ODFIX_TEST_UNSET"]),
    ("pull-rate-limit", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                         "2026-11-01", "--out", "{tmp}/pull", "--rate-limit", "0",
                         "--token-env", "ODFIX_TEST_TOKEN"]),
    ("pull-slice", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                    "2026-11-01", "--out", "{tmp}/pull", "--slice-hours", "0",
                    "--token-env", "ODFIX_TEST_TOKEN"]),
    ("pull-types", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                    "2026-11-01", "--out", "{tmp}/pull", "--types", "nope",
                    "--token-env", "ODFIX_TEST_TOKEN"]),
    ("pull-out-is-file", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                          "2026-11-01", "--out", "{tmp}/garbage.bin",
                          "--token-env", "ODFIX_TEST_TOKEN"]),
    ("pull-network-down", ["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--since",
                           "2026-11-01", "--out", "{tmp}/pull", "--graph-url",
                           "http://127.0.0.1:9", "--token-env", "ODFIX_TEST_TOKEN"]),
    ("kql-analysis", ["signins", "kql", "--analysis", "nope"]),
    ("kql-days", ["signins", "kql", "--days", "0"]),
    ("kql-workspace-no-tenant", ["signins", "kql", "--workspace", "x"]),
    ("publish-out-is-file", ["publish", "intune", "--out", "{tmp}/garbage.bin"]),
    ("publish-install-dir", ["publish", "intune", "--out", "{tmp}/intune", "--install-dir",
                             "relative\\odfix"]),
    ("publish-install-dir-quote", ["publish", "intune", "--out", "{tmp}/intune",
                                   "--install-dir", 'C:\\odfix"; calc; "']),
    ("fleet-missing", ["fleet", "import", "{tmp}/missing.json"]),
    ("fleet-garbage", ["fleet", "import", "{tmp}/garbage.bin"]),
    ("fleet-nested", ["fleet", "import", "{tmp}/nested.json"]),
    ("fleet-list", ["fleet", "import", "{tmp}/list.json"]),
    ("fleet-dir", ["fleet", "import", "{tmp}/a dir"]),
    ("fleet-nothing", ["fleet", "import"]),
    ("fleet-script-no-tenant", ["fleet", "import", "--script-id", "x"]),
    ("fleet-reports-missing-folder", ["fleet", "import", "{fleet}", "--reports",
                                      "{tmp}/missing/r.json"]),
]


SETUP: dict[str, Callable[[Path, Path], None]] = {
    "diagnose-fake-zip": lambda tmp, data: (tmp / "fake.zip").write_bytes(b"PK\x03\x04 cut"),
}


@pytest.mark.parametrize("name, argv", CASES, ids=[c[0] for c in CASES])
def test_bad_input_with_json_is_one_error_document_and_never_a_bug(
        name: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scratch = tmp_path / "in"
    scratch.mkdir()
    _hostile_files(scratch)
    data = tmp_path / "data"
    monkeypatch.setenv("ODFIX_DATA_DIR", str(data))
    monkeypatch.setenv("ODFIX_TEST_TOKEN", "eyJ0eXAiOiJKV1QifQ.e30.x")
    monkeypatch.delenv("ODFIX_TEST_UNSET", raising=False)
    monkeypatch.delenv("ODFIX_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    if name in SETUP:
        SETUP[name](scratch, data)
    values = {"tmp": str(scratch)}
    if any("{signins}" in arg for arg in argv):
        from odfix.tenant.synth import synthesize

        values["signins"] = str(synthesize(tmp_path / "good.json", users=4, days=3,
                                           seed=1).signins)
    if any("{fleet}" in arg for arg in argv):
        fleet = tmp_path / "fleet.json"
        fleet.write_text(json.dumps({"value": []}))
        values["fleet"] = str(fleet)
    args = [arg.format(**values) for arg in argv]
    # kb and serve print no report, so they take no --json: with it, the usage error is the
    # document; their bad input is checked without it (one line, a distinct code).
    takes_json = argv[0] not in NO_JSON or name.endswith("-json")
    if takes_json:
        args.append("--json")
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert code != ExitCode.INTERNAL, err
    assert code not in (ExitCode.OK, ExitCode.PROBLEM), (code, out[:300], err[:300])
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    if not takes_json:
        assert out == ""
        return
    document = json.loads(out)
    assert set(document) == {"error", "exit"}, document
    assert document["exit"] == code and isinstance(document["error"], str)
    assert document["error"] and "\n" not in document["error"]
