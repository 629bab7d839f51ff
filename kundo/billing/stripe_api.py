"""The one Stripe client of an app, built on first use from Settings (never at import).

Billing is on only when a secret key is configured; without one everything is free and
nothing here is ever called (`billing_enabled`).
"""

from __future__ import annotations

from flask import Flask, current_app

EXTENSION_KEY = "kundo.billing.stripe"


def billing_enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config["KUNDO"].stripe_secret_key)


def stripe_client(app: Flask | None = None):
    """The app's `stripe.StripeClient`, pointed at `stripe_api_base` (localstripe in tests)."""
    app = app or current_app
    client = app.extensions.get(EXTENSION_KEY)
    if client is None:
        import stripe

        settings = app.config["KUNDO"]
        client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base.rstrip("/")},
            max_network_retries=1,
        )
        app.extensions[EXTENSION_KEY] = client
    return client


def not_found(error: Exception) -> bool:
    """True for Stripe's 404 (an object that does not exist yet)."""
    return getattr(error, "http_status", None) == 404


def unreachable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "Stripe could not be asked now" (retry later), not "Stripe said no"."""
    import stripe

    return (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def plain(obj) -> dict:
    """A Stripe object as a plain dict (stripe-python's objects are no longer dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
