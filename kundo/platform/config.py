"""Configuration read from the environment only — never from files in the tree.

Why one class: the app factory, the CLI and the tests all build a config the same
way, so a setting cannot mean one thing in `make run` and another in CI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_SECRET = "kundo-development-secret-change-me"  # noqa: S105 - refused in production


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a startable Kundo."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def sqlalchemy_url(database_url: str) -> str:
    """Map a libpq-style URL to the psycopg 3 driver SQLAlchemy should use."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    raise ConfigError(
        f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got {database_url.split(':')[0]!r}"
    )


def libpq_url(database_url: str, **params: str) -> str:
    """DATABASE_URL as libpq reads it, with extra query parameters merged in (a socket `host=` stays)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if database_url.startswith(prefix):
            database_url = "postgresql://" + database_url[len(prefix):]
    if not params:
        return database_url
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class Settings:
    database_url: str
    secret_key: str = DEFAULT_SECRET
    domain: str = "localhost:5000"
    scheme: str = "http"
    mail_url: str | None = None
    mail_sender: str = "Kundo <no-reply@kundo.localhost>"
    production: bool = False
    ratelimit_enabled: bool = True
    ratelimit_storage_uri: str = "memory://"
    login_rate_limit: str = "10 per minute"
    signup_rate_limit: str = "5 per minute"
    reset_rate_limit: str = "5 per minute"
    db_pool_size: int = 10
    db_conn_max_uses: int = 100
    log_json: bool = True
    testing: bool = False
    #: argon2 cost profile (kundo.platform.security); test suites pass "fast".
    argon2_profile: str = "standard"
    #: KUNDO_SAFE_MODE=1: load the first-party hubs only (a broken app cannot keep Kundo down).
    plugins_safe_mode: bool = False
    #: Where uploaded plugin wheels are kept; None means `var/marketplace` (kundo.platform.embedded.var_dir()).
    marketplace_dir: str | None = None
    #: The largest wheel a publisher may upload, in bytes.
    marketplace_max_bytes: int = 20 * 1024 * 1024
    #: Where jobs travel: empty means the embedded PostgreSQL broker in DATABASE_URL's database;
    #: `amqp://...` (RabbitMQ) or `redis://...` in production.
    broker_url: str = ""
    #: Prefix of every queue name, so deployments (or test runs) sharing one RabbitMQ/Redis never mix jobs.
    queue_prefix: str = "kundo"
    #: Retries of a failed job before it becomes a dead letter, and the backoff between them.
    job_max_retries: int = 5
    job_min_backoff_ms: int = 1_000
    job_max_backoff_ms: int = 300_000
    #: Seconds without a heartbeat after which the embedded broker hands a dead worker's jobs to others.
    worker_heartbeat_ttl: float = 60.0
    #: Seconds between the relay's sweeps over every tenant (NOTIFY is the fast path; the sweep the safety net).
    relay_sweep_seconds: float = 60.0
    #: Bearer token a Prometheus scrape of /metrics must send; empty means loopback only.
    metrics_token: str = ""
    #: KUNDO_WEBHOOK_ALLOW_PRIVATE=1 lets outgoing webhooks reach private, loopback and link-local
    #: addresses (an operator's choice for on-premises receivers; off, they are refused as SSRF).
    webhook_allow_private: bool = False
    #: Stripe (kundo.billing). No secret key means billing is off: everything is free, nothing calls Stripe.
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    #: Where the Stripe API lives; tests point it at localstripe on loopback.
    stripe_api_base: str = "https://api.stripe.com"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: os._Environ | dict | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        database_url = overrides.pop("database_url", None) or env.get("DATABASE_URL")
        if not database_url:
            raise ConfigError(
                "DATABASE_URL is not set. Use `make run` (starts an embedded PostgreSQL) "
                "or export DATABASE_URL=postgresql://user@host:5432/kundo."
            )
        settings = cls(
            database_url=database_url,
            secret_key=env.get("SECRET_KEY", DEFAULT_SECRET),
            domain=env.get("KUNDO_DOMAIN", "localhost:5000"),
            scheme=env.get("KUNDO_SCHEME", "http"),
            mail_url=env.get("MAIL_URL") or None,
            mail_sender=env.get("MAIL_SENDER", "Kundo <no-reply@kundo.localhost>"),
            production=env.get("KUNDO_ENV", "development") == "production",
            ratelimit_enabled=_flag(env.get("RATELIMIT_ENABLED"), True),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI", "memory://"),
            db_pool_size=int(env.get("KUNDO_DB_POOL_SIZE", "10")),
            db_conn_max_uses=int(env.get("KUNDO_DB_CONN_MAX_USES", "100")),
            log_json=_flag(env.get("KUNDO_LOG_JSON"), True),
            plugins_safe_mode=_flag(env.get("KUNDO_SAFE_MODE")),
            marketplace_dir=env.get("KUNDO_MARKETPLACE_DIR") or None,
            broker_url=env.get("BROKER_URL", ""),
            queue_prefix=env.get("KUNDO_QUEUE_PREFIX", "kundo"),
            job_max_retries=int(env.get("KUNDO_JOB_MAX_RETRIES", "5")),
            job_min_backoff_ms=int(env.get("KUNDO_JOB_MIN_BACKOFF_MS", "1000")),
            worker_heartbeat_ttl=float(env.get("KUNDO_WORKER_HEARTBEAT_TTL", "60")),
            relay_sweep_seconds=float(env.get("KUNDO_RELAY_SWEEP_SECONDS", "60")),
            metrics_token=env.get("KUNDO_METRICS_TOKEN", ""),
            webhook_allow_private=_flag(env.get("KUNDO_WEBHOOK_ALLOW_PRIVATE")),
            marketplace_max_bytes=int(env.get("KUNDO_MARKETPLACE_MAX_MB", "20")) * 1024 * 1024,
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", ""),
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY", ""),
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", ""),
            stripe_api_base=env.get("STRIPE_API_BASE", "https://api.stripe.com"),
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.production and self.secret_key == DEFAULT_SECRET:
            raise ConfigError(
                "KUNDO_ENV=production refuses the default SECRET_KEY: set SECRET_KEY to a long random value."
            )
        if self.production and len(self.secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
        if self.argon2_profile not in ("standard", "fast"):
            raise ConfigError(f"Unknown argon2 profile {self.argon2_profile!r}: use 'standard' or 'fast'.")
        if self.production and self.argon2_profile != "standard":
            raise ConfigError("KUNDO_ENV=production hashes passwords with the 'standard' argon2 profile only.")
        sqlalchemy_url(self.database_url)
        if self.broker_url and not self.broker_url.startswith(("amqp://", "amqps://", "redis://", "rediss://")):
            raise ConfigError(
                f"BROKER_URL must start with amqp:// (RabbitMQ) or redis://, got {self.broker_url.split(':')[0]!r}; "
                "leave it empty for the embedded PostgreSQL broker."
            )

    @property
    def host_name(self) -> str:
        """The root host without port, e.g. `localhost` for `localhost:5000`."""
        return self.domain.split(":")[0]

    def marketplace_path(self) -> Path:
        """The folder of stored plugin wheels (`<plugin_id>/<wheel>` inside)."""
        from kundo.platform.embedded import var_dir

        return Path(self.marketplace_dir) if self.marketplace_dir else var_dir() / "marketplace"

    def root_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def workspace_url(self, slug: str) -> str:
        return f"{self.scheme}://{slug}.{self.domain}"

    def flask_config(self) -> dict:
        """What Flask and its extensions read from `app.config`."""
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(self.database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_size": self.db_pool_size,
                "max_overflow": self.db_pool_size,
                "pool_pre_ping": True,
            },
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.scheme == "https",
            "SESSION_COOKIE_NAME": "kundo_session",
            "WTF_CSRF_TIME_LIMIT": None,
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
            "API_TITLE": "Kundo API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "docs",
            "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
            "BABEL_DEFAULT_LOCALE": "en",
            "TESTING": self.testing,
            "KUNDO": self,
            **self.extra,
        }
