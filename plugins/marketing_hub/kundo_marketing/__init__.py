"""Kundo's Marketing Hub: a first-party hub, loaded through the plugin host like any app."""
