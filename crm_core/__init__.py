"""CRM core: models, repositories, services and analytics. Knows nothing of Asterisk or HTTP."""
