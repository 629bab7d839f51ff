"""Arrives with its own issue; kept so the package layout matches the design."""
