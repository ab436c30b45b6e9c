# ruff: noqa: RUF001  (Cyrillic 1C data is intended)
"""A stand-in 1C OData publication over real HTTP, for the tests and the benchmark (not for production).

It follows 1C's documented behaviour: ``/<base>/odata/standard.odata/<EntitySet>``; Atom XML unless
``$format=json``; the ``odata.metadata`` / ``value`` envelope; ``$top``, ``$skip``, ``$orderby``,
``$select`` and a ``$filter`` of ``and``/``or``-joined ``<field> <op> <literal>`` comparisons
(``datetime'...'``, ``guid'...'``, strings, numbers, booleans); ``odata.count`` as a string with
``$inlinecount=allpages``; Basic auth with the login UTF-8 encoded; errors in the ``odata.error`` envelope.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from erp_bridge.onec.client import ODATA_PATH

Entity = dict[str, Any]
_COMPARISON = re.compile(r"^\s*(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+?)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


class BadFilter(ValueError):
    pass


def _literal(text: str) -> Any:
    for prefix in ("datetime", "guid"):
        if text.startswith(prefix + "'") and text.endswith("'"):
            return text[len(prefix) + 1 : -1]
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text)
    except ValueError as exc:
        raise BadFilter(f"cannot read the literal {text}") from exc


def compile_filter(expression: str) -> Callable[[Entity], bool]:
    """A predicate for ``a ge datetime'...' and b eq false`` or ``r eq guid'..' or r eq guid'..'``.

    ``and`` binds tighter than ``or`` (no parentheses); anything else is a bad filter."""
    alternatives = []
    for alternative in re.split(r"\s+or\s+", expression):
        tests = []
        for part in re.split(r"\s+and\s+", alternative):
            match = _COMPARISON.match(part)
            if match is None:
                raise BadFilter(f"cannot parse {part!r}")
            field, op, literal = match.groups()
            tests.append((field, _OPS[op], _literal(literal)))
        alternatives.append(tests)
    return lambda e: any(
        all(field in e and op(e[field], value) for field, op, value in tests) for tests in alternatives
    )


_REF_EQ = re.compile(r"^\s*Ref_Key\s+eq\s+guid'([0-9a-fA-F-]+)'\s*$")


def _refs_only(expression: str) -> list[str] | None:
    """The references of a filter made only of ``Ref_Key eq guid'...'`` joined by ``or``, else None."""
    if not expression:
        return None
    matches = [_REF_EQ.match(part) for part in re.split(r"\s+or\s+", expression)]
    return [m.group(1) for m in matches if m] if all(matches) else None


class StandIn1C:
    """Entity sets in memory, served on a free port; ``fail`` injects 500s for the tests."""

    def __init__(
        self, base: str = "/ut11", username: str = "Администратор", password: str = "пароль"
    ) -> None:
        self.base = base
        self.username = username
        self.password = password
        self.sets: dict[str, list[Entity]] = {}
        self.fail: Callable[[str, int], bool] | None = None
        """Called with (entity set, $skip); True makes that request answer 500."""
        self.requests: list[str] = []
        self.queries: list[tuple[str, dict[str, str]]] = []
        """Every request's entity set and query parameters, in order."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.base}"

    def __enter__(self) -> StandIn1C:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def query(self, entity_set: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body 1C would answer."""
        if entity_set not in self.sets:
            return 404, _error("9", f"Не найден объект {entity_set}")
        rows = self.sets[entity_set]
        try:
            if (refs := _refs_only(params.get("$filter", ""))) is not None:  # 1C looks these up by index
                index = {e["Ref_Key"]: e for e in rows}
                rows = [index[ref] for ref in dict.fromkeys(refs) if ref in index]
            elif "$filter" in params:
                rows = [e for e in rows if compile_filter(params["$filter"])(e)]
        except BadFilter as exc:
            return 400, _error("6", f"Ошибка разбора условия: {exc}")
        if order := params.get("$orderby"):
            fields = [f.split()[0] for f in order.split(",")]
            rows = sorted(rows, key=lambda e: tuple(str(e.get(f, "")) for f in fields))
        count = len(rows)
        skip = int(params.get("$skip", "0"))
        top = int(params.get("$top", str(len(rows))))
        rows = rows[skip : skip + top]
        if sel := params.get("$select"):
            wanted = sel.split(",")
            rows = [{k: v for k, v in e.items() if k in wanted} for e in rows]
        body: dict[str, Any] = {"odata.metadata": f"{self.url}{ODATA_PATH}$metadata#{entity_set}"}
        if params.get("$inlinecount") == "allpages":
            body["odata.count"] = str(count)
        body["value"] = rows
        return 200, body

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.username and password == self.password

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                prefix = standin.base + ODATA_PATH
                if not standin._authorized(self.headers.get("Authorization")):
                    self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="1C"'})
                    return
                if not path.startswith(prefix):
                    self._send(404, b"not found", "text/plain")
                    return
                entity_set = path[len(prefix) :]
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                standin.requests.append(entity_set)
                standin.queries.append((entity_set, params))
                if standin.fail is not None and standin.fail(entity_set, int(params.get("$skip", "0"))):
                    self._send_json(500, _error("0", "Внутренняя ошибка сервера"))
                    return
                status, body = standin.query(entity_set, params)
                if params.get("$format") == "json" or status != 200:
                    self._send_json(status, body)
                else:
                    self._send(200, _atom(entity_set, body["value"]).encode(), "application/atom+xml")

            def _send_json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self._send(status, data, "application/json;odata=minimalmetadata;charset=utf-8")

            def _send(
                self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(code: str, text: str) -> dict[str, Any]:
    return {"odata.error": {"code": code, "message": {"lang": "ru", "value": text}}}


def _atom(entity_set: str, rows: list[Entity]) -> str:
    """The default (no ``$format``) answer: an Atom feed, each entity's scalar properties in m:properties."""
    entries = "".join(
        '<entry><content type="application/xml"><m:properties>'
        + "".join(f"<d:{k}>{escape(str(v))}</d:{k}>" for k, v in e.items() if not isinstance(v, list))
        + "</m:properties></content></entry>"
        for e in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<title type="text">{escape(entity_set)}</title>{entries}</feed>'
    )
