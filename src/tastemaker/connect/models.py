"""Expert Connect's tables (see the package docstring)."""
