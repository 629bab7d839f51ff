"""Kundo — a multi-tenant CRM whose tenant isolation is enforced by PostgreSQL."""

__version__ = "0.1.0"
