"""Pipelines and their stages: the path a deal takes, with the rules that run when it enters a stage."""
