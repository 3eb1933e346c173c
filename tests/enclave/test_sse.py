"""The SSE parser: whole events with their exact bytes, however the stream is split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enclave import sse
from enclave.sse import DONE, EventTooLarge, SseEvent, SseParser, data_event

STREAM = (
    b'event: message_start\ndata: {"a": 1}\n\n'
    b": a comment\n\n"
    b"data: line one\r\ndata: line two\r\n\r\n"
    b"data:no-space\r\rdata: [DONE]\n\n"
)


def parse_all(chunks: list[bytes]) -> tuple[list[SseEvent], bytes]:
    parser = SseParser()
    events: list[SseEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events, parser.leftover()


def test_fields_and_line_endings() -> None:
    events, leftover = parse_all([STREAM])
    assert leftover == b""
    assert [(e.event, e.data) for e in events] == [
        ("message_start", b'{"a": 1}'),
        (None, None),
        (None, b"line one\nline two"),
        (None, b"no-space"),
        (None, b"[DONE]"),
    ]
    assert b"".join(e.raw for e in events) == STREAM


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    assert parse_all(split(STREAM, cuts)) == parse_all([STREAM])


@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.lists(st.integers(min_value=0, max_value=500), max_size=8),
)
def test_data_round_trips(lines: list[bytes], eol: bytes, cuts: list[int]) -> None:
    wire = b"".join(b"data: " + line + eol + eol for line in lines)
    events, leftover = parse_all(split(wire, cuts))
    assert leftover == b""
    assert [e.data for e in events] == lines
    assert b"".join(e.raw for e in events) == wire


def test_an_unfinished_event_stays_behind() -> None:
    events, leftover = parse_all([b'data: 1\n\ndata: {"half":'])
    assert [e.data for e in events] == [b"1"]
    assert leftover == b'data: {"half":'


def test_a_trailing_cr_waits_for_the_next_byte() -> None:
    parser = SseParser()
    assert parser.feed(b"data: x\r\n\r") == []
    events = parser.feed(b"\ndata: y\n\n")
    assert [e.raw for e in events] == [b"data: x\r\n\r\n", b"data: y\n\n"]


def test_encoding() -> None:
    assert data_event(b"{}") == b"data: {}\n\n"
    assert data_event(b"{}", "veritee-receipt") == b"event: veritee-receipt\ndata: {}\n\n"
    assert DONE == b"data: [DONE]\n\n"


def test_an_event_that_never_ends_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "MAX_EVENT", 100)
    parser = SseParser()
    assert parser.feed(b"data: " + b"x" * 90) == []
    with pytest.raises(EventTooLarge):
        parser.feed(b"x" * 20)
