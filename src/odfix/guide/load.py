"""Load YAML into pydantic models with one-line errors naming the file, the field path and the line.

``load_guide`` reads the packaged guide (or another file); ``load_yaml_model`` serves any small
YAML file odfix validates (the KB config, for one).
"""

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from odfix.errors import BadInput
from odfix.guide.model import Guide

GUIDE_FILE = "0x8004de40.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster

M = TypeVar("M", bound=BaseModel)


class GuideError(BadInput):
    """The guide (or another YAML file) is missing, unreadable or invalid (exit 2)."""


def load_yaml_model(
    path: Path, model: type[M], name: str | None = None, error: type[BadInput] = GuideError,
    max_bytes: int | None = None,
) -> M:
    """Parse ``path`` as YAML and validate it as ``model``; raise ``error`` on any problem.

    With ``max_bytes`` a larger file (or an endless one such as ``/dev/zero``) is refused after
    reading at most one byte more than the limit.
    """
    shown = name or str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{shown}: cannot read: {_reason(problem)}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise error(f"{shown}: larger than {max_bytes // 1024} KiB; this file holds a few settings")
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (C or Python)
    except yaml.YAMLError as problem:
        raise error(f"{shown}: YAML syntax error{_where(problem)}: {_problem(problem)}") from None
    except RecursionError:
        raise error(f"{shown}: YAML nested too deeply") from None
    if not isinstance(data, dict):
        raise error(f"{shown}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as problem:
        raise error(_describe(shown, text, problem)) from None


@lru_cache(maxsize=8)
def load_guide(path: Path | None = None) -> Guide:
    """The fix guide: the packaged ``0x8004de40.yaml`` by default (cached; models are frozen)."""
    if path is None:
        with_resource = files("odfix.guide") / GUIDE_FILE
        return load_yaml_model(Path(str(with_resource)), Guide, GUIDE_FILE)
    return load_yaml_model(path, Guide)


def _reason(problem: OSError | UnicodeDecodeError) -> str:
    if isinstance(problem, UnicodeDecodeError):
        return "not UTF-8 text"
    return problem.strerror or str(problem)


def _where(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    return " ".join(str(problem or error).split())


def _describe(shown: str, text: str, error: ValidationError) -> str:
    """One line: the first error's field path, its line in the file and the problem."""
    first = error.errors(include_url=False)[0]
    ctx: dict[str, Any] = first.get("ctx") or {}
    if first["type"] == "guide_reference":
        location, problem = str(ctx["path"]), str(ctx["problem"])
    else:
        location, problem = _dotted(first["loc"]), first["msg"]
    line = _line_of(text, location)
    where = f"{location} (line {line})" if line else location or "top level"
    more = error.error_count() - 1
    extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{shown}: {where}: {problem}{extra}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a field path: ``methods[1].steps[2].action.args``.

    The tag pydantic adds after ``action`` (the action's name) is not a field, so it is dropped.
    """
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif previous != "action":
            out += f".{part}" if out else part
        previous = part
    return out


def _line_of(text: str, location: str) -> int | None:
    """The 1-based line of the deepest node of ``location`` that exists in the YAML text."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return None
    line = None
    for key in _split(location):
        if node is None:
            break
        line = node.start_mark.line + 1
        node = _child(node, key)
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _split(location: str) -> list[int | str]:
    parts: list[int | str] = []
    for chunk in location.replace("[", ".[").split("."):
        if chunk.startswith("[") and chunk.endswith("]") and chunk[1:-1].isdigit():
            parts.append(int(chunk[1:-1]))
        elif chunk:
            parts.append(chunk)
    return parts


def _child(node: yaml.Node, key: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if key < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if name.value == key:
                return value  # type: ignore[no-any-return]
    return None
