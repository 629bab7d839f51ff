"""Helpers that drive Kundo's pages the way a browser does: hosts, forms, CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise AssertionError("page has no CSRF token")
    return match.group(1) or match.group(2)


@dataclass
class HostClient:
    """A Flask test client pinned to one host (root domain or a workspace)."""

    client: FlaskClient
    host: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def get(self, path: str, **kwargs):
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def post(self, path: str, **kwargs):
        return self.client.post(path, base_url=self.base_url, **kwargs)

    def csrf(self, page: str = "/login") -> str:
        response = self.get(page)
        return csrf_token_from(response.get_data(as_text=True))

    def submit(self, path: str, data: dict | None = None, *, page: str | None = None, **kwargs):
        """POST a form with the CSRF token taken from `page` (default: the form's own page)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(page or path))
        return self.post(path, data=data, **kwargs)

    def api(self, method: str, path: str, token: str, **kwargs):
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, base_url=self.base_url, headers=headers, **kwargs)
