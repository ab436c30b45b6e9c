"""A small OData v3 reader for 1C's standard interface: JSON pages, Basic auth, retries, clear errors.

1C answers ``$format=json`` with ``{"odata.metadata": ..., "value": [...]}`` and reports errors as
``{"odata.error": {"code": ..., "message": {"lang": ..., "value": ...}}}``. A Cyrillic login is sent
UTF-8 encoded in the Basic header (what 1C's web server module expects).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from erp_bridge.onec.errors import OneCError, Retryable

log = logging.getLogger(__name__)

ODATA_PATH = "/odata/standard.odata/"
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
REFS_PER_REQUEST = 20
"""References per ``$filter`` of :meth:`ODataClient.by_refs`: about 1,200 characters of URL."""
Entity = dict[str, Any]


def ref_or_none(value: Any) -> str | None:
    """A ``*_Key`` value, with 1C's empty reference (all zeros) read as None."""
    return None if not value or value == EMPTY_REF else str(value)


class ODataClient:
    """Reads entity sets page by page over a stable order; one instance per sync run."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout_s: float = 60.0,
        attempts: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + ODATA_PATH,
            auth=httpx.BasicAuth(username.encode("utf-8"), password.encode("utf-8")),
            timeout=timeout_s,
            transport=transport,
        )
        self._get = retry(
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )(self._get_once)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ODataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pages(
        self,
        entity: str,
        *,
        order_by: str = "Ref_Key",
        select: Sequence[str] = (),
        filter_: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[list[Entity]]:
        """Every entity of ``entity``, ``page_size`` at a time, over a stable ``$orderby``."""
        skip = 0
        while True:
            page = self.page(entity, skip, page_size, order_by=order_by, select=select, filter_=filter_)
            if page:
                yield page
            if len(page) < page_size:
                return
            skip += page_size

    def page(
        self,
        entity: str,
        skip: int,
        top: int,
        *,
        order_by: str = "Ref_Key",
        select: Sequence[str] = (),
        filter_: str | None = None,
    ) -> list[Entity]:
        """One page: ``$top`` entities after ``$skip`` over ``$orderby``."""
        params = {"$format": "json", "$orderby": order_by, "$top": str(top), "$skip": str(skip)}
        if select:
            params["$select"] = ",".join(select)
        if filter_:
            params["$filter"] = filter_
        return self._get(entity, params)

    def by_refs(
        self,
        entity: str,
        refs: Iterable[str],
        *,
        select: Sequence[str] = (),
        chunk: int = REFS_PER_REQUEST,
    ) -> Iterator[list[Entity]]:
        """The entities of ``refs`` (those 1C still has), a few references per request.

        1C's OData has no ``in``: the filter is ``Ref_Key eq guid'...' or ...``, kept short enough for
        the web server's URL limit."""
        wanted = list(refs)
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            filter_ = " or ".join(f"Ref_Key eq guid'{ref}'" for ref in part)
            found = self.page(entity, 0, len(part), select=select, filter_=filter_)
            if found:
                yield found

    def count(self, entity: str, filter_: str | None = None) -> int:
        """How many entities there are (``odata.count`` comes as a string)."""
        params = {"$format": "json", "$top": "1", "$inlinecount": "allpages", "$select": "Ref_Key"}
        if filter_:
            params["$filter"] = filter_
        body = self._request(entity, params)
        return int(body.get("odata.count", 0))

    def _get_once(self, entity: str, params: dict[str, str]) -> list[Entity]:
        body = self._request(entity, params)
        value = body.get("value")
        if not isinstance(value, list):
            raise OneCError("bad-answer", f"{entity}: the answer has no 'value' list")
        return value

    def _request(self, entity: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._http.get(quote(entity), params=params)
        except httpx.TimeoutException as exc:
            raise Retryable("timeout", f"{entity}: 1C did not answer in time") from exc
        except httpx.TransportError as exc:
            raise Retryable("unreachable", f"{entity}: cannot reach 1C ({exc})") from exc
        if response.status_code >= 400:
            raise _error(entity, response)
        try:
            body = response.json()
        except ValueError as exc:
            raise OneCError("bad-answer", f"{entity}: the answer is not JSON") from exc
        if not isinstance(body, dict):
            raise OneCError("bad-answer", f"{entity}: the answer is not a JSON object")
        return body


def _error(entity: str, response: httpx.Response) -> OneCError:
    """The HTTP status and 1C's ``odata.error`` envelope as one clear error."""
    detail = _odata_message(response)
    status = response.status_code
    if status == 401:
        return OneCError("wrong-password", "1C refused the user name or password")
    if status == 403:
        return OneCError("forbidden", f"the 1C user may not read {entity}{detail}")
    if status == 404:
        return OneCError("not-published", f"{entity} is not published in 1C's OData interface{detail}")
    if status == 400:
        return OneCError("bad-request", f"1C refused the query for {entity} (filter or field names){detail}")
    if status >= 500:
        return Retryable("server-error", f"1C answered {status} for {entity}{detail}")
    return OneCError("http-error", f"1C answered {status} for {entity}{detail}")


def _odata_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("odata.error", {})
        text = error.get("message", {}).get("value")
    except (ValueError, AttributeError):
        return ""
    return f": {text}" if text else ""
