"""Queries: one module per area; services call these and never build SQL themselves."""
