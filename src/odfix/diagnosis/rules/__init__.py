"""Evidence to findings: one module per evidence source, each ``findings(evidence, context)``."""
