"""1C:Enterprise exchange over its standard OData interface (``/odata/standard.odata/``), read-only."""
