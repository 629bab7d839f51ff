"""Deals: the opportunities that move through a pipeline, with their contacts and stage history."""
