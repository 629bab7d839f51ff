"""Kundo's Sales Hub: a first-party hub, loaded through the plugin host like any app."""
