"""Parsing ``x-sim`` / ``[[sim:...]]`` directives."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veritee.upstream_sim import DirectiveError, Directives, Fault, parse_directives
from veritee.upstream_sim.directives import extract_markers


def test_every_key() -> None:
    parsed = parse_directives(
        " latency_ms=5, chunks=3,chunk_delay_ms=7 ,fault=stall-after,"
        "hold=a.B-9_,retry_after=2,words=4"
    )
    assert parsed == Directives(
        latency_ms=5,
        chunks=3,
        chunk_delay_ms=7,
        fault=Fault.STALL_AFTER,
        hold="a.B-9_",
        retry_after=2,
        words=4,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("latency=5", "latency"),
        ("chunks=0", "chunks"),
        ("chunks=-1", "chunks"),
        ("chunks=x", "chunks"),
        ("latency_ms=600001", "latency_ms"),
        ("fault=teapot", "fault"),
        ("hold=a b", "hold"),
        ("hold=" + "x" * 129, "hold"),
        ("chunks", "chunks"),
        ("chunks=", "chunks"),
    ],
)
def test_bad_directives_name_the_key(text: str, key: str) -> None:
    with pytest.raises(DirectiveError) as caught:
        parse_directives(text)
    assert caught.value.key == key


def test_empty_is_nothing() -> None:
    assert parse_directives("") == Directives()
    assert parse_directives(" , ") == Directives()


def test_markers_are_removed_and_the_later_one_wins() -> None:
    text, found = extract_markers("[[sim:chunks=2]] hello [[sim:chunks=3,fault=500]] ")
    assert text == "hello"
    assert found == Directives(chunks=3, fault=Fault.SERVER_ERROR)


def test_text_without_markers_is_untouched() -> None:
    assert extract_markers("  [[not a marker]] ") == ("  [[not a marker]] ", Directives())


def test_merge_keeps_unset_keys() -> None:
    base = Directives(chunks=2, latency_ms=9)
    assert base.merged(Directives(chunks=5)) == Directives(chunks=5, latency_ms=9)


_VALUES = {
    "latency_ms": st.integers(0, 600_000),
    "chunks": st.integers(1, 10_000),
    "chunk_delay_ms": st.integers(0, 600_000),
    "fault": st.sampled_from(list(Fault)),
    "hold": st.from_regex(r"[A-Za-z0-9_.\-]{1,20}", fullmatch=True),
    "retry_after": st.integers(0, 86_400),
    "words": st.integers(0, 100_000),
}


@given(st.fixed_dictionaries({}, optional=_VALUES))
def test_round_trip(values: dict[str, object]) -> None:
    text = ",".join(f"{key}={value}" for key, value in values.items())
    assert parse_directives(text) == Directives(**values)  # type: ignore[arg-type]
    assert extract_markers(f"q [[sim:{text}]]") == ("q", Directives(**values))  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    with contextlib.suppress(DirectiveError):
        parse_directives(text)
