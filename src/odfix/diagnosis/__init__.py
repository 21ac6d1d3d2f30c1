"""Evidence to findings (citing raw lines) to ranked causes to a plan."""

from odfix.diagnosis.engine import diagnose
from odfix.diagnosis.models import Diagnosis

__all__ = ["Diagnosis", "diagnose"]
