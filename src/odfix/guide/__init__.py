"""The fix guide and the error-code catalog, as validated data."""
