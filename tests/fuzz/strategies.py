"""Input generators for each parser: real fixture lines, their mutations, hostile fragments and
random bytes, mixed, so inputs reach deep parser states and not only the first check."""

from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

HOSTILE = ["|" + " " * 300 + "x", "Target: a" + " " * 300 + "x", "<?xml" * 50, "<Event>" * 60,
           "&amp;" * 100, "\\\\\\", ":" * 50, "\x00\x01\x1b[2J", "\u202e", "+---+", "| |",
           "[" * 80, "{" * 80, '"' * 41, "0x" + "F" * 8, "-895352823", "3399614476",
           "AADSTS" + "9" * 30, "PS C:\\>", "...", "\r", "\ufeff", "\x85", "\u2028"]


def _lines(*names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for path in sorted((FIXTURES / name).iterdir()):
            if path.suffix in (".txt", ".xml", ".reg", ".json"):
                data = path.read_bytes()
                text = data.decode("utf-16") if data[:2] == b"\xff\xfe" else data.decode(
                    "utf-8", "replace")
                found += text.splitlines()
    return sorted(set(found))


def _mutated(lines: list[str]) -> st.SearchStrategy[str]:
    line = st.sampled_from(lines)
    return st.one_of(
        line,
        st.builds(lambda text, cut: text[:cut], line, st.integers(0, 80)),
        st.builds(lambda text, extra: text + extra, line, st.text(max_size=20)),
        st.builds(lambda text, spaces: " " * spaces + text, line, st.integers(0, 40)),
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
    )


def documents(*fixture_folders: str) -> st.SearchStrategy[bytes]:
    """Bytes: lines drawn from the fixtures (mutated or hostile), joined and encoded in the
    ways Windows writes text; or plain random bytes."""
    body = st.lists(_mutated(_lines(*fixture_folders)), max_size=60)
    joined = st.builds(lambda lines, end: end.join(lines), body,
                       st.sampled_from(["\n", "\r\n", "\r"]))
    encoded = st.builds(
        lambda text, encoding: (b"\xff\xfe" if encoding == "utf-16-le" else b"")
        + text.encode(encoding, "replace"),
        joined, st.sampled_from(["utf-8", "utf-16-le", "cp437"]))
    return st.one_of(encoded, st.binary(max_size=600))


def real_files(*fixture_folders: str) -> st.SearchStrategy[bytes]:
    """A whole fixture with a few bytes flipped, cut or repeated."""
    files = [p.read_bytes() for name in fixture_folders
             for p in sorted((FIXTURES / name).iterdir()) if p.is_file() and p.suffix != ".md"]

    def damage(data: bytes, where: int, what: bytes, cut: bool) -> bytes:
        at = where % (len(data) + 1)
        return data[:at] + what + (b"" if cut else data[at:])

    return st.builds(damage, st.sampled_from(files), st.integers(0, 1 << 20),
                     st.binary(max_size=16), st.booleans())
