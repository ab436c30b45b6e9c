"""Adapters to outside business systems (1C:Enterprise), beside ``pbx_bridge``: they may use ``crm_core``."""
