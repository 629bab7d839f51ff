"""Workflow automation: when an event happens to a record, run steps for it.

A workflow is a trigger (event type + conditions), steps (actions, delays, if/else
branches), an enrollment rule and an optional goal. `engine` enrolls records and walks
their steps inside the delivery system's exactly-once transactions; `service` is what
pages and the API call; `dryrun` tests a workflow on one record without side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the event consumer, the resume timer, the pages and the sidebar entry."""
    from kundo.platform.workflows import engine
    from kundo.platform.workflows.views import WORKFLOWS_NAV, blueprint

    engine.init_app(app)
    app.register_blueprint(blueprint)
    app.extensions["kundo_nav"].extend(WORKFLOWS_NAV)
