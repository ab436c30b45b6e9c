"""Translations (gettext catalogs through Babel) and locale-aware dates for every user-facing text."""

from crm_core.i18n.catalogs import (
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    catalog,
    negotiate,
    supported,
    translations,
)
from crm_core.i18n.localizer import N_, Localizer

__all__ = [
    "DEFAULT_LANGUAGE",
    "N_",
    "SUPPORTED_LANGUAGES",
    "Localizer",
    "catalog",
    "negotiate",
    "supported",
    "translations",
]
