"""Incremental parser for the Asterisk Manager Interface byte stream (pure, no I/O).

An AMI message is a block of ``Key: value`` lines ended by a blank line; Asterisk writes CRLF, LF is
accepted too. The first line of a session is the banner ``Asterisk Call Manager/x.y.z`` (no blank line
after it). Cost is linear in the input: each byte is scanned a constant number of times, only the unfinished
last line is kept between feeds, and the headers of an unfinished message are kept parsed.

Bad input never raises; it is counted in :attr:`AmiParser.faults` by kind:

* ``non_utf8``: undecodable byte sequences (replaced by U+FFFD),
* ``line_too_long``: a line longer than ``max_line`` bytes (dropped),
* ``bad_header``: a line without ``": "`` or with an empty key (dropped),
* ``too_many_headers``: headers beyond ``max_headers`` in one message (dropped),
* ``truncated``: a message or line left unfinished when the stream ended (see :meth:`AmiParser.close`).

A key repeated within one message (e.g. several ``ChanVariable``) keeps every value, joined by ``"\\n"``.
"""

from __future__ import annotations

from collections import Counter

BANNER_PREFIX = "Asterisk Call Manager/"
DEFAULT_MAX_LINE = 64 * 1024
DEFAULT_MAX_HEADERS = 512
_REPLACEMENT = "\ufffd"
_SLICE = 16 * 1024


class AmiParser:
    """Turn AMI bytes, fed in chunks of any size, into messages (``dict`` of header -> value).

    >>> p = AmiParser()
    >>> p.feed(b"Asterisk Call Manager/9.0.0\\r\\nResponse: Success\\r\\nMess")
    []
    >>> p.feed(b"age: Authentication accepted\\r\\n\\r\\nEvent: Hangup\\nCause: 16\\n\\n")
    [{'Response': 'Success', 'Message': 'Authentication accepted'}, {'Event': 'Hangup', 'Cause': '16'}]
    >>> p.banner
    'Asterisk Call Manager/9.0.0'
    >>> p.feed(b"Event: X\\r\\nno colon\\r\\nA: \\xff\\r\\n\\r\\n")
    [{'Event': 'X', 'A': '\ufffd'}]
    >>> sorted(p.faults.items())
    [('bad_header', 1), ('non_utf8', 1)]
    """

    __slots__ = ("_current", "_partial", "_skipping", "banner", "faults", "max_headers", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE, max_headers: int = DEFAULT_MAX_HEADERS) -> None:
        self.max_line = max_line
        self.max_headers = max_headers
        self.banner: str | None = None
        self.faults: Counter[str] = Counter()
        self._partial = bytearray()  # the unfinished last line (at most max_line bytes)
        self._current: dict[str, str] = {}  # headers of the unfinished message
        self._skipping = False  # inside an over-long line: drop bytes until its end

    def feed(self, data: bytes) -> list[dict[str, str]]:
        """Consume ``data``; return the messages it completes, in order."""
        if len(data) <= _SLICE:
            return self._feed(data)
        out: list[dict[str, str]] = []
        view = memoryview(data)
        for start in range(0, len(data), _SLICE):  # bounded working set: a burst costs the same per event
            out += self._feed(bytes(view[start : start + _SLICE]))
        return out

    def _feed(self, data: bytes) -> list[dict[str, str]]:
        if self._skipping:
            end = data.find(b"\n")
            if end < 0:
                return []
            data = data[end + 1 :]
            self._skipping = False
        last = data.rfind(b"\n")
        if last < 0:
            self._keep_partial(data)
            return []
        complete = bytes(self._partial) + data[: last + 1] if self._partial else data[: last + 1]
        self._partial = bytearray()
        self._keep_partial(data[last + 1 :])
        return self._parse_lines(complete)

    def close(self) -> None:
        """End of stream: count an unfinished message or line as ``truncated`` and forget it."""
        if self._current or self._partial or self._skipping:
            self.faults["truncated"] += 1
        self._current = {}
        self._partial = bytearray()
        self._skipping = False

    def take_faults(self) -> Counter[str]:
        """Return the faults counted since the last call and reset the counter."""
        faults, self.faults = self.faults, Counter()
        return faults

    def _keep_partial(self, tail: bytes) -> None:
        if len(self._partial) + len(tail) > self.max_line:
            self.faults["line_too_long"] += 1
            self._partial = bytearray()
            self._skipping = True
        else:
            self._partial += tail

    def _decode(self, complete: bytes) -> str:
        try:
            return complete.decode("utf-8")
        except UnicodeDecodeError:
            text = complete.decode("utf-8", "replace")
            self.faults["non_utf8"] += text.count(_REPLACEMENT) - complete.count(_REPLACEMENT.encode())
            return text

    def _parse_lines(self, complete: bytes) -> list[dict[str, str]]:
        text = self._decode(complete)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text[:-1].split("\n")
        if len(complete) > self.max_line and max(map(len, lines)) > self.max_line:
            kept = [line for line in lines if len(line) <= self.max_line]
            self.faults["line_too_long"] += len(lines) - len(kept)
            lines = kept
        out: list[dict[str, str]] = []
        current = self._current
        for line in lines:
            if not line:
                if current:
                    out.append(current)
                    current = {}
                continue
            key, sep, value = line.partition(": ")
            if sep and key:
                if key in current:
                    current[key] += "\n" + value
                elif len(current) < self.max_headers:
                    current[key] = value
                else:
                    self.faults["too_many_headers"] += 1
            elif not current and line.startswith(BANNER_PREFIX):
                self.banner = line
            else:
                self.faults["bad_header"] += 1
        self._current = current
        return out


def parse_messages(data: bytes) -> list[dict[str, str]]:
    """Parse a whole byte string; an unfinished last message is dropped.

    >>> parse_messages(b"Event: Newchannel\\r\\nUniqueid: 1.1\\r\\n\\r\\nEvent: Hang")
    [{'Event': 'Newchannel', 'Uniqueid': '1.1'}]
    """
    return AmiParser().feed(data)
