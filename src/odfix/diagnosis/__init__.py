"""Evidence to findings (citing raw lines) to ranked causes to a plan."""
