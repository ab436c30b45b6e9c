"""The AMI parser on real traces, on chunks cut anywhere, and on malformed input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.ami.parser import AmiParser, parse_messages
from tests.ami.trace import Trace

FRAME = b"Event: Newchannel\r\nChannel: PJSIP/m1-00000017\r\nUniqueid: 1.23\r\n\r\n"


def _feed_split(data: bytes, cuts: list[int]) -> tuple[list[dict[str, str]], AmiParser]:
    parser = AmiParser()
    out: list[dict[str, str]] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        out += parser.feed(data[start:cut])
        start = cut
    return out, parser


def test_every_real_trace_parses_to_its_raw_messages(ami_traces: list[Trace]) -> None:
    for trace in ami_traces:
        raw = trace.banner + b"Response: Success\r\n\r\n" + b"".join(trace.messages)
        parser = AmiParser()
        messages = parser.feed(raw)
        assert parser.banner == trace.banner.decode().strip()
        assert len(messages) == len(trace.messages) + 1, trace.name
        assert not parser.faults, trace.name
        for message, chunk in zip(messages[1:], trace.messages, strict=True):
            first = chunk.split(b"\r\n", 1)[0].decode()
            assert "{}: {}".format(*next(iter(message.items()))) == first


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_splitting_the_bytes_anywhere_yields_the_same_messages(
    ami_traces: list[Trace], data: st.DataObject
) -> None:
    trace = data.draw(st.sampled_from(ami_traces))
    raw = trace.banner + b"".join(trace.messages[:40])
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=30))
    assert _feed_split(raw, cuts)[0] == parse_messages(raw)


@given(
    headers=st.lists(
        st.tuples(
            st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
            st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=30),
        ),
        min_size=1,
        max_size=8,
    ),
    cut=st.integers(0, 10_000),
    crlf=st.booleans(),
)
def test_generated_frames_round_trip(headers: list[tuple[str, str]], cut: int, crlf: bool) -> None:
    eol = "\r\n" if crlf else "\n"
    raw = ("".join(f"{k}: {v}{eol}" for k, v in headers) + eol).encode()
    expected: dict[str, str] = {}
    for key, value in headers:
        expected[key] = f"{expected[key]}\n{value}" if key in expected else value
    messages, parser = _feed_split(raw, [min(cut, len(raw))])
    assert messages == [expected]
    assert not parser.faults


def test_lf_only_and_mixed_line_ends() -> None:
    messages = parse_messages(b"Event: A\nX: 1\r\n\nEvent: B\r\n\r\n")
    assert messages == [{"Event": "A", "X": "1"}, {"Event": "B"}]


def test_non_utf8_bytes_are_replaced_and_counted() -> None:
    parser = AmiParser()
    [message] = parser.feed(b"Event: Newchannel\r\nCallerIDName: \xd0\x98\xff\xfe\r\n\r\n")
    assert message["CallerIDName"] == "И\ufffd\ufffd"
    assert parser.faults["non_utf8"] == 2


def test_a_multibyte_character_cut_between_feeds_is_not_a_fault() -> None:
    raw = "Event: X\r\nCallerIDName: Иван\r\n\r\n".encode()
    cut = raw.index("И".encode()) + 1
    messages, parser = _feed_split(raw, [cut])
    assert messages == [{"Event": "X", "CallerIDName": "Иван"}]
    assert not parser.faults


def test_a_megabyte_header_line_is_dropped_and_counted_in_any_chunking() -> None:
    huge = b"Event: Newchannel\r\nJunk: " + b"x" * 1_000_000 + b"\r\nUniqueid: 1.1\r\n\r\n" + FRAME
    for cuts in ([], [100], list(range(0, len(huge), 4096))):
        messages, parser = _feed_split(huge, cuts)
        assert messages == [{"Event": "Newchannel", "Uniqueid": "1.1"}, parse_messages(FRAME)[0]]
        assert parser.faults == {"line_too_long": 1}
        assert len(parser._partial) <= parser.max_line


def test_bad_header_lines_and_garbage_are_counted() -> None:
    parser = AmiParser()
    messages = parser.feed(b"\x00\x01garbage\r\nEvent: A\r\nno separator\r\n: empty key\r\n\r\n" + FRAME)
    assert messages == [{"Event": "A"}, parse_messages(FRAME)[0]]
    assert parser.faults == {"bad_header": 3}


def test_too_many_headers_are_bounded() -> None:
    parser = AmiParser(max_headers=3)
    [message] = parser.feed(b"".join(b"H%d: v\r\n" % i for i in range(10)) + b"\r\n")
    assert list(message) == ["H0", "H1", "H2"]
    assert parser.faults == {"too_many_headers": 7}


def test_truncated_frame_counted_at_close_and_not_leaked_into_next_stream() -> None:
    parser = AmiParser()
    assert parser.feed(FRAME + b"Event: Hangup\r\nChann") == [parse_messages(FRAME)[0]]
    parser.close()
    assert parser.take_faults() == {"truncated": 1}
    assert parser.feed(FRAME) == [parse_messages(FRAME)[0]]
    assert not parser.faults
