"""The KCS knowledge-base article, rendered with Jinja2 from the fix guide (Markdown or HTML).

The article holds only reusable content (KCS technique 5.1): the organisation's name and contact
may be set, but nothing about a requester, a user, a device or a tenant.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from odfix.errors import BadInput
from odfix.guide import Guide, load_yaml_model
from odfix.textsafe import visible

KbFormat = Literal["md", "html"]
KbState = Literal["Work in Progress", "Not Validated", "Validated", "Archived"]

#: The largest ``--config`` file read, and the longest free-text value (a line of a header).
CONFIG_MAX_BYTES = 64 * 1024
TEXT_MAX = 200


class KbConfig(BaseModel):
    """Organisation-level settings for the article (``--config`` YAML, overridden by options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    contact: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    escalation_team: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    audience: str = Field(default="Help desk (internal)", min_length=1, max_length=TEXT_MAX)
    state: KbState = "Not Validated"
    title: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)


class KbConfigError(BadInput):
    """The ``--config`` file is missing or invalid (exit 2)."""


def load_kb_config(path: Path) -> KbConfig:
    """Read and validate a KB config file; ``KbConfigError`` names the file, field and line."""
    return load_yaml_model(path, KbConfig, error=KbConfigError, max_bytes=CONFIG_MAX_BYTES)


def render_kb(guide: Guide, fmt: KbFormat = "md", config: KbConfig | None = None) -> str:
    """The article in Markdown or as one self-contained, printable HTML page."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("odfix.publish", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    env.filters["line"] = _one_line
    main = [guide.method(method_id) for method_id in guide.order]
    further = [method for method in guide.methods if method.id not in guide.order]
    template = env.get_template(f"kb.{fmt}.j2")
    return template.render(
        guide=guide, config=config or KbConfig(), main_methods=main, further_methods=further,
    )


def _one_line(text: str) -> str:
    """Free text on one line: line breaks and runs of white space become one space, other
    control and bidi characters are shown as escapes (``\\x1b``) rather than acting."""
    return visible(" ".join(text.split()))


def _md_escape(text: str) -> str:
    """Keep free text (organisation name, contact, title) on its line and from turning into
    Markdown or raw HTML: a line break would end a table row or start a heading."""
    text = _one_line(text)
    for char in "\\`*_[]<>#|!":
        text = text.replace(char, f"\\{char}")
    return text
