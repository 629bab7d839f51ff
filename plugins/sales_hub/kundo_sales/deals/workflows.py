"""The deal events a workflow can start from (the workflow engine lists them as triggers)."""

from __future__ import annotations

from kundo.plugins.sdk import WorkflowTrigger

TRIGGERS = (
    WorkflowTrigger("deal.created", "Deal created", "deal"),
    WorkflowTrigger("deal.stage_changed", "Deal moved to another stage", "deal"),
    WorkflowTrigger("deal.won", "Deal won", "deal"),
    WorkflowTrigger("deal.lost", "Deal lost", "deal"),
)
