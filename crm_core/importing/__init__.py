"""CSV import of counterparties (with their numbers and personal managers) and of managers.

The format is documented in ``docs/import.md``. Services here never commit: the caller commits the whole
import once (or rolls it back for a dry run), so a failure leaves no row behind.
"""

from crm_core.importing.columns import (
    COUNTERPARTY_COLUMNS,
    COUNTERPARTY_REPEATABLE,
    COUNTERPARTY_REQUIRED,
    MANAGER_COLUMNS,
    MANAGER_REQUIRED,
)
from crm_core.importing.counterparties import import_counterparties
from crm_core.importing.csv_source import CsvFormatError, CsvSource, read_csv
from crm_core.importing.managers import import_managers
from crm_core.importing.report import ErrorCode, ImportReport, RowError, WarningCode

__all__ = [
    "COUNTERPARTY_COLUMNS",
    "COUNTERPARTY_REPEATABLE",
    "COUNTERPARTY_REQUIRED",
    "MANAGER_COLUMNS",
    "MANAGER_REQUIRED",
    "CsvFormatError",
    "CsvSource",
    "ErrorCode",
    "ImportReport",
    "RowError",
    "WarningCode",
    "import_counterparties",
    "import_managers",
    "read_csv",
]
