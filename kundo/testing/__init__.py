"""Test fixtures shared by Kundo and every plugin distribution (a pytest plugin).

Registered as the `kundo` pytest11 entry point, so `plugins/*/tests` get the same
`app`, `client` and workspace fixtures without copying them.
"""
