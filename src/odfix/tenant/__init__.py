"""Entra sign-in logs and Conditional Access, loaded into DuckDB and analysed."""
