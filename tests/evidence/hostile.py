"""Hostile inputs that made the parsers backtrack or go quadratic, and a hang guard for tests.

Each builder takes a size in bytes and returns an input of about that size. The benchmark
(benchmarks/bench_parsers_linear.py) and the tests use the same builders.
"""

import contextlib
import json
import signal
from collections.abc import Callable, Iterator

SEP = "+" + "-" * 70 + "+"
HEADER = f"{SEP}\n| Device State{' ' * 56}|\n{SEP}\n"


def _repeat(unit: str, size: int, head: str = "", tail: str = "") -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


def dsregcmd_header_spaces(size: int) -> str:
    """``|`` + spaces + ``x`` on one line: the section-header pattern backtracked (cubic)."""
    return "|" + " " * (size - 3) + "x\n"


def dsregcmd_field_spaces(size: int) -> str:
    """A key, a run of spaces and no colon: the field pattern backtracked (quadratic)."""
    return HEADER + "A" + " " * (size - len(HEADER) - 3) + "x\n"


def dsregcmd_tiny_lines(size: int) -> str:
    """Millions of two-character field lines under one header."""
    return _repeat("A:\n", size, HEADER)


def cmdkey_field_spaces(size: int) -> str:
    """``Target:`` + spaces + ``x``: the field pattern's lazy value backtracked (quadratic)."""
    head = "Currently stored credentials:\n\n    Target: a"
    return head + " " * (size - len(head) - 2) + "x\n"


def cmdkey_many(size: int) -> str:
    """Hundreds of thousands of credentials (kept up to the cap, the rest counted)."""
    entry = "    Target: LegacyGeneric:target=MicrosoftOffice16_Data:x\n    Type: Generic \n\n"
    return _repeat(entry, size, "Currently stored credentials:\n\n")


def credentials_json_many(size: int) -> str:
    """A one-line credentials.json: each row was searched for from the top (quadratic)."""
    row = '{"target": "MicrosoftOffice16_Data:SSPI:u%07d@contoso.com", "type": 1}, '
    count = max(1, size // (len(row) + 2))
    rows = ", ".join(row[:-2] % i for i in range(count))
    return '{"credentials": [' + rows + "]}"


def winhttp_field_spaces(size: int) -> str:
    """``Proxy Server(s) : a`` + spaces + ``x``: the lazy value backtracked (quadratic)."""
    head = "Current WinHTTP proxy settings:\n\n    Proxy Server(s) :  a"
    return head + " " * (size - len(head) - 2) + "x\n"


def xml_declarations(size: int) -> str:
    """``<?xml`` repeated with no ``>``: the declaration pattern rescanned from each (quadratic)."""
    return _repeat("<?xml", size)


def xml_nested_events(size: int) -> str:
    """``<Event>`` nested in itself: each level copied the element stack (quadratic)."""
    depth = max(1, (size - 60) // 15)
    return ("<Event><System><EventID>1</EventID></System>" + "<Event>" * depth
            + "</Event>" * depth + "</Event>")


def xml_tiny_events(size: int) -> str:
    """Many minimal events (each was ~20x its size in memory)."""
    return _repeat("<Event><System><EventID>1098</EventID></System></Event>\n", size)


def xml_entity_text(size: int) -> str:
    """One data value made of character references (each appended to a growing string)."""
    head = "<Event><System><EventID>1</EventID></System><EventData><Data Name='x'>"
    tail = "</Data></EventData></Event>"
    return _repeat("&amp;", size, head, tail)


def error_code_list(size: int) -> str:
    """Thousands of distinct decimal 0xCAA codes in one message (the text was re-scanned for
    each code's hex spelling)."""
    count = max(1, size // 11)
    return " ".join(str(0xCAA00000 + i % 0xFFFFF) for i in range(count))


def reg_continuations(size: int) -> str:
    """One binary value wrapped over many ``\\`` lines (the joined text was copied per line)."""
    head = ('Windows Registry Editor Version 5.00\n\n'
            '[HKEY_CURRENT_USER\\Software\\x]\n"b"=hex:00,\\\n')
    return _repeat("  00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,\\\n",
                   size, head, "  00\n")


def reg_many_identity_parents(size: int) -> str:
    """Identity keys under many different parents (children were searched per parent)."""
    unit = ("[HKEY_CURRENT_USER\\U%07d\\Office\\16.0\\Common\\Identity\\Identities\\a]\n"
            '"EmailAddress"="a@b.c"\n')
    count = max(1, size // (len(unit) + 2))
    return "Windows Registry Editor Version 5.00\n\n" + "".join(unit % i for i in range(count))


def json_deep(size: int) -> str:
    """An array nested ``size // 2`` levels deep."""
    return "[" * (size // 2) + "]" * (size // 2)


def credentials_json_nested_secret() -> str:
    """A credential whose secret hides one level down."""
    return json.dumps({"credentials": [{"target": "x", "type": 1,
                                        "Attributes": {"CredentialBlob": "c2VjcmV0"}}]})


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail with TimeoutError when the block uses more than ``seconds`` of CPU (a hang guard,
    set far above what a linear parser needs; CPU time, so a loaded machine does not trip it;
    Unix only, a no-op elsewhere)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s of CPU")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


Builder = Callable[[int], str]
