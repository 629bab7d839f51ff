"""The local mail outbox: what Kundo sent while no SMTP server is configured."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template

from kundo.platform.mail.service import latest_mail

blueprint = Blueprint("mail", __name__, template_folder="templates")


@blueprint.get("/mail/outbox")
def outbox():
    settings = current_app.config["KUNDO"]
    # Only on the root host, and only where mail never leaves the machine.
    if g.get("tenant") is not None or settings.mail_url or settings.production:
        abort(404)
    return render_template("mail/outbox.html", mails=latest_mail(100))
