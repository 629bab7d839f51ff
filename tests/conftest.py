"""Kundo's fixtures come from the `kundo.testing.fixtures` pytest plugin (entry point)."""
