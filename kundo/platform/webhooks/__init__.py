"""Outgoing webhooks: tenants subscribe URLs to event types; deliveries are signed, guarded, retried, logged.

`send_workflow_webhook` is the workflow engine's "call a webhook" action: the same signing,
SSRF guard, retries and log, for a one-off delivery that belongs to no subscription.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundo.platform.webhooks.service import WebhookError, send_workflow_webhook

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["WebhookError", "init_app", "send_workflow_webhook"]


def init_app(app: Flask) -> None:
    from kundo.platform.events import Consumer, register_consumer
    from kundo.platform.jobs import register_timer_handler
    from kundo.platform.webhooks.delivery import CONSUMER, deliver_webhook, queue_event_deliveries
    from kundo.platform.webhooks.service import DELIVERY_TIMER, subscribed_event_types
    from kundo.platform.webhooks.views import WEBHOOKS_NAV, blueprint

    register_timer_handler(app, DELIVERY_TIMER, deliver_webhook)
    register_consumer(app, Consumer(name=CONSUMER, handle=queue_event_deliveries,
                                    interested=subscribed_event_types))
    app.register_blueprint(blueprint)
    app.extensions["kundo_nav"].extend(WEBHOOKS_NAV)
