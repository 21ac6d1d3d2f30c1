"""CLI command groups; each module has ``register(app)`` and is listed in ``odfix.cli``."""
