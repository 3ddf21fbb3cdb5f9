"""Routers of the authenticated API, one module per resource."""
