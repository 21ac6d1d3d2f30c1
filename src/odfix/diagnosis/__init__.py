"""Evidence to findings (citing raw lines) to ranked causes to a plan.

``diagnose`` and ``Diagnosis`` are imported on first use, so a module that only needs the models
(``odfix.diagnosis.models``, imported when the CLI starts) does not load the rules, the parsers
and the guide.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from odfix.diagnosis.engine import diagnose
    from odfix.diagnosis.models import Diagnosis

__all__ = ["Diagnosis", "diagnose"]


def __getattr__(name: str) -> object:
    if name == "diagnose":
        from odfix.diagnosis.engine import diagnose

        return diagnose
    if name == "Diagnosis":
        from odfix.diagnosis.models import Diagnosis

        return Diagnosis
    raise AttributeError(f"module 'odfix.diagnosis' has no attribute {name!r}")
