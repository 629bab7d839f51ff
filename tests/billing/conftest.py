"""Billing tests run against localstripe (a stateful Stripe stand-in) on a free loopback port.

The real `stripe` client is pointed at it through `stripe_api_base`. Webhooks are the
stand-in's own events (GET /v1/events), signed with the webhook secret exactly as
Stripe (and localstripe) sign them, and posted to /billing/stripe/webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from kundo.testing.fixtures import TEST_PASSWORD, build_app
from kundo.testing.web import HostClient

SECRET_KEY = "sk_test_kundo_billing"
WEBHOOK_SECRET = "whsec_kundo_billing_test"
#: Runs localstripe's aiohttp app on 127.0.0.1 only (its own CLI listens on every interface).
SERVER = (
    "import sys, logging\n"
    "from aiohttp import web\n"
    "from localstripe.server import app\n"
    "logging.basicConfig(level=logging.WARNING)\n"
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)],  # noqa: S603 - our own interpreter
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{url}/v1/customers", headers={"Authorization": f"Bearer {SECRET_KEY}"})
            with urllib.request.urlopen(request, timeout=1):  # noqa: S310 - loopback
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("localstripe did not start: " + process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def billing_settings(localstripe_url: str, **extra) -> dict:
    return {"stripe_secret_key": SECRET_KEY, "stripe_publishable_key": "pk_test_kundo_billing",
            "stripe_webhook_secret": WEBHOOK_SECRET, "stripe_api_base": localstripe_url,
            "queue_prefix": "kundo-billing", **extra}


@pytest.fixture(scope="session")
def billing_app(database_url, localstripe):
    from kundo.platform.db import db
    from kundo.testing.jobs import stop_job_runner

    app = build_app(database_url, **billing_settings(localstripe))
    result = app.test_cli_runner().invoke(args=["billing", "sync-catalog"])
    assert result.exit_code == 0, result.output
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def stripe_api(billing_app):
    from kundo.billing.stripe_api import stripe_client

    return stripe_client(billing_app)


@pytest.fixture
def billing_jobs(billing_app):
    from kundo.testing.jobs import run_jobs

    return lambda: run_jobs(billing_app)


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


class Webhooks:
    """Posts the stand-in's events to Kundo's endpoint, each once unless asked again."""

    def __init__(self, app, stripe_api) -> None:
        self.client = app.test_client()
        self.stripe = stripe_api
        self.sent: set[str] = set(e["id"] for e in self.all_events())

    def all_events(self) -> list[dict]:
        return [e.to_dict() for e in self.stripe.v1.events.list(params={"limit": 1000})["data"]]

    def post(self, event: dict, *, secret: str = WEBHOOK_SECRET):
        payload = json.dumps(event).encode()
        return self.client.post("/billing/stripe/webhook", data=payload, base_url="http://kundo.test",
                                headers={"Stripe-Signature": signed(payload, secret),
                                         "Content-Type": "application/json"})

    def new_events(self, customer: str | None = None) -> list[dict]:
        events = [e for e in self.all_events() if e["id"] not in self.sent]
        if customer is not None:
            events = [e for e in events if _customer_of(e) == customer]
        return sorted(events, key=lambda e: e["created"])

    def deliver(self, customer: str | None = None) -> list[dict]:
        events = self.new_events(customer)
        for event in events:
            response = self.post(event)
            assert response.status_code == 200, response.get_data(as_text=True)
            self.sent.add(event["id"])
        return events


def _customer_of(event: dict) -> str | None:
    obj = event["data"]["object"]
    return obj.get("customer") if obj.get("object") != "customer" else obj.get("id")


@pytest.fixture
def webhooks(billing_app, stripe_api):
    return Webhooks(billing_app, stripe_api)


@pytest.fixture
def billing_page(billing_app):
    """billing_page(workspace, email=None) -> a HostClient signed in on billing_app."""

    def _sign_in(workspace, email=None):
        page = HostClient(billing_app.test_client(), workspace.host)
        response = page.submit("/login", {"email": email or workspace.owner_email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return page

    return _sign_in


def account(app, tenant_id):
    from kundo.billing.models import BillingAccount
    from kundo.platform.db import db

    with app.app_context():
        row = db.session.get(BillingAccount, tenant_id)
        if row is not None:
            db.session.expunge(row)
        return row


def card(stripe_api, customer: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does after confirmCardSetup: a payment method on the customer."""
    method = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer})
    return method.id


def end_trial(stripe_api, subscription_id: str, customer: str):
    """What Stripe does when a trial ends: the first invoice of the period, paid with the card on file."""
    import stripe

    stripe_api.v1.subscriptions.update(subscription_id, params={"trial_end": "now"})
    invoice = stripe_api.v1.invoices.create(params={"customer": customer, "subscription": subscription_id})
    try:
        return stripe_api.v1.invoices.pay(invoice.id)
    except stripe.CardError:
        return stripe_api.v1.invoices.retrieve(invoice.id)


def declined_renewal(localstripe_url: str, stripe_api, subscription_id: str, customer: str):
    """The renewal day with a card that fails: the next invoice stays open, Stripe reports the failure.

    localstripe's plain invoice payment swallows declines (no event, no past_due); a card that
    needs 3-D Secure and then declines (4000008260003178) goes through its full failure path:
    invoice.payment_failed and the subscription past_due, as Stripe does.
    """
    import urllib.parse

    invoice = stripe_api.v1.invoices.create(params={"customer": customer, "subscription": subscription_id})
    invoice = stripe_api.v1.invoices.pay(invoice.id)  # waits for the card holder's authentication
    intent = stripe_api.v1.payment_intents.retrieve(invoice["payment_intent"])
    body = urllib.parse.urlencode({"client_secret": intent["client_secret"], "success": "true"}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{localstripe_url}/v1/payment_intents/{intent['id']}/_authenticate", data=body,
        headers={"Authorization": f"Bearer {SECRET_KEY}"})
    try:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback
    except urllib.error.HTTPError as error:
        assert error.code == 402  # the card was declined
    return stripe_api.v1.invoices.retrieve(invoice.id)


@pytest.fixture
def helpers(localstripe):
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(account=account, card=card, end_trial=end_trial, declined_renewal=declined_renewal,
                           settings=billing_settings, localstripe=localstripe,
                           signed=signed, Webhooks=Webhooks)


@pytest.fixture(scope="session")
def free_port_closed():
    """A loopback address nothing listens on: Stripe "unreachable"."""
    return f"http://127.0.0.1:{free_port()}"
