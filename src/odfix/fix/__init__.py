"""Run a plan on a host: dry-run by default, consent, journal, verify, resume."""
