"""Case-insensitive "contains" for names, the same on PostgreSQL and SQLite, Cyrillic included.

PostgreSQL's ``ILIKE`` folds every letter its locale knows. SQLite's ``LIKE``, ``lower()`` and ``ILIKE``
(rendered as ``lower() LIKE lower()``) fold ASCII only, so ``ромашка`` would not find "Ромашка".
On SQLite the name goes through :data:`SQLITE_CASEFOLD`, a Python ``str.casefold`` registered on every
connection by :func:`register_sqlite_functions`, and is compared with the casefolded pattern.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_CASEFOLD = "callrouter_casefold"
_ESCAPE = "\\"


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_functions(dbapi_connection: Any, _record: Any = None) -> None:
    """Register :data:`SQLITE_CASEFOLD` on a new SQLite connection (an engine ``connect`` listener)."""
    dbapi_connection.create_function(SQLITE_CASEFOLD, 1, _casefold, deterministic=True)


class _ContainsFolded(FunctionElement[bool]):
    """``column`` contains a pattern, ignoring case; compiled per dialect (below)."""

    name = "contains_folded"
    type = Boolean()
    inherit_cache = True


@compiles(_ContainsFolded)
def _ilike(element: _ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _folded = element.clauses
    return f"({compiler.process(column.ilike(pattern, escape=_ESCAPE), **kw)})"


@compiles(_ContainsFolded, "sqlite")
def _sqlite_casefold(element: _ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    column, _pattern, folded = element.clauses
    folded_column = getattr(func, SQLITE_CASEFOLD)(column)
    return f"({compiler.process(folded_column.like(folded, escape=_ESCAPE), **kw)})"


def contains_text(column: ColumnElement[str] | QueryableAttribute[str], text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` in any letter case; ``%`` and ``_`` in ``text`` are literal.

    Text no database can store (a NUL byte) is refused when the query runs (``unstorable-text``).
    """
    escaped = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return _ContainsFolded(
        column,
        bindparam("contains_pattern", pattern, unique=True),
        bindparam("contains_folded", pattern.casefold(), unique=True),
    )
