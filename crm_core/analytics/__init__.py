"""CRM analytics: client status from shipments, ABC/XYZ, RFM, forgotten clients and manager KPIs.

Each module pairs pure functions over plain dataclasses (the rules) with a thin service that feeds them from
:mod:`crm_core.repositories.analytics` (the queries). Services never commit; the caller does.
"""
