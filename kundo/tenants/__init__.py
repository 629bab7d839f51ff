"""Control plane: tenants, memberships, schema provisioning, resolution, tenant migrations."""
