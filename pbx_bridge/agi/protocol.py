"""Pure parsers of the FastAGI wire format: the ``agi_*`` request block and the replies to commands.

Asterisk opens a FastAGI session by sending ``agi_<name>: <value>`` lines ended by a blank line, then waits
for commands; each command gets one reply line such as ``200 result=1``. These functions turn bytes into
typed values and never touch a socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Caller ids Asterisk fills in when there is no usable number.
_NO_NUMBER = frozenset({"", "unknown", "anonymous", "private", "restricted", "withheld"})
# ITU Q.931 presentation: bits 5-6 = 01 "restricted" (32..47) or 10 "not available" (64..79).
_WITHHELD_PRESENTATION = 0x20
_UNAVAILABLE_PRESENTATION = 0x40


class AgiProtocolError(ValueError):
    """The peer sent something that is not FastAGI."""


@dataclass(frozen=True, slots=True)
class AgiRequest:
    """One FastAGI request: the ``agi_*`` headers without the prefix (``network_script``, ``callerid``)."""

    headers: Mapping[str, str]

    def get(self, name: str) -> str:
        """A header's value, ``""`` when Asterisk did not send it."""
        return self.headers.get(name, "")

    @property
    def script(self) -> str:
        """The script name of ``agi://host:port/<script>?args`` (``route``).

        >>> AgiRequest({"network_script": "route?x=1"}).script
        'route'
        >>> AgiRequest({"request": "agi://127.0.0.1:4573/route"}).script
        'route'
        """
        script = self.get("network_script")
        if not script:
            request = self.get("request")
            script = request.split("://", 1)[-1].partition("/")[2] if "://" in request else ""
        return script.split("?", 1)[0].strip("/")

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid")

    @property
    def linkedid(self) -> str:
        """The call's Linkedid: the dialplan passes ``${CHANNEL(linkedid)}`` as the first AGI argument.

        Without it, the channel's own uniqueid (the Linkedid of a PJSIP trunk channel that starts a call).

        >>> AgiRequest({"uniqueid": "1795876970.22", "arg_1": "1795876970.21"}).linkedid
        '1795876970.21'
        >>> AgiRequest({"uniqueid": "1795876970.22"}).linkedid
        '1795876970.22'
        """
        return self.get("arg_1") or self.uniqueid

    @property
    def withheld(self) -> bool:
        """True when the caller hid the number (presentation restricted/unavailable) or sent none.

        >>> AgiRequest({"callerid": "anonymous", "callingpres": "35"}).withheld
        True
        >>> AgiRequest({"callerid": "+79001234567", "callingpres": "0"}).withheld
        False
        """
        pres = self.get("callingpres")
        presentation = int(pres) if pres.isdigit() else 0
        restricted = presentation & (_WITHHELD_PRESENTATION | _UNAVAILABLE_PRESENTATION)
        return bool(restricted) or self.get("callerid").strip().lower() in _NO_NUMBER

    @property
    def caller(self) -> str | None:
        """The caller's number as Asterisk gave it, or None when withheld or absent.

        >>> AgiRequest({"callerid": "unknown", "callingpres": "67"}).caller is None
        True
        >>> AgiRequest({"callerid": "+79001234567"}).caller
        '+79001234567'
        """
        return None if self.withheld else self.get("callerid").strip()

    @property
    def dialed(self) -> str | None:
        """The dialled number (DID): ``agi_extension`` (``agi_dnid`` is ``unknown`` on Local channels).

        >>> AgiRequest({"extension": "+74951234567", "dnid": "unknown"}).dialed
        '+74951234567'
        >>> AgiRequest({"extension": "s", "dnid": "+74951234567"}).dialed
        '+74951234567'
        """
        for value in (self.get("extension"), self.get("dnid")):
            value = value.strip()
            if value and value.lower() not in _NO_NUMBER and value != "s":
                return value
        return None


def parse_header_line(line: str) -> tuple[str, str]:
    """Split one ``agi_name: value`` line into ``(name, value)`` without the ``agi_`` prefix.

    >>> parse_header_line("agi_callerid: +79001234567")
    ('callerid', '+79001234567')
    >>> parse_header_line("agi_accountcode: ")
    ('accountcode', '')
    >>> parse_header_line("hello")
    Traceback (most recent call last):
    ...
    pbx_bridge.agi.protocol.AgiProtocolError: not an agi_* header: 'hello'
    """
    name, sep, value = line.rstrip("\r\n").partition(":")
    if not sep or not name.startswith("agi_") or not name[4:].replace("_", "").isalnum():
        raise AgiProtocolError(f"not an agi_* header: {line[:80]!r}")
    return name[4:], value.strip()


def parse_request(lines: Iterable[str]) -> AgiRequest:
    """Build a request from the header lines (without the terminating blank line).

    >>> parse_request(["agi_network_script: route", "agi_uniqueid: 1795875455.439"]).uniqueid
    '1795875455.439'
    >>> parse_request([])
    Traceback (most recent call last):
    ...
    pbx_bridge.agi.protocol.AgiProtocolError: empty FastAGI request
    """
    headers = dict(parse_header_line(line) for line in lines)
    if not headers:
        raise AgiProtocolError("empty FastAGI request")
    return AgiRequest(headers)


@dataclass(frozen=True, slots=True)
class AgiReply:
    """Asterisk's answer to one command: ``code`` 200 on success, ``result`` and the optional ``(data)``.

    ``hangup`` is True for the ``HANGUP`` notice Asterisk sends when the channel goes away mid-session.
    """

    code: int
    result: str = ""
    data: str = ""
    hangup: bool = False

    @property
    def ok(self) -> bool:
        return self.code == 200 and not self.hangup


def parse_reply(line: str) -> AgiReply:
    """Parse one reply line.

    >>> parse_reply("200 result=1")
    AgiReply(code=200, result='1', data='', hangup=False)
    >>> parse_reply("200 result=0 (timeout)\\n")
    AgiReply(code=200, result='0', data='timeout', hangup=False)
    >>> parse_reply("511 Command Not Permitted on a dead channel or intercept routine").code
    511
    >>> parse_reply("HANGUP").hangup
    True
    >>> parse_reply("OK then")
    Traceback (most recent call last):
    ...
    pbx_bridge.agi.protocol.AgiProtocolError: not an AGI reply: 'OK then'
    """
    text = line.strip()
    if text == "HANGUP":
        return AgiReply(code=0, hangup=True)
    code, _, rest = text.partition(" ")
    if len(code) != 3 or not code.isdigit():
        # "520-Invalid command syntax." opens a multi-line usage message: report its code.
        if len(code) > 3 and code[:3].isdigit() and code[3] == "-":
            return AgiReply(code=int(code[:3]), data=text[4:])
        raise AgiProtocolError(f"not an AGI reply: {text[:80]!r}")
    if not rest.startswith("result="):
        return AgiReply(code=int(code), data=rest)
    result, _, data = rest[len("result=") :].partition(" ")
    data = data.strip()
    if data.startswith("(") and data.endswith(")"):
        data = data[1:-1]
    return AgiReply(code=int(code), result=result, data=data)
