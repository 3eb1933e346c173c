"""The stream tap: whole events out at once, [DONE] and the receipt held, hashes right."""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.stream_tap import StreamTap, split_events

CHUNKS = [b'data: {"id":"c1","choices":[{"delta":{"content":"Hel"}}]}\n\n',
          b'data: {"id":"c1","choices":[{"delta":{"content":"lo"}}]}\n\n']  # fmt: skip
DONE = b"data: [DONE]\n\n"
RECEIPT = b'{"body":{"seq":1},"sig":"00"}'
RECEIPT_EVENT = b"event: veritee-receipt\ndata: " + RECEIPT + b"\n\n"
STREAM = b"".join(CHUNKS) + DONE + RECEIPT_EVENT


def feed_all(tap: StreamTap, pieces: list[bytes]) -> list[bytes]:
    return [tap.feed(piece) for piece in pieces]


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def test_events_go_out_as_soon_as_they_are_whole() -> None:
    tap = StreamTap()
    assert tap.feed(CHUNKS[0][:10]) == b""
    assert tap.feed(CHUNKS[0][10:]) == CHUNKS[0]
    assert tap.feed(CHUNKS[1] + DONE + RECEIPT_EVENT) == CHUNKS[1]
    assert tap.held == DONE
    assert tap.receipt == RECEIPT
    assert tap.receipt_event == RECEIPT_EVENT
    assert tap.response_sha256 == hashlib.sha256(b"".join(CHUNKS) + DONE).hexdigest()
    assert not tap.extra


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_result(points: list[int]) -> None:
    tap = StreamTap()
    out = b"".join(feed_all(tap, cut(STREAM, points)))
    assert out == b"".join(CHUNKS)
    assert tap.held == DONE
    assert tap.receipt == RECEIPT
    assert tap.response_sha256 == hashlib.sha256(b"".join(CHUNKS) + DONE).hexdigest()


@given(st.lists(st.integers(0, 400), max_size=12), st.sampled_from([b"\r\n", b"\r", b"\n"]))
def test_any_line_ending(points: list[int], eol: bytes) -> None:
    stream = STREAM.replace(b"\n", eol)
    tap = StreamTap()
    out = b"".join(feed_all(tap, cut(stream, points))) + tap.end()
    assert out == b"".join(CHUNKS).replace(b"\n", eol)
    assert tap.receipt == RECEIPT
    assert tap.held == DONE.replace(b"\n", eol)


def test_a_cut_stream_keeps_no_half_event_and_has_no_receipt() -> None:
    tap = StreamTap()
    out = tap.feed(CHUNKS[0] + CHUNKS[1][:20])
    assert out == CHUNKS[0]
    assert tap.receipt is None
    assert tap.unfinished == CHUNKS[1][:20]


def test_bytes_after_the_receipt_are_noticed_and_not_relayed() -> None:
    tap = StreamTap()
    assert tap.feed(STREAM + b"data: late\n\n") == b"".join(CHUNKS)
    assert tap.extra
    assert tap.feed(b"data: later\n\n") == b""


def test_error_events_before_done_are_relayed() -> None:
    error = b'data: {"error":{"message":"cut","type":"upstream_error"}}\n\n'
    tap = StreamTap()
    assert tap.feed(CHUNKS[0] + error + DONE + RECEIPT_EVENT) == CHUNKS[0] + error
    assert tap.held == DONE


def test_split_events_reads_fields() -> None:
    events, rest = split_events(b"event: x\ndata: a\ndata: b\n\n: comment\n\ndata:c\r\n\r\nda")
    assert [(name, data) for _raw, name, data in events] == [
        (b"x", b"a\nb"),
        (None, None),
        (None, b"c"),
    ]
    assert rest == b"da"
